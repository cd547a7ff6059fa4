import { getAddress, type Address } from "viem";
import { KIND_COUNT } from "../core/kinds.js";
import type { DecodedAction, PostRegistration } from "../core/packedActions.js";
import { batchEvidenceSchema, jsonPathOf, type BatchEvidence, type SignerChange } from "../evidence/batchEvidence.js";
import type { MemoryRulesState } from "../rules/memoryRulesState.js";
import type { RulePolicy } from "../rules/policy.js";
import { checkSignatures } from "./checkSignatures.js";
import { twei, type Add } from "./discrepancy.js";
import type { EvidenceLookup } from "./evidenceSource.js";
import type { PricedBatch } from "./priceBatch.js";
import type { SettledBatchLog } from "./readLedgerHistory.js";
import { replayRules } from "./replayRules.js";

/** The deployment the evidence must name (its EIP-712 domain). */
type EvidenceDomain = { readonly chainId: number; readonly ledger: Address };

export interface CheckEvidenceParameters {
  readonly batch: SettledBatchLog;
  readonly lookup: EvidenceLookup;
  /** The batch as the chain recorded it, priced (undefined when its packed actions do not decode). */
  readonly priced: PricedBatch | undefined;
  readonly deployment: EvidenceDomain;
  /** The batch's site's signers over time. */
  readonly signerHistory: readonly SignerChange[];
  /** A site's rules state, carried over from its earlier batches. */
  readonly stateOf: (siteId: number) => MemoryRulesState;
  readonly policy: RulePolicy;
  readonly progress: (line: string) => void;
  readonly add: Add;
}

/** How many schema problems of one file are named (the rest are counted). */
const MAX_SCHEMA_PROBLEMS = 10;
const MAX_NAMED_ACCOUNTS = 10;

const perAccount = (amounts: ReadonlyMap<Address, bigint>, preposition: string) => {
  const entries = [...amounts].filter(([, amount]) => amount > 0n);
  if (entries.length === 0) return "";
  const named = entries
    .slice(0, MAX_NAMED_ACCOUNTS)
    .map(([account, amount]) => `${getAddress(account)}: ${twei(amount)}`);
  const more = entries.length > MAX_NAMED_ACCOUNTS ? `, and ${entries.length - MAX_NAMED_ACCOUNTS} more accounts` : "";
  return ` (${preposition} ${named.join(", ")}${more})`;
};

const valueAt = (root: unknown, path: readonly PropertyKey[]): string => {
  let value: unknown = root;
  for (const key of path) {
    if (value === null || typeof value !== "object") return "(absent)";
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  if (value === undefined) return "(absent)";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/**
 * Checks a settled batch's published evidence: that there is some (else the batch is
 * `unbacked_batch`, naming what it minted and what it burned from whom), that it is
 * well-formed (each schema problem an `evidence_malformed` naming the file and JSON path), that
 * its header is the chain's, that the site signed it and its leaves are in the batch's order
 * (checkSignatures), and that the rules give the chain's actions from its events (replayRules).
 * Never throws on the evidence: anything it cannot check is a discrepancy of this batch.
 * Returns how many events the evidence holds, or undefined when there is no well-formed evidence.
 *
 * @example
 * const events = await checkEvidence({ batch, lookup, priced, deployment, signerHistory, stateOf, policy, progress, add })
 */
export async function checkEvidence(parameters: CheckEvidenceParameters): Promise<number | undefined> {
  const { batch, lookup, priced, progress, add } = parameters;
  const id = batch.batchId.toString();
  if (!lookup.found) {
    if (lookup.kind === "missing") {
      const minted = priced?.minted ?? batch.minted;
      const burned = priced?.burned ?? batch.burned;
      add(
        "unbacked_batch",
        "evidence",
        `no evidence for a batch that minted ${twei(minted)}${priced ? perAccount(priced.earned, "to") : ""} and burned ${twei(burned)}${priced ? perAccount(priced.burnedFrom, "from") : ""}: ${lookup.reason}`,
        "published evidence",
        "(none)",
      );
    } else if (lookup.kind === "unavailable")
      add("evidence_unavailable", lookup.from, `the evidence could not be fetched: ${lookup.reason}`);
    else add("evidence_malformed", `${lookup.from} $`, lookup.reason);
    progress(`batch ${id}: no evidence (${lookup.reason})`);
    return undefined;
  }
  const parsed = batchEvidenceSchema.safeParse(lookup.evidence);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    for (const issue of issues.slice(0, MAX_SCHEMA_PROBLEMS))
      add(
        "evidence_malformed",
        `${lookup.from} ${jsonPathOf(issue.path)}`,
        issue.message,
        "",
        valueAt(lookup.evidence, issue.path),
      );
    if (issues.length > MAX_SCHEMA_PROBLEMS)
      add(
        "evidence_malformed",
        lookup.from,
        `and ${issues.length - MAX_SCHEMA_PROBLEMS} more schema problems in the file`,
      );
    progress(`batch ${id}: malformed evidence in ${lookup.from}`);
    return undefined;
  }
  const evidence = parsed.data;
  try {
    checkHeader(evidence, batch, parameters.deployment, add);
    const order = await checkSignatures(batch, evidence, parameters.signerHistory, add);
    // Re-run the rules on the events, in the batch's order, and compare with the chain's actions.
    if (order && priced?.amounts && priced.amounts.length === KIND_COUNT)
      replayRules({
        batch,
        evidence,
        order,
        onChain: priced.onChain as { posts: PostRegistration[]; actions: DecodedAction[] },
        state: parameters.stateOf(batch.siteId),
        policy: parameters.policy,
        amounts: priced.amounts,
        add,
      });
  } catch (error) {
    // The schema bounds what the checks compute from; this only keeps one batch from ending the audit.
    add(
      "evidence_malformed",
      lookup.from,
      `the evidence could not be checked: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  progress(
    `batch ${id}: ${evidence.events.length} events, ${priced?.onChain.actions.length ?? 0} actions, minted ${twei(batch.minted)}, burned ${twei(batch.burned)}`,
  );
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
