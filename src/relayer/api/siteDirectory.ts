import { createHash } from "node:crypto";
import { getAddress, zeroAddress, type Address, type Hex } from "viem";
import type { ChainReader } from "../chain/chainReader.js";
import type { RelayerStore, SiteRecord } from "../storage/relayerStore.js";

export interface SiteState {
  readonly record: SiteRecord;
  /** From the chain (or the last copy stored, when the chain cannot be read). */
  readonly signer: Address | null;
  readonly active: boolean;
  /** The block this state is the registry's at: an envelope accepted under it records this block. */
  readonly block: bigint;
  /**
   * The site's policy hash in force at `block` (zero: none committed); when the chain cannot be
   * read, the last one read, while fresh enough; null when not known.
   */
  readonly policyHash: Hex | null;
}

export interface SiteDirectory {
  /** The site an API key belongs to, or undefined. */
  authenticate(apiKey: string): Promise<SiteRecord | undefined>;
  /**
   * The site's on-chain signer, activation and policy hash in force at the chain's head, as read
   * after the call began: a key the registry replaced is never used once the block replacing it
   * is mined.
   * When the chain cannot be read, the last state read from it, unless older than the
   * staleness bound; otherwise it throws.
   */
  stateAtHead(record: SiteRecord): Promise<SiteState>;
}

/** API keys are stored only as their SHA-256. */
export function hashApiKey(apiKey: string): Hex {
  return `0x${createHash("sha256").update(apiKey).digest("hex")}`;
}

/**
 * The chain's head, read after each caller arrives, with one read in flight and one queued:
 * callers that arrive while a read is on its way share the next one, which starts when it ends.
 */
function createHeadReader(read: () => Promise<bigint>): () => Promise<bigint> {
  let inFlight: Promise<bigint> | undefined;
  let queued: Promise<bigint> | undefined;
  const start = () => {
    const reading = read();
    inFlight = reading;
    reading.then(
      () => void (inFlight === reading && (inFlight = undefined)),
      () => void (inFlight === reading && (inFlight = undefined)),
    );
    return reading;
  };
  return () => {
    if (!inFlight) return start();
    queued ??= inFlight
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return start();
      });
    return queued;
  };
}

/**
 * Looks sites up by API key and reads their registry state (signer, active, policy hash in
 * force) at the chain's head for each envelope: one head read shared by the envelopes that arrive
 * together, one registry read (and one policy read) per site and block.
 *
 * @example
 * const site = await directory.authenticate(bearer); const { signer, block } = await directory.stateAtHead(site)
 */
export function createSiteDirectory(options: {
  store: RelayerStore;
  reader: ChainReader;
  /** How long API keys are remembered. */
  ttlMs: number;
  /** How old the stored registry state may be when the chain cannot be read (ms). */
  maxStaleMs: number;
}): SiteDirectory {
  const { store, reader, ttlMs, maxStaleMs } = options;
  const byKey = new Map<string, { record: SiteRecord | undefined; at: number }>();
  const atBlock = new Map<
    number,
    { block: bigint; state: Promise<{ signer: Address | null; active: boolean; policyHash: Hex }> }
  >();
  // The policy hash last read per site: the store keeps no copy, so an outage falls back on this one.
  const policies = new Map<number, { policyHash: Hex; at: number }>();
  const head = createHeadReader(() => reader.blockNumber());
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
    async stateAtHead(record) {
      try {
        const block = await head();
        let entry = atBlock.get(record.siteId);
        if (!entry || entry.block !== block) {
          const state = Promise.all([reader.site(record.siteId, block), reader.sitePolicy(record.siteId, block)]).then(
            async ([site, policyHash]) => {
              policies.set(record.siteId, { policyHash, at: Date.now() });
              const signer = site.signer === zeroAddress ? null : getAddress(site.signer);
              if (signer)
                await store.updateSiteChainState(record.siteId, {
                  signer,
                  active: site.active,
                  checkedAt: Date.now(),
                  checkedBlock: block,
                });
              return { signer, active: site.active && signer !== null, policyHash };
            },
          );
          entry = { block, state };
          atBlock.set(record.siteId, entry);
          state.catch(() => {
            if (atBlock.get(record.siteId) === entry) atBlock.delete(record.siteId);
          });
        }
        return { record, ...(await entry.state), block };
      } catch (error) {
        // The chain is unreachable: the last state read from it, while fresh enough.
        const stored = await store.site(record.siteId);
        const policy = policies.get(record.siteId);
        if (stored && stored.checkedBlock !== null && Date.now() - stored.checkedAt <= maxStaleMs)
          return {
            record: stored,
            signer: stored.signer && getAddress(stored.signer),
            active: stored.active,
            block: stored.checkedBlock,
            policyHash: policy && Date.now() - policy.at <= maxStaleMs ? policy.policyHash : null,
          };
        throw error;
      }
    },
  };
}
