import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgres, type DevPostgres } from "../../../src/devnet/startPostgres.js";
import type { IndexerStore } from "../../../src/indexer/store/IndexerStore.js";
import { createSqliteStore } from "../../../src/indexer/store/createSqliteStore.js";
import { openPgIndexerStore } from "../../../src/indexer/store/pg/openPgIndexerStore.js";
import type { StoreKind } from "../../helpers/postgres.js";

/** One indexer database of a test: a SQLite file, or a fresh database of the suite's PostgreSQL. */
export interface IndexerTestDatabase {
  readonly kind: StoreKind;
  /** The SQLite file (also set on PostgreSQL, unused there). */
  readonly dbPath: string;
  readonly databaseUrl: string | undefined;
  /** The environment an indexer process or the report CLI needs to use this database. */
  readonly env: Record<string, string>;
  /** The report CLI's arguments that select this database (`--db` on SQLite, none on PostgreSQL). */
  readonly cliArgs: string[];
  /** Opens the store as the syncing indexer does (`writer`, the default) or as a reader. */
  open(options?: { writer?: boolean }): Promise<IndexerStore>;
}

/**
 * The indexer suites' databases on one store: for PostgreSQL one server per suite (starting one
 * costs seconds) and a fresh database per `fresh` call. Call `start` in `before`, `stop` in `after`.
 *
 * @example
 * const stores = indexerTestStores("postgres"); before(() => stores.start()); const db = await stores.fresh("reorg");
 */
export function indexerTestStores(kind: StoreKind) {
  let server: DevPostgres | undefined;
  let dir: string | undefined;
  let made = 0;
  return {
    kind,
    async start() {
      dir = await mkdtemp(join(tmpdir(), "twei-indexer-"));
      if (kind === "postgres") server = await startPostgres();
    },
    async stop() {
      await server?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
    async fresh(label: string): Promise<IndexerTestDatabase> {
      if (dir === undefined) throw new Error("call start() first");
      const n = ++made;
      const dbPath = join(dir, `${label}-${n}.sqlite`);
      const databaseUrl = server ? await server.createDatabase(`${label.replace(/\W/g, "_")}_${n}`) : undefined;
      return {
        kind,
        dbPath,
        databaseUrl,
        env: databaseUrl ? { DATABASE_URL: databaseUrl } : { INDEXER_DB_PATH: dbPath },
        cliArgs: databaseUrl ? [] : ["--db", dbPath],
        open: async ({ writer = true } = {}) =>
          databaseUrl
            ? openPgIndexerStore({ url: databaseUrl, writer })
            : createSqliteStore({ path: dbPath, readOnly: !writer }),
      };
    },
  };
}
