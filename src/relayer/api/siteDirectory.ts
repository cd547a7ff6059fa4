import { createHash } from "node:crypto";
import { getAddress, zeroAddress, type Address, type Hex } from "viem";
import type { ChainReader } from "../chain/chainReader.js";
import type { RelayerStore, SiteRecord } from "../storage/relayerStore.js";

export interface SiteState {
  readonly record: SiteRecord;
  /** From the chain (or the last copy stored, when the chain cannot be read). */
  readonly signer: Address | null;
  readonly active: boolean;
}

export interface SiteDirectory {
  /** The site an API key belongs to, or undefined. */
  authenticate(apiKey: string): Promise<SiteRecord | undefined>;
  /** The site's on-chain signer and activation, cached for the TTL; the stored copy when the chain is down. */
  chainState(record: SiteRecord): Promise<SiteState>;
}

/** API keys are stored only as their SHA-256. */
export function hashApiKey(apiKey: string): Hex {
  return `0x${createHash("sha256").update(apiKey).digest("hex")}`;
}

/**
 * Looks sites up by API key and keeps their on-chain state (signer, active) fresh.
 *
 * @example
 * const site = await directory.authenticate(bearer)
 */
export function createSiteDirectory(options: {
  store: RelayerStore;
  reader: ChainReader;
  ttlMs: number;
}): SiteDirectory {
  const { store, reader, ttlMs } = options;
  const byKey = new Map<string, { record: SiteRecord | undefined; at: number }>();
  const chain = new Map<number, { state: SiteState; at: number }>();
  return {
    async authenticate(apiKey) {
      const hash = hashApiKey(apiKey);
      const hit = byKey.get(hash);
      if (hit && Date.now() - hit.at < ttlMs) return hit.record;
      const record = await store.siteByApiKeyHash(hash);
      if (byKey.size > 10_000) byKey.clear();
      byKey.set(hash, { record, at: Date.now() });
      return record;
    },
    async chainState(record) {
      const hit = chain.get(record.siteId);
      if (hit && Date.now() - hit.at < ttlMs) return hit.state;
      try {
        const site = await reader.site(record.siteId);
        const signer = site.signer === zeroAddress ? null : getAddress(site.signer);
        const state = { record, signer, active: site.active && signer !== null };
        chain.set(record.siteId, { state, at: Date.now() });
        if (signer) await store.updateSiteChainState(record.siteId, signer, site.active, Date.now());
        return state;
      } catch (error) {
        // The chain is unreachable: the last copy read from it still authenticates envelopes.
        const stored = await store.site(record.siteId);
        if (stored && stored.checkedAt > 0)
          return { record: stored, signer: stored.signer && getAddress(stored.signer), active: stored.active };
        throw error;
      }
    },
  };
}
