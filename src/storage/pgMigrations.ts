import type pg from "pg";

/** One numbered schema step, applied once, in order, in its own transaction. */
export interface PgMigration {
  readonly version: number;
  readonly sql: string;
}

/**
 * Applies the migrations `client`'s database lacks (recorded in `schema_migrations`, which
 * resolves through the session's search_path), under the advisory lock `lockKey` so processes
 * starting together migrate once. Calls `tooNew` (which throws) when the database holds a
 * newer version than `migrations` knows. The caller holds `client` and releases it.
 *
 * @example
 * await applyPgMigrations(client, { migrations, lockKey: 0x7477_6569_1001n, tooNew: (found, known) => { throw … } })
 */
export async function applyPgMigrations(
  client: pg.ClientBase,
  options: {
    migrations: readonly PgMigration[];
    lockKey: bigint;
    /** Runs under the lock first (e.g. `CREATE SCHEMA IF NOT EXISTS …`). */
    prepare?: string;
    tooNew: (found: number, known: number) => never;
  },
): Promise<void> {
  const known = Math.max(...options.migrations.map((m) => m.version));
  await client.query("SELECT pg_advisory_lock($1)", [options.lockKey.toString()]);
  try {
    if (options.prepare !== undefined) await client.query(options.prepare);
    await client.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
    );
    const applied = new Set(
      (await client.query<{ version: number }>("SELECT version FROM schema_migrations")).rows.map((r) => r.version),
    );
    const newest = Math.max(0, ...applied);
    if (newest > known) options.tooNew(newest, known);
    for (const step of options.migrations) {
      if (applied.has(step.version)) continue;
      await client.query("BEGIN");
      try {
        await client.query(step.sql);
        await client.query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", [
          step.version,
          Date.now(),
        ]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [options.lockKey.toString()]).catch(() => undefined);
  }
}
