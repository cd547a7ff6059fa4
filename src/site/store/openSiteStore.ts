import { createSqlSiteStore } from "./createSqlSiteStore.js";
import { openPgSiteDriver } from "./pg/openPgSiteDriver.js";
import type { SiteStore, StoreBounds } from "./siteStore.js";
import { openSqliteSiteDriver } from "./sqlite/openSqliteSiteDriver.js";

export interface OpenSiteStoreParameters {
  /** postgres://… : the store lives in PostgreSQL (schema `twei_site`), shared by every site process. */
  readonly databaseUrl?: string;
  /** The SQLite file otherwise (default `data/site/site.sqlite`). */
  readonly path?: string;
  readonly bounds?: StoreBounds;
}

/**
 * Opens the site kit's store: PostgreSQL when `databaseUrl` is set, SQLite (`node:sqlite`)
 * otherwise. Migrations are applied on open.
 *
 * @example
 * const store = await openSiteStore({ databaseUrl: process.env.DATABASE_URL })
 */
export async function openSiteStore(parameters: OpenSiteStoreParameters = {}): Promise<SiteStore> {
  const driver = parameters.databaseUrl
    ? await openPgSiteDriver({ url: parameters.databaseUrl })
    : openSqliteSiteDriver({ path: parameters.path ?? "data/site/site.sqlite" });
  return createSqlSiteStore(driver, parameters.bounds);
}
