import { encodePacked, keccak256 } from "viem";

/**
 * The on-chain id of a site's post: the first 8 bytes of keccak256(siteId, sitePostId).
 * Derived, not assigned, so an auditor recomputes it from the evidence; the ledger refuses
 * to register an id twice, so a collision is caught rather than merged.
 *
 * @example
 * postIdFor(1, "critical-minerals-2026") // 0x…n, a uint64
 */
export function postIdFor(siteId: number, sitePostId: string): bigint {
  return BigInt(keccak256(encodePacked(["uint32", "string"], [siteId, sitePostId])).slice(0, 18));
}
