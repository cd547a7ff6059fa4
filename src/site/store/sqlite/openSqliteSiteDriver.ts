import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { SITE_MIGRATIONS, SITE_SCHEMA_VERSION, SiteSchemaTooNewError } from "../siteSchema.js";
import type { SqlDriver, SqlQueries, SqlRow, SqlValue } from "../sqlDriver.js";

/**
 * Opens (creating if need be) the site kit's SQLite database and applies its migrations.
 * WAL with a busy timeout, so several site processes on one machine share the file; writes
 * that read first run in `BEGIN IMMEDIATE` transactions (one writer at a time across processes).
 * Within a process, statements on one file queue behind an open transaction (so none lands
 * inside another request's transaction, and a second connection to the file never blocks the
 * thread waiting for a lock the first one holds across an await).
 *
 * @example
 * const driver = openSqliteSiteDriver({ path: "data/site/site.sqlite" })
 */
export function openSqliteSiteDriver(options: { path: string }): SqlDriver {
  if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
  const db = new DatabaseSync(options.path);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
  migrate(db);
  const statements = new Map<string, StatementSync>();
  const q = (sql: string): StatementSync => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const args = (params: readonly SqlValue[] = []) => params as SQLInputValue[];
  const direct: SqlQueries = {
    all: async (sql, params) => q(sql).all(...args(params)) as SqlRow[],
    get: async (sql, params) => q(sql).get(...args(params)) as SqlRow | undefined,
    run: async (sql, params) => Number(q(sql).run(...args(params)).changes),
  };
  // One transaction at a time per file in this process; plain statements wait for it to end.
  const key = options.path === ":memory:" ? Symbol("memory") : resolve(options.path);
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const result = (queues.get(key) ?? Promise.resolve()).then(work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    queues.set(key, tail);
    void tail.then(() => queues.get(key) === tail && queues.delete(key));
    return result;
  };
  let closed = false;
  return {
    engine: "sqlite",
    forUpdate: "",
    all: (sql, params) => serial(() => direct.all(sql, params)),
    get: (sql, params) => serial(() => direct.get(sql, params)),
    run: (sql, params) => serial(() => direct.run(sql, params)),
    tx: (work) =>
      serial(async () => {
        db.exec("BEGIN IMMEDIATE");
        try {
          const result = await work(direct);
          db.exec("COMMIT");
          return result;
        } catch (error) {
          if (db.isTransaction) db.exec("ROLLBACK");
          throw error;
        }
      }),
    async close() {
      if (closed) return;
      closed = true;
      await serial(async () => db.close());
    },
  };
}

/** The queue of each open SQLite file in this process. */
const queues = new Map<string | symbol, Promise<void>>();

function migrate(db: DatabaseSync): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
  const applied = new Set(
    (db.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map((r) => Number(r.version)),
  );
  const newest = Math.max(0, ...applied);
  if (newest > SITE_SCHEMA_VERSION)
    throw new SiteSchemaTooNewError(
      `the site database has schema version ${newest}, newer than this site kit's ${SITE_SCHEMA_VERSION}: run a newer one`,
    );
  for (const step of SITE_MIGRATIONS) {
    if (applied.has(step.version)) continue;
    db.exec("BEGIN IMMEDIATE");
    try {
      // Another process may have applied it while this one waited for the lock.
      if (!db.prepare("SELECT 1 FROM schema_migrations WHERE version = ?").get(step.version)) {
        db.exec(step.sql);
        db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)").run(step.version, Date.now());
      }
      db.exec("COMMIT");
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw error;
    }
  }
}
