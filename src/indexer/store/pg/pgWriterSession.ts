import pg from "pg";
import { IndexerWriterBusyError, IndexerWriterLostError } from "../../errors.js";
import { LOCK_INDEXER_WRITER } from "./pgIndexerSchema.js";

export interface PgWriterSession {
  /** The session holding the lock: every write goes through it, so none can outlive the lock. */
  readonly client: pg.Client;
  /** Runs `work` in one transaction on the session (one at a time); rolls back and rethrows on error. */
  transaction<T>(work: (client: pg.Client) => Promise<T>, onRollback?: () => void): Promise<T>;
  release(): Promise<void>;
}

/**
 * Takes the indexer's writer lock: a session-level PostgreSQL advisory lock on a dedicated
 * connection, held for the process's life (the server drops it the moment the session ends, so
 * a killed writer frees it at once). All writes run on that session, so when it is lost
 * (database restart, network) writing stops with {@link IndexerWriterLostError} instead of
 * racing a writer that took over. A second writer is refused with {@link IndexerWriterBusyError}.
 * READ COMMITTED transactions suffice: this session is the only one that writes.
 *
 * @example
 * const session = await acquirePgWriterSession({ url, options: "-c search_path=twei_indexer" })
 */
export async function acquirePgWriterSession(config: { url: string; options: string }): Promise<PgWriterSession> {
  const client = new pg.Client({ connectionString: config.url, options: config.options, keepAlive: true });
  let lost: unknown;
  client.on("error", (error) => {
    lost = error;
  });
  client.on("end", () => {
    lost ??= new Error("the connection ended");
  });
  await client.connect();
  const got = (await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [LOCK_INDEXER_WRITER]))
    .rows[0]?.ok;
  if (!got) {
    await client.end().catch(() => undefined);
    throw new IndexerWriterBusyError(
      "another indexer process is syncing this database (it holds the PostgreSQL writer lock): run one writer, and start the others with INDEXER_SYNC=false",
    );
  }
  let queue: Promise<unknown> = Promise.resolve();
  const lostError = () =>
    new IndexerWriterLostError("the indexer's locked database session ended: restart the process to sync again", {
      cause: lost,
    });
  return {
    client,
    transaction<T>(work: (client: pg.Client) => Promise<T>, onRollback?: () => void): Promise<T> {
      const run = async () => {
        if (lost !== undefined) throw lostError();
        try {
          await client.query("BEGIN");
          const result = await work(client);
          await client.query("COMMIT");
          return result;
        } catch (error) {
          await client.query("ROLLBACK").catch(() => undefined);
          onRollback?.();
          throw lost !== undefined ? lostError() : error;
        }
      };
      const result = queue.then(run, run);
      queue = result.catch(() => undefined);
      return result;
    },
    async release() {
      await queue;
      if (lost === undefined) await client.query("SELECT pg_advisory_unlock_all()").catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}
