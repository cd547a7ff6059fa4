import type pg from "pg";
import { applyPgMigrations } from "../../../storage/pgMigrations.js";
import { PG_MIGRATIONS, LOCK_MIGRATE } from "./pgSchema.js";

/** The database was migrated by a newer relayer, whose schema this one does not know. */
export class PgSchemaTooNewError extends Error {
  override name = "PgSchemaTooNewError";
}

export const PG_SCHEMA_VERSION = Math.max(...PG_MIGRATIONS.map((m) => m.version));

/**
 * Applies the migrations this database lacks, in order, each in its own transaction, under an
 * advisory lock (instances starting together migrate once); refuses a newer schema.
 *
 * @example
 * await migratePg(pool)
 */
export async function migratePg(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await applyPgMigrations(client, {
      migrations: PG_MIGRATIONS,
      lockKey: LOCK_MIGRATE,
      tooNew: (found, known) => {
        throw new PgSchemaTooNewError(
          `the relayer database has schema version ${found}, newer than this relayer's ${known}: run a newer relayer`,
        );
      },
    });
    // Batch ids start at <namespace> * 2^32, a random namespace per database (../nextBatchId.ts).
    await client.query("INSERT INTO meta (key, value) VALUES ('batch_namespace', $1) ON CONFLICT DO NOTHING", [
      String(1 + Math.floor(Math.random() * (2 ** 20 - 1))),
    ]);
  } finally {
    client.release();
  }
}
