import { verifyBatchEvidence, type BatchEvidence, type SignerChange } from "../evidence/batchEvidence.js";
import type { Add } from "./discrepancy.js";
import type { SettledBatchLog } from "./readLedgerHistory.js";

/**
 * Verifies a batch's evidence against the site's signers as the registry held them (each
 * envelope against the signer in force at the block the relayer accepted it, or when the batch
 * settled for evidence that does not say), and against the root settled on-chain: every
 * envelope's signature, every event's hash and the events' merkle root. Returns false when the
 * site was not in the registry, which leaves nothing to verify the evidence against.
 *
 * @example
 * if (await checkSignatures(batch, evidence, signerHistory, add)) replayRules(...)
 */
export async function checkSignatures(
  batch: SettledBatchLog,
  evidence: BatchEvidence,
  signerHistory: readonly SignerChange[],
  add: Add,
): Promise<boolean> {
  if (!batch.siteSigner) {
    add("unknown_site", `site ${batch.siteId}`, "the site was not in the registry when the batch settled");
    return false;
  }
  for (const problem of await verifyBatchEvidence({
    evidence,
    siteSigner: batch.siteSigner,
    signerHistory,
    settledAtBlock: batch.blockNumber,
    onChainRoot: batch.evidenceRoot,
  })) {
    const roots = /merkle root is (0x[0-9a-fA-F]+), the chain says (0x[0-9a-fA-F]+)/.exec(problem.message);
    if (roots)
      add(
        problem.code,
        "evidence root",
        "the events' merkle root is not the root settled on-chain",
        roots[2],
        roots[1],
      );
    else if (problem.code !== "root_mismatch") add(problem.code, problem.where, problem.message);
    // (a root mismatch with the evidence's own root field is reported by checkHeader)
  }
  return true;
}
