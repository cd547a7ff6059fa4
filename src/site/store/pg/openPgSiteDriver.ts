import type pg from "pg";
import { createPgPool } from "../../../storage/createPgPool.js";
import { applyPgMigrations } from "../../../storage/pgMigrations.js";
import { pgTransaction } from "../../../storage/pgTransaction.js";
import { SITE_MIGRATIONS, SiteSchemaTooNewError } from "../siteSchema.js";
import type { SqlDriver, SqlQueries, SqlValue } from "../sqlDriver.js";

/** The schema the site kit's tables live in. */
export const PG_SITE_SCHEMA = "twei_site";
/** Advisory lock key for the site kit's migrations ("twei" + 0x5173). */
const LOCK_SITE_MIGRATE = 0x7477_6569_5173n;

/** `?` placeholders to PostgreSQL's `$1, $2, …` (the site's SQL has no `?` inside literals). */
const numbered = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

const queriesOn = (target: pg.Pool | pg.ClientBase): SqlQueries => ({
  all: async (sql, params = []) => (await target.query(numbered(sql), params as SqlValue[])).rows,
  get: async (sql, params = []) => (await target.query(numbered(sql), params as SqlValue[])).rows[0],
  run: async (sql, params = []) => (await target.query(numbered(sql), params as SqlValue[])).rowCount ?? 0,
});

/**
 * Opens the site kit's store on PostgreSQL (`DATABASE_URL`), in schema `twei_site`, applying
 * missing migrations under an advisory lock (src/storage/pgMigrations.ts), so any number of
 * site processes share it.
 *
 * @example
 * const driver = await openPgSiteDriver({ url: process.env.DATABASE_URL! })
 */
export async function openPgSiteDriver(options: { url: string; poolSize?: number }): Promise<SqlDriver> {
  const pool = createPgPool({
    connectionString: options.url,
    options: `-c search_path=${PG_SITE_SCHEMA}`,
    max: options.poolSize ?? 8,
    keepAlive: true,
  });
  try {
    const client = await pool.connect();
    try {
      await applyPgMigrations(client, {
        migrations: SITE_MIGRATIONS,
        lockKey: LOCK_SITE_MIGRATE,
        prepare: `CREATE SCHEMA IF NOT EXISTS ${PG_SITE_SCHEMA}`,
        tooNew: (found, known) => {
          throw new SiteSchemaTooNewError(
            `the site database has schema version ${found}, newer than this site kit's ${known}: run a newer one`,
          );
        },
      });
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  let closed = false;
  return {
    engine: "postgres",
    forUpdate: " FOR UPDATE",
    ...queriesOn(pool),
    tx: (work) => pgTransaction(pool, (client) => work(queriesOn(client))),
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
