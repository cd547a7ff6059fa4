import { getAddress, type Address, type Hex } from "viem";
import { KIND_COUNT } from "../core/kinds.js";
import type { DecodedAction, PostRegistration } from "../core/packedActions.js";
import { batchEvidenceSchema, jsonPathOf, type BatchEvidence, type SignerChange } from "../evidence/batchEvidence.js";
import type { MemoryRulesState } from "../rules/memoryRulesState.js";
import { checkAttestations, type AttestationReader } from "./checkAttestations.js";
import type { SettledEvents } from "./checkReplays.js";
import { checkSignatures } from "./checkSignatures.js";
import type { PolicyResolver } from "./createPolicyResolver.js";
import { twei, type Add } from "./discrepancy.js";
import type { EvidenceLookup } from "./evidenceSource.js";
import type { PricedBatch } from "./priceBatch.js";
import type { SettledBatchLog } from "./readLedgerHistory.js";
import { replayRules } from "./replayRules.js";
import { resolveEnvelopePolicies } from "./resolveEnvelopePolicies.js";

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
  /** The event ids and envelope nonces of the batches before this one (a repeat is `event_replayed`). */
  readonly settled: SettledEvents;
  /** The policy to replay with, by the hash in force for the batch's site when its envelopes were accepted (src/auditor/createPolicyResolver.ts). */
  readonly resolvePolicy: PolicyResolver;
  /** Reads the personhood attestations the evidence names (policy `personhood`), and block timestamps. */
  readonly attestations: AttestationReader;
  readonly progress: (line: string) => void;
  readonly add: Add;
  /** Where the rules replay's rows go (`add` when absent): createAuditor holds them back after a gap. */
  readonly replayAdd?: Add;
}

/** How many schema problems of one file are listed (the rest are counted). */
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

/** What checkEvidence could check of a batch. */
export interface EvidenceChecked {
  /** How many events the evidence holds; undefined when there is no well-formed evidence. */
  readonly events: number | undefined;
  /**
   * Whether the batch's events went through the rules replay (and so into its site's rules
   * state): when not, the site's later batches are replayed without them.
   */
  readonly replayed: boolean;
  /** The hash of a policy document the replay waited on that could not be had (`policy_unavailable`): the watchtower looks again. */
  readonly policyUnavailable?: Hex;
}

/**
 * Checks a settled batch's published evidence: that there is some (else the batch is
 * `unbacked_batch`, naming what it minted and what it burned from whom, or `evidence_unavailable`
 * while the source fails), that it is well-formed (one `evidence_malformed` for the file,
 * listing each schema problem by JSON path), that its header is the chain's, that the site
 * signed it and its leaves are in the batch's order (checkSignatures), that none of its events
 * settled before (checkReplays), that the personhood attestations it names hold
 * (checkAttestations), and that the rules give the chain's actions from its events
 * (replayRules, whose rows go to `replayAdd`), both under the site's policy in force when each
 * event's envelope was accepted (its `acceptedAtBlock`; the batch's block when the evidence does
 * not say): a document that cannot be had or is not that policy is `policy_unavailable` or
 * `policy_invalid`, and neither is checked. Never throws on the evidence: anything it cannot
 * check is a discrepancy of this batch.
 *
 * @example
 * const { events, replayed } = await checkEvidence({ batch, lookup, priced, deployment, signerHistory, stateOf, settled, resolvePolicy, attestations, progress, add })
 */
export async function checkEvidence(parameters: CheckEvidenceParameters): Promise<EvidenceChecked> {
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
    } else if (lookup.kind === "malformed") add("evidence_malformed", `${lookup.from} $`, lookup.reason);
    else add("evidence_unavailable", lookup.from, `the evidence could not be had: ${lookup.reason}`);
    progress(`batch ${id}: no evidence (${lookup.reason})`);
    return { events: undefined, replayed: false };
  }
  const parsed = batchEvidenceSchema.safeParse(lookup.evidence);
  if (!parsed.success) {
    // One row for the file, however many fields are bad: the paths say where.
    const issues = parsed.error.issues;
    const named = issues.slice(0, MAX_SCHEMA_PROBLEMS);
    const more = issues.length > MAX_SCHEMA_PROBLEMS ? `; and ${issues.length - MAX_SCHEMA_PROBLEMS} more` : "";
    add(
      "evidence_malformed",
      `${lookup.from} ${named.map((issue) => jsonPathOf(issue.path)).join(", ")}`,
      `${issues.length} schema problem${issues.length === 1 ? "" : "s"}: ${named
        .map((issue) => `${jsonPathOf(issue.path)}: ${issue.message}`)
        .join("; ")}${more}`,
      "",
      named.map((issue) => valueAt(lookup.evidence, issue.path)).join(", "),
    );
    progress(`batch ${id}: malformed evidence in ${lookup.from}`);
    return { events: undefined, replayed: false };
  }
  const evidence = parsed.data;
  // The site's policy in force when each envelope was accepted: the personhood check and the rules
  // replay need it; without it neither runs (the batch is a gap in its site's replay). Outside the
  // try below: a chain that cannot be read fails the step (retried), it is no fault of the evidence.
  const policy = await resolveEnvelopePolicies({
    batch,
    evidence,
    resolvePolicy: parameters.resolvePolicy,
    timestampOf: (blockNumber) => parameters.attestations.timestamp(blockNumber),
  });
  if (!policy.ok) for (const f of policy.failures) add(f.code, f.where, f.what, f.expected, f.found);
  const attested = policy.ok
    ? await checkAttestations({
        batch,
        evidence,
        personhoodOf: (position) => policy.policyOf(position).personhood,
        reader: parameters.attestations,
        add,
      })
    : new Map<number, Hex>();
  let replayed = false;
  try {
    checkHeader(evidence, batch, parameters.deployment, add);
    const order = await checkSignatures(batch, evidence, parameters.signerHistory, add);
    parameters.settled.check(batch, evidence, add);
    // Re-run the rules on the events, in the batch's order, and compare with the chain's actions.
    if (order && priced?.amounts && priced.amounts.length === KIND_COUNT && policy.ok) {
      replayRules({
        batch,
        evidence,
        order,
        onChain: priced.onChain as { posts: PostRegistration[]; actions: DecodedAction[] },
        state: parameters.stateOf(batch.siteId),
        policyOf: policy.policyOf,
        amounts: priced.amounts,
        attestations: attested,
        add: parameters.replayAdd ?? add,
      });
      replayed = true; // (a replay that threw half-way left the site's state incomplete)
    }
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
  const policyUnavailable = policy.ok ? undefined : policy.failures.find((f) => f.code === "policy_unavailable")?.hash;
  return { events: evidence.events.length, replayed, ...(policyUnavailable ? { policyUnavailable } : {}) };
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
