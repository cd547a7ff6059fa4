import { verifyBatchEvidence, type BatchEvidence } from "../evidence/batchEvidence.js";
import type { Add, DiscrepancyCode } from "./discrepancy.js";
import type { SettledBatchLog } from "./readLedgerHistory.js";

function classify(message: string): DiscrepancyCode {
  if (/signed by|signature/.test(message)) return "signature_invalid";
  if (/merkle root/.test(message)) return "root_mismatch";
  if (/eventHash|did not sign this event/.test(message)) return "event_hash_mismatch";
  return "evidence_invalid";
}

/**
 * Verifies a batch's evidence against the site's signer as the registry held it when the
 * batch settled, and against the root settled on-chain: every envelope's signature, every
 * event's hash and the events' merkle root. Returns false when the site was not in the
 * registry, which leaves nothing to verify the evidence against.
 *
 * @example
 * if (await checkSignatures(batch, evidence, add)) replayRules(...)
 */
export async function checkSignatures(batch: SettledBatchLog, evidence: BatchEvidence, add: Add): Promise<boolean> {
  if (!batch.siteSigner) {
    add("unknown_site", `site ${batch.siteId}`, "the site was not in the registry when the batch settled");
    return false;
  }
  for (const problem of await verifyBatchEvidence({
    evidence,
    siteSigner: batch.siteSigner,
    onChainRoot: batch.evidenceRoot,
  })) {
    const code = classify(problem.message);
    const roots = /merkle root is (0x[0-9a-fA-F]+), the chain says (0x[0-9a-fA-F]+)/.exec(problem.message);
    if (roots)
      add(code, "evidence root", "the events' merkle root is not the root settled on-chain", roots[2], roots[1]);
    else if (code !== "root_mismatch") add(code, problem.where, problem.message);
    // (a root mismatch with the evidence's own root field is reported by checkHeader)
  }
  return true;
}
