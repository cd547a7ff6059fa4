import { join } from "node:path";
import pg from "pg";
import { startPostgres, type DevPostgres } from "../../../src/devnet/startPostgres.js";
import type { Relayer, RelayerConfig } from "../../../src/relayer/createRelayer.js";
import type { RelayerStore } from "../../../src/relayer/storage/relayerStore.js";
import { createPgStore } from "../../../src/relayer/storage/pg/pgStore.js";
import { createSqliteStore } from "../../../src/relayer/storage/sqliteStore.js";
import type { StoreKind } from "../../helpers/postgres.js";
import { removeDir, tempDir, waitFor } from "./testRelayer.js";

/** One test's relayer database: a data directory, and on PostgreSQL a fresh database of the suite's server. */
export interface TestStore {
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  /** To spread into a relayer's config (and `addSite`'s options). */
  readonly config: { databaseUrl?: string };
  /** To pass to a relayer process (`DATABASE_URL`). */
  readonly env: Record<string, string>;
  /** Opens the store as the relayer would (to write past its checks); close it after. */
  open(): RelayerStore;
  /**
   * A relayer's config (store included) for settlement the test drives with `batcher.tick()`.
   * SQLite: `settle: false`. PostgreSQL: only the lease holder writes batches and sends webhooks,
   * so the relayer settles, with a loop that never passes again by itself; see `handReady`.
   */
  byHand(overrides?: Partial<RelayerConfig>): Partial<RelayerConfig>;
}

/** Waits until a relayer started with `byHand` config is ready to be driven: it holds the lease, its first pass is over. */
export async function handReady(relayer: Relayer) {
  if (!relayer.store.lease) return;
  await waitFor("the submitter lease", async () => (relayer.leading ? true : undefined));
  await relayer.batcher.tick(); // joins the first pass, which started on taking the lease
}

/**
 * The relayer suites' databases on one store: for PostgreSQL one server per suite (starting one
 * costs seconds) and a fresh database per test. Call `start` in `before`, `stop` in `after`.
 *
 * @example
 * const stores = testStores("postgres"); before(() => stores.start()); const { dataDir, config } = await stores.fresh("cap");
 */
export function testStores(kind: StoreKind) {
  let server: DevPostgres | undefined;
  const dirs: string[] = [];
  let made = 0;
  return {
    kind,
    async start() {
      if (kind === "postgres") server = await startPostgres();
    },
    async stop() {
      await server?.stop();
      for (const dir of dirs) await removeDir(dir);
    },
    async fresh(label: string): Promise<TestStore> {
      const dataDir = await tempDir(label);
      dirs.push(dataDir);
      const databaseUrl = server
        ? await server.createDatabase(`${label.replace(/[^a-z0-9]/gi, "_").toLowerCase()}_${++made}`)
        : undefined;
      return {
        dataDir,
        databaseUrl,
        config: databaseUrl ? { databaseUrl } : {},
        env: databaseUrl ? { DATABASE_URL: databaseUrl } : {},
        byHand: (overrides = {}) =>
          databaseUrl
            ? {
                databaseUrl,
                ...overrides,
                settle: true,
                batcher: { ...overrides.batcher, intervalMs: 3_600_000 },
                leaseRetryMs: 200,
              }
            : { ...overrides, settle: false },
        open: () =>
          databaseUrl
            ? createPgStore({ url: databaseUrl })
            : createSqliteStore({ path: join(dataDir, "relayer.sqlite") }),
      };
    },
  };
}

/** Runs one statement on a PostgreSQL test database (what the SQLite tests do with DatabaseSync). */
export async function pgQuery(url: string, sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}
