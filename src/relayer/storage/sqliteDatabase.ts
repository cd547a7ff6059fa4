import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { SCHEMA } from "./sqliteSchema.js";

/** The relayer's open database, shared by the parts of the SQLite store. */
export interface SqliteDatabase {
  readonly db: DatabaseSync;
  /** The statement for `sql`, prepared on its first use. */
  q(sql: string): StatementSync;
}

/**
 * Opens (creating if need be) the relayer's database with its schema, for createSqliteStore
 * (whose comment says why WAL and full synchronous commits).
 *
 * @example
 * const { db, q } = createSqliteDatabase({ path: "data/relayer/relayer.sqlite" })
 */
export function createSqliteDatabase(options: { path: string }): SqliteDatabase {
  if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
  const db = new DatabaseSync(options.path);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
  db.exec(SCHEMA);

  const cache = new Map<string, StatementSync>();
  const q = (sql: string): StatementSync => {
    let statement = cache.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  };
  return { db, q };
}
