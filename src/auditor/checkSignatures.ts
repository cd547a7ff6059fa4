import { checkBatchEvidence, type BatchEvidence, type SignerChange } from "../evidence/batchEvidence.js";
import type { EvidenceOrder } from "../evidence/evidenceOrder.js";
import type { Add } from "./discrepancy.js";
import type { SettledBatchLog } from "./readLedgerHistory.js";

/**
 * Verifies a batch's evidence against the site's signers as the registry held them (each
 * envelope against the signer in force at the block the relayer accepted it, or when the batch
 * settled for evidence that does not say), and against the root settled on-chain: every
 * envelope's signature, every event's hash, the events' merkle root, and the leaves' order (a
 * reordering is `evidence_reordered`, naming the positions). Returns the leaves' order (whether
 * it is the batch's, and the order to replay them in), or undefined when the site was not in
 * the registry, which leaves nothing to verify the evidence against.
 *
 * @example
 * const order = await checkSignatures(batch, evidence, signerHistory, add); if (order) replayRules(...)
 */
export async function checkSignatures(
  batch: SettledBatchLog,
  evidence: BatchEvidence,
  signerHistory: readonly SignerChange[],
  add: Add,
): Promise<EvidenceOrder | undefined> {
  if (!batch.siteSigner) {
    add("unknown_site", `site ${batch.siteId}`, "the site was not in the registry when the batch settled");
    return undefined;
  }
  const { problems, order } = await checkBatchEvidence({
    evidence,
    siteSigner: batch.siteSigner,
    signerHistory,
    settledAtBlock: batch.blockNumber,
    onChainRoot: batch.evidenceRoot,
  });
  for (const problem of problems) {
    const roots = /merkle root is (0x[0-9a-fA-F]+), the chain says (0x[0-9a-fA-F]+)/.exec(problem.message);
    if (roots)
      add(
        problem.code,
        "evidence root",
        "the events' merkle root is not the root settled on-chain",
        roots[2],
        roots[1],
      );
    else if (problem.code === "evidence_reordered" && order.reordered)
      add(problem.code, problem.where, problem.message, order.reordered.expected, order.reordered.found);
    else if (problem.code !== "root_mismatch") add(problem.code, problem.where, problem.message);
    // (a root mismatch with the evidence's own root field is reported by checkHeader)
  }
  return order;
}
