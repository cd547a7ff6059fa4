import type { Address, Hex } from "viem";
import type { NewSite, RelayerStore, SiteRecord } from "./relayerStore.js";
import type { SqliteDatabase } from "./sqliteDatabase.js";
import { num, str, type Row } from "./sqliteRows.js";

export type SqliteSites = Pick<
  RelayerStore,
  | "createSite"
  | "siteByApiKeyHash"
  | "site"
  | "siteIds"
  | "updateSiteChainState"
  | "setWebhook"
  | "savePolicy"
  | "policyDocument"
>;

/**
 * The sites in the SQLite store: their API key hash, webhook and what the chain said of them,
 * and the policy documents the relayer has applied to them.
 *
 * @example
 * const { site, createSite } = createSqliteSites(database)
 */
export function createSqliteSites({ q }: SqliteDatabase): SqliteSites {
  const siteOf = (row: Row | undefined): SiteRecord | undefined =>
    row && {
      siteId: num(row, "site_id"),
      apiKeyHash: str(row, "api_key_hash") as Hex,
      webhookUrl: (row.webhook_url as string | null) ?? null,
      webhookSecret: (row.webhook_secret as string | null) ?? null,
      signer: (row.signer as Address | null) ?? null,
      active: num(row, "active") === 1,
      checkedAt: num(row, "checked_at"),
      checkedBlock: typeof row.checked_block === "string" ? BigInt(row.checked_block) : null,
    };

  return {
    async createSite(site: NewSite) {
      q("INSERT INTO sites (site_id, api_key_hash, webhook_url, webhook_secret) VALUES (?, ?, ?, ?)").run(
        site.siteId,
        site.apiKeyHash,
        site.webhookUrl,
        site.webhookSecret,
      );
    },
    async siteByApiKeyHash(apiKeyHash) {
      return siteOf(q("SELECT * FROM sites WHERE api_key_hash = ?").get(apiKeyHash));
    },
    async site(siteId) {
      return siteOf(q("SELECT * FROM sites WHERE site_id = ?").get(siteId));
    },
    async siteIds() {
      return q("SELECT site_id FROM sites ORDER BY site_id")
        .all()
        .map((row) => Number(row.site_id));
    },
    async updateSiteChainState(siteId, { signer, active, checkedAt, checkedBlock }) {
      q("UPDATE sites SET signer = ?, active = ?, checked_at = ?, checked_block = ? WHERE site_id = ?").run(
        signer.toLowerCase(),
        active ? 1 : 0,
        checkedAt,
        checkedBlock.toString(),
        siteId,
      );
    },
    async setWebhook(siteId, url, secret) {
      q("UPDATE sites SET webhook_url = ?, webhook_secret = ? WHERE site_id = ?").run(url, secret, siteId);
    },
    async savePolicy(hash, document) {
      q("INSERT INTO policies (hash, document, saved_at) VALUES (?, ?, ?) ON CONFLICT (hash) DO NOTHING").run(
        hash.toLowerCase(),
        document,
        Date.now(),
      );
    },
    async policyDocument(hash) {
      const row = q("SELECT document FROM policies WHERE hash = ?").get(hash.toLowerCase());
      return row === undefined ? undefined : str(row, "document");
    },
  };
}
