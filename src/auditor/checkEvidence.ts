import type { Address } from "viem";
import { z } from "zod";
import { KIND_COUNT } from "../core/kinds.js";
import type { DecodedAction, PostRegistration } from "../core/packedActions.js";
import { batchEvidenceSchema, type BatchEvidence, type SignerChange } from "../evidence/batchEvidence.js";
import type { MemoryRulesState } from "../rules/memoryRulesState.js";
import type { RulePolicy } from "../rules/policy.js";
import { checkSignatures } from "./checkSignatures.js";
import { twei, type Add } from "./discrepancy.js";
import type { EvidenceLookup } from "./evidenceSource.js";
import type { SettledBatchLog } from "./readLedgerHistory.js";
import { replayRules } from "./replayRules.js";

/** The deployment the evidence must name (its EIP-712 domain). */
type EvidenceDomain = { readonly chainId: number; readonly ledger: Address };

export interface CheckEvidenceParameters {
  readonly batch: SettledBatchLog;
  readonly lookup: EvidenceLookup;
  /** The batch's packed actions, decoded. */
  readonly onChain: { posts: PostRegistration[]; actions: DecodedAction[] };
  /** The rule set the batch names, if it was ever published. */
  readonly amounts: readonly bigint[] | undefined;
  readonly deployment: EvidenceDomain;
  /** The batch's site's signers over time. */
  readonly signerHistory: readonly SignerChange[];
  /** A site's rules state, carried over from its earlier batches. */
  readonly stateOf: (siteId: number) => MemoryRulesState;
  readonly policy: RulePolicy;
  readonly progress: (line: string) => void;
  readonly add: Add;
}

/**
 * Checks a settled batch's published evidence: that there is some, that it is well-formed,
 * that its header is the chain's, that the site signed it (checkSignatures), and that the
 * rules give the chain's actions from its events (replayRules). Returns how many events the
 * evidence holds, or undefined when there is no well-formed evidence.
 *
 * @example
 * const events = await checkEvidence({ batch, lookup, onChain, amounts, deployment, stateOf, policy, progress, add })
 */
export async function checkEvidence(parameters: CheckEvidenceParameters): Promise<number | undefined> {
  const { batch, lookup, onChain, amounts, progress, add } = parameters;
  const id = batch.batchId.toString();
  if (!lookup.found) {
    add("evidence_missing", "evidence", `no evidence for a batch that minted ${twei(batch.minted)}: ${lookup.reason}`);
    progress(`batch ${id}: no evidence (${lookup.reason})`);
    return undefined;
  }
  const parsed = batchEvidenceSchema.safeParse(lookup.evidence);
  if (!parsed.success) {
    add("evidence_malformed", lookup.from, z.prettifyError(parsed.error).split("\n").slice(0, 4).join("; "));
    return undefined;
  }
  const evidence = parsed.data;
  checkHeader(evidence, batch, parameters.deployment, add);
  if (await checkSignatures(batch, evidence, parameters.signerHistory, add)) {
    // Re-run the rules on the events, in leaf order, and compare with the chain's actions.
    if (amounts && amounts.length === KIND_COUNT)
      replayRules(batch, evidence, onChain, parameters.stateOf(batch.siteId), parameters.policy, amounts, add);
    progress(
      `batch ${id}: ${evidence.events.length} events, ${onChain.actions.length} actions, minted ${twei(batch.minted)}, burned ${twei(batch.burned)}`,
    );
  }
  return evidence.events.length;
}

function checkHeader(evidence: BatchEvidence, batch: SettledBatchLog, deployment: EvidenceDomain, add: Add): void {
  const field = (name: string, expected: string, found: string) => {
    if (expected.toLowerCase() !== found.toLowerCase())
      add("evidence_header_mismatch", `evidence.${name}`, `the evidence's ${name} is not the chain's`, expected, found);
  };
  field("batchId", batch.batchId.toString(), evidence.batchId);
  field("siteId", String(batch.siteId), String(evidence.siteId));
  field("evidenceRoot", batch.evidenceRoot, evidence.evidenceRoot);
  field("actions", batch.actions, evidence.actions);
  field("domain.chainId", String(deployment.chainId), String(evidence.domain.chainId));
  field("domain.verifyingContract", deployment.ledger, evidence.domain.verifyingContract);
}
