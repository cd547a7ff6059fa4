import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { toHex } from "viem";
import { postIdFor } from "../../core/postId.js";
import { sqliteTransaction } from "../../storage/sqliteTransaction.js";
import { MIGRATIONS, SCHEMA, SCHEMA_VERSION } from "./sqliteSchema.js";

/** The relayer's open database, shared by the parts of the SQLite store. */
export interface SqliteDatabase {
  readonly db: DatabaseSync;
  /** The statement for `sql`, prepared on its first use. */
  q(sql: string): StatementSync;
}

/** The database was written by a newer relayer, whose schema this one does not know. */
export class SchemaTooNewError extends Error {
  override name = "SchemaTooNewError";
}

/** The ledger's post id as the posts table keeps it. */
export const chainPostIdKey = (postId: bigint) => toHex(postId, { size: 8 });

/** Brings a database of an older schema version up to SCHEMA_VERSION, one step per transaction. */
function migrate(db: DatabaseSync): void {
  const hasEvents = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get();
  if (!hasEvents) return; // a new database: SCHEMA creates the current version
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value?: string } | undefined;
  // Version 1 did not record its version.
  const version = row?.value === undefined ? 1 : Number(row.value);
  if (version > SCHEMA_VERSION)
    throw new SchemaTooNewError(
      `the relayer database has schema version ${version}, newer than this relayer's ${SCHEMA_VERSION}: run a newer relayer`,
    );
  for (const step of MIGRATIONS) {
    if (step.to <= version) continue;
    sqliteTransaction(db, () => {
      db.exec(step.sql);
      if (step.to === 2) {
        const update = db.prepare("UPDATE posts SET chain_post_id = ? WHERE site_id = ? AND post_id = ?");
        for (const post of db.prepare("SELECT site_id, post_id FROM posts").all() as {
          site_id: number;
          post_id: string;
        }[])
          update.run(chainPostIdKey(postIdFor(Number(post.site_id), post.post_id)), post.site_id, post.post_id);
        db.exec("UPDATE batches SET included_at = settled_at WHERE status = 'settled'");
      }
      db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(step.to));
    });
  }
}

/**
 * Opens (creating if need be) the relayer's database with its schema, migrating an older one,
 * for createSqliteStore (whose comment says why WAL and full synchronous commits).
 *
 * @example
 * const { db, q } = createSqliteDatabase({ path: "data/relayer/relayer.sqlite" })
 */
export function createSqliteDatabase(options: { path: string }): SqliteDatabase {
  if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
  const db = new DatabaseSync(options.path);
  try {
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
    migrate(db);
    db.exec(SCHEMA);
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
  } catch (error) {
    db.close();
    throw error;
  }

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
