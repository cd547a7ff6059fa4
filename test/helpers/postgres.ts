import { startPostgres, type DevPostgres } from "../../src/devnet/startPostgres.js";

/** The stores the relayer and indexer suites run against. */
export const STORES = ["sqlite", "postgres"] as const;
export type StoreKind = (typeof STORES)[number];

/**
 * A test's PostgreSQL: its own server (initdb + pg_ctl in a temporary directory, a free
 * loopback port) and one fresh database; `undefined` for SQLite.
 *
 * @example
 * const db = await testDatabase("postgres", "api"); … await db?.stop();
 */
export async function testDatabase(
  kind: StoreKind,
  name: string,
): Promise<{ url: string; server: DevPostgres; stop(): Promise<void> } | undefined> {
  if (kind === "sqlite") return undefined;
  const server = await startPostgres();
  const url = await server.createDatabase(name);
  return { url, server, stop: () => server.stop() };
}
