import type { PublicClient } from "viem";

/**
 * When an included batch counts as settled: at a depth of confirmations (the block that mined
 * it counts as the first), or once the chain's `finalized` block has reached it.
 */
export type Finality =
  { readonly mode: "confirmations"; readonly confirmations: number } | { readonly mode: "finalized" };

/** What finality is judged against in one settlement pass. */
export interface ChainHeads {
  readonly head: bigint;
  /** The `finalized` block (finalized mode only). */
  readonly finalized: bigint | null;
}

/**
 * Reads the head (and the finalized block, in finalized mode) once for a settlement pass.
 *
 * @example
 * const heads = await readChainHeads(publicClient, { mode: "confirmations", confirmations: 3 })
 */
export async function readChainHeads(publicClient: PublicClient, finality: Finality): Promise<ChainHeads> {
  const head = await publicClient.getBlockNumber({ cacheTime: 0 });
  if (finality.mode === "confirmations") return { head, finalized: null };
  const finalized = await publicClient.getBlock({ blockTag: "finalized" });
  return { head, finalized: finalized.number };
}

/**
 * Whether a batch mined in `blockNumber` is final.
 *
 * @example
 * isFinal({ mode: "confirmations", confirmations: 3 }, { head: 12n, finalized: null }, 10n) // true
 */
export function isFinal(finality: Finality, heads: ChainHeads, blockNumber: bigint): boolean {
  if (finality.mode === "finalized") return heads.finalized !== null && blockNumber <= heads.finalized;
  return heads.head - blockNumber + 1n >= BigInt(finality.confirmations);
}

/** How many confirmations a batch mined in `blockNumber` has. */
export function confirmationsOf(heads: ChainHeads, blockNumber: bigint): number {
  return heads.head < blockNumber ? 0 : Number(heads.head - blockNumber + 1n);
}

/** The finality rule for people: "3 confirmations", "the finalized block". */
export function describeFinality(finality: Finality): string {
  return finality.mode === "finalized"
    ? "the chain's finalized block"
    : `${finality.confirmations} confirmation${finality.confirmations === 1 ? "" : "s"}`;
}

/** The chain id of local development nodes (Hardhat, anvil), which mine at once and never reorg by themselves. */
export const DEV_CHAIN_ID = 31337;

/**
 * The finality a network gets unless told otherwise: one confirmation on a local development
 * node, the chain's `finalized` block everywhere else.
 *
 * @example
 * defaultFinality(1) // { mode: "finalized" }
 */
export function defaultFinality(chainId: number): Finality {
  return chainId === DEV_CHAIN_ID ? { mode: "confirmations", confirmations: 1 } : { mode: "finalized" };
}
