import pg from "pg";

/**
 * A `pg.Pool` that no fault of the database can end the process with. A pooled client emits
 * `error` when its server goes away (a restart, `pg_terminate_backend`, a reset TCP session);
 * `pg-pool` listens for it only while the client is idle in the pool, so a client checked out
 * between two queries (a held transaction, a group commit, a migration) would throw an
 * unhandled `error` event and kill the process. Every client here gets a listener for its whole
 * life: the broken client's next query rejects, that rejection is what callers report, and the
 * pool drops the client when it is released.
 *
 * @example
 * const pool = createPgPool({ connectionString: url, max: 8, keepAlive: true })
 */
export function createPgPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on("error", () => undefined);
  pool.on("connect", (client) => {
    client.on("error", () => undefined);
  });
  return pool;
}
