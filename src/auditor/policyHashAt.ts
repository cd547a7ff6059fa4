import type { Hex } from "viem";

/** One PolicyScheduled of a site, as the auditor keeps it. */
export interface PolicyChange {
  readonly policyHash: Hex;
  /** When it takes effect (unix seconds): in force at every block stamped at or after it. */
  readonly effectiveAt: bigint;
  /** The block that announced it: never in force before. */
  readonly block: bigint;
  /**
   * A block from which it is known to be in force (the announcing block when it took effect at
   * once, or a later one seen stamped at or after `effectiveAt`): later lookups read no timestamp.
   */
  inForceFrom: bigint | undefined;
}

/**
 * A site's policy hash in force at the end of `blockNumber`, from its schedule (oldest first,
 * announcements replaced before their effectiveAt left out: src/auditor/readLedgerHistory.ts), as
 * TweiLedger.sitePolicy answers it there: the latest announced at or before that block whose
 * effectiveAt the block's timestamp has reached. Undefined when the site had none committed. Reads
 * the block's timestamp (once) only while an announcement's effect is not known yet.
 *
 * @example
 * const hash = await policyHashAt(batch.policyHistory, acceptedAtBlock, timestampOf)
 */
export async function policyHashAt(
  changes: readonly PolicyChange[],
  blockNumber: bigint,
  timestampOf: (blockNumber: bigint) => Promise<bigint>,
): Promise<Hex | undefined> {
  let at: bigint | undefined;
  for (let i = changes.length - 1; i >= 0; i--) {
    const change = changes[i] as PolicyChange;
    if (change.block > blockNumber) continue;
    if (change.inForceFrom !== undefined && blockNumber >= change.inForceFrom) return change.policyHash;
    at ??= await timestampOf(blockNumber);
    if (at >= change.effectiveAt) {
      change.inForceFrom = blockNumber;
      return change.policyHash;
    }
  }
  return undefined;
}
