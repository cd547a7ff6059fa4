import type pg from "pg";
import { createPgPool } from "../../../storage/createPgPool.js";
import type { Address } from "viem";
import { applyPgMigrations } from "../../../storage/pgMigrations.js";
import { pgTransaction } from "../../../storage/pgTransaction.js";
import { ReadOnlyStoreError, StoreMismatchError } from "../../errors.js";
import type { IndexerStore, StoreIdentity } from "../IndexerStore.js";
import { pgCommitRange, setMeta } from "./pgCommitRange.js";
import { LOCK_INDEXER_MIGRATE, PG_INDEXER_MIGRATIONS, PG_INDEXER_SCHEMA } from "./pgIndexerSchema.js";
import { createPgReads, type PgQuery } from "./pgReads.js";
import type { Row } from "../storeRows.js";
import { createAccountIdCache } from "../accountIdCache.js";
import { pgRollback } from "./pgRollback.js";
import {
  acquireReacquiringWriterSession,
  type ReacquiringWriterSession,
  type WriterLockEvent,
} from "./reacquiringWriterSession.js";
import type { PgAccountIds } from "./pgWriteCache.js";

export interface OpenPgIndexerStoreParameters {
  /** postgres://… (the indexer's tables go in the `twei_indexer` schema of that database). */
  url: string;
  /** The one process that syncs: takes the writer lock (refused if held). False: reads only, no lock. */
  writer: boolean;
  /** Connections for reads (the HTTP API and reports). */
  poolSize?: number;
  /** The writer lock lost, taken again, or refused (another writer holds it): for the log. */
  onWriterLock?: (event: WriterLockEvent) => void;
}

const queryOn =
  (target: pg.Pool | pg.ClientBase): PgQuery =>
  async (text, values = []) =>
    (await target.query(text, values)).rows as Row[];

/**
 * The indexer's store on PostgreSQL. A writer holds the writer lock and writes only through
 * that locked session (pgWriterSession.ts); when the session is lost (a database restart) the
 * next write takes the lock again on a new one (reacquiringWriterSession.ts), or is refused
 * while another writer holds it. Any number of read-only processes
 * serve reports from the same database through their own pools, without the lock. Every
 * process applies missing migrations at start (under an advisory lock), so readers may start
 * before the writer.
 *
 * @example
 * const store = await openPgIndexerStore({ url: process.env.DATABASE_URL, writer: true })
 */
export async function openPgIndexerStore(parameters: OpenPgIndexerStoreParameters): Promise<IndexerStore> {
  const options = `-c search_path=${PG_INDEXER_SCHEMA}`;
  const pool = createPgPool({
    connectionString: parameters.url,
    options,
    max: parameters.poolSize ?? 8,
    keepAlive: true,
  });
  // Account ids by address, remembered across commits (forgotten when one rolls back: the ids
  // it created are gone with it, and when the writer lock is taken again: another writer may
  // have written meanwhile).
  const knownIds = createAccountIdCache();
  let writer: ReacquiringWriterSession | undefined;
  try {
    if (parameters.writer)
      writer = await acquireReacquiringWriterSession({
        url: parameters.url,
        options,
        onReacquired: knownIds.forget,
        ...(parameters.onWriterLock === undefined ? {} : { onEvent: parameters.onWriterLock }),
      });
    const client = writer?.client ?? (await pool.connect());
    try {
      await applyPgMigrations(client, {
        migrations: PG_INDEXER_MIGRATIONS,
        lockKey: LOCK_INDEXER_MIGRATE,
        prepare: `CREATE SCHEMA IF NOT EXISTS ${PG_INDEXER_SCHEMA}`,
        tooNew: (found, known) => {
          throw new StoreMismatchError(
            `the indexer database has schema version ${found}, newer than this indexer's ${known}: run a newer indexer`,
          );
        },
      });
    } finally {
      if (writer === undefined) (client as pg.PoolClient).release();
    }
  } catch (error) {
    await writer?.release();
    await pool.end().catch(() => undefined);
    throw error;
  }

  const reads = createPgReads(queryOn(pool));
  const accountIds =
    (client: pg.ClientBase): PgAccountIds =>
    async (accounts) => {
      const lookup = knownIds.lookup(accounts);
      const { ids, created, unknown } = lookup;
      if (unknown.length === 0) return { ids, created };
      // New accounts come back from the insert; the ones it skipped exist already: read those.
      for (const row of (
        await client.query<{ id: string; address: Address }>(
          `INSERT INTO accounts (address) SELECT unnest($1::text[]) ON CONFLICT (address) DO NOTHING
            RETURNING id, address`,
          [unknown],
        )
      ).rows) {
        lookup.found(row.address, Number(row.id), true);
      }
      const existing = unknown.filter((address) => !ids.has(address));
      if (existing.length > 0)
        for (const row of (
          await client.query<{ id: string; address: Address }>(
            "SELECT id, address FROM accounts WHERE address = ANY($1::text[])",
            [existing],
          )
        ).rows)
          lookup.found(row.address, Number(row.id));
      return { ids, created };
    };
  const writing = <A extends unknown[]>(work: (client: pg.Client, ...args: A) => Promise<void>) => {
    return async (...args: A): Promise<void> => {
      if (writer === undefined)
        throw new ReadOnlyStoreError("this indexer store is read-only (INDEXER_SYNC=false): it never writes");
      await writer.transaction((client) => work(client, ...args), knownIds.forget);
    };
  };

  const store: IndexerStore = {
    ...reads,
    async init(identity: StoreIdentity) {
      const wanted = JSON.stringify({
        chainId: identity.chainId,
        ledger: identity.ledger.toLowerCase(),
        token: identity.token.toLowerCase(),
        deploymentBlock: identity.deploymentBlock.toString(),
      });
      const found = await reads.meta("identity");
      // A reader before the writer's first start has nothing to compare yet.
      if (found === undefined) {
        if (writer !== undefined) await writing((client) => setMeta(client, "identity", wanted))();
      } else if (found !== wanted)
        throw new StoreMismatchError(`the PostgreSQL indexer database indexes another deployment: ${found}`);
    },
    commitRange: writing((client, commit) =>
      pgCommitRange(client, commit, { reads: createPgReads(queryOn(client)), accountIds: accountIds(client) }),
    ),
    rollback: writing((client, to) => pgRollback(client, to, { accountIds: accountIds(client) })),
    pruneBlocks: writing(async (client, below) => {
      await client.query("DELETE FROM blocks WHERE number < $1", [below]);
    }),
    markSynced: writing((client, at: number) => setMeta(client, "synced_at", String(at))),
    snapshot: (work) =>
      pgTransaction(
        pool,
        (client) => {
          // One connection answers one query at a time: queue the reads a report issues together.
          let queue: Promise<unknown> = Promise.resolve();
          const run = queryOn(client);
          return work(
            createPgReads((text, values) => {
              const next = queue.then(() => run(text, values));
              queue = next.catch(() => undefined);
              return next;
            }),
          );
        },
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
      ),
    async close() {
      await writer?.release();
      await pool.end().catch(() => undefined);
    },
  };
  return store;
}
