import type pg from "pg";

/**
 * Runs `work` in one transaction on a pooled connection: committed when it resolves, rolled
 * back when it throws. READ COMMITTED by default (`begin` names another, e.g. a read-only
 * snapshot); the relayer takes an advisory lock first wherever a rule needs more than one
 * statement's view (src/relayer/storage/pg/pgSchema.ts).
 *
 * @example
 * await pgTransaction(pool, (client) => client.query("UPDATE …"))
 */
export async function pgTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  begin = "BEGIN",
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    try {
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    }
  } finally {
    client.release();
  }
}
