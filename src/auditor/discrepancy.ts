import { formatUnits } from "viem";

/**
 * Every discrepancy code the auditor reports, with what it means (stable: scripts and the
 * watchtower's `--pause-on` match on them; README.md lists them).
 */
export const DISCREPANCY_DESCRIPTIONS = {
  unbacked_batch:
    "a settled batch with no published evidence: what it minted and what it burned from whom is named (a stolen relayer key, or a lost archive)",
  evidence_unavailable:
    "the batch's evidence could not be had yet: the source failed (the relayer did not answer, or answered an error), or the archive has no file for it yet (within --unbacked-after of its settlement); the watchtower retries it",
  evidence_malformed:
    "the batch's evidence file is not valid JSON or breaks the schema (each problem named by file and JSON path)",
  evidence_header_mismatch: "the evidence names another batch, site, root, actions or deployment than the chain's",
  evidence_reordered:
    "the evidence's leaves are not in the order the batch settled them (the positions moved are named)",
  unknown_site: "the batch's site was not in the registry when it settled",
  signature_invalid:
    "an envelope is not signed by the site's signer (or the signature is not canonical: v 27 or 28, or 0 or 1, and low s)",
  signed_by_replaced_key: "an envelope is signed by a key the registry had replaced before the envelope was accepted",
  event_hash_mismatch: "an event, or an envelope's events hash, does not hash to what the evidence says",
  root_mismatch: "the events' merkle root is not the root settled on-chain",
  evidence_invalid: "the evidence contradicts itself (a digest, a leaf index, a missing envelope, an acceptance block)",
  event_replayed:
    "an event settled again: its id was settled in an earlier batch (or twice in one), or its envelope's nonce signed other events before",
  rule_set_version_mismatch:
    "the batch names a rule set the ledger did not accept at its block (neither in force nor in its grace period), or never published",
  policy_unavailable:
    "the site's policy document (by the hash the ledger held for the site at the batch's block) could not be had: the source has none by that hash, or failed; the batch's rules are not replayed (its site's later batches then depend on it) and the watchtower looks again",
  policy_invalid:
    "the site's policy document is not the one the ledger holds: not JSON, another keccak256 of its canonical JSON than the hash in force at the batch's block, or not a policy the rules know; the batch's rules are not replayed",
  rule_rejected_event: "the rules reject an event the batch settled",
  attestation_invalid:
    "under a policy requiring proof of personhood, the EAS attestation the evidence names for an event, read at the batch's block, did not prove its user a person when the event was accepted (the reason is named: unknown_uid, wrong_schema, wrong_attester, wrong_recipient, not_yet_attested, revoked, expired); the event is replayed unattested",
  attestation_missing:
    "under a policy requiring proof of personhood, the chain paid an event mints only an attested user earns, and the evidence names no attestation for it",
  depends_on_unchecked_batch:
    "the rules could not be checked for this batch: an earlier batch of its site has no checked evidence (named in dependsOn), and what the replay without it finds is listed instead of reported as this batch's fault",
  unexplained_action: "the chain settled an action no event of the evidence calls for",
  event_dropped: "an event the site signed is absent from the evidence while the chain settled unexplained actions",
  missing_action: "the rules call for an action the chain did not settle",
  post_registration_mismatch: "the batch registers other posts than its events publish",
  action_order_mismatch: "the chain settled the same actions in another order than the rules give",
  shortfall_mismatch: "a BurnShortfall event names another burn than the batch's",
  minted_mismatch: "BatchSettled.minted is not the batch's mints priced by its rule set",
  burned_mismatch: "BatchSettled.burned is not the batch's paid burns priced by its rule set",
  token_mints_mismatch: "the token minted other than the settled batches",
  token_burns_mismatch: "the token burned other than the settled batches",
  supply_mismatch: "the token's supply is not all mints minus all burns",
  balance_mismatch: "an account's balance is not what the actions and transfers explain",
} as const;

export type DiscrepancyCode = keyof typeof DISCREPANCY_DESCRIPTIONS;

/**
 * The codes safe to pause the ledger on (`--pause-on`): each says the chain settled something
 * the site's signed evidence does not back, and none arises from an honest batch whose evidence
 * is late or whose site has an earlier batch not yet checked (that is `evidence_unavailable` and
 * `depends_on_unchecked_batch`, and `policy_unavailable` for a policy document not had yet).
 * `unexplained_action` and `event_dropped` come from a replay with the site's policy as committed
 * on-chain at the batch's block (its document checked against that hash; `--policy` only for a
 * site with none committed). README.md, src/auditor/README.md and the watchtower's tests use
 * exactly this list.
 */
export const PAUSE_SAFE_CODES = [
  "unbacked_batch",
  "signature_invalid",
  "root_mismatch",
  "unexplained_action",
  "event_dropped",
] as const satisfies readonly DiscrepancyCode[];

/** Codes an honest deployment produces while evidence (or a policy document) is late: `--pause-on` refuses them. */
export const NEVER_PAUSE_CODES = [
  "evidence_unavailable",
  "depends_on_unchecked_batch",
  "policy_unavailable",
] as const satisfies readonly DiscrepancyCode[];

export const DISCREPANCY_CODES = Object.keys(DISCREPANCY_DESCRIPTIONS) as DiscrepancyCode[];

export const isDiscrepancyCode = (code: string): code is DiscrepancyCode =>
  Object.hasOwn(DISCREPANCY_DESCRIPTIONS, code);

/** What the auditor found to differ, and where. `code` is stable; the rest is for people. */
export interface Discrepancy {
  readonly code: DiscrepancyCode;
  /** The batch, or null for chain-wide checks (supply, balances). */
  readonly batchId: string | null;
  /** The event, envelope, action, account or evidence file (and JSON path) concerned. */
  readonly where: string;
  readonly what: string;
  readonly expected: string;
  readonly found: string;
  /** For `depends_on_unchecked_batch`: the earlier batches (ids) whose missing evidence keeps this one from being checked. */
  readonly dependsOn?: readonly string[];
}

/** Records a discrepancy of the batch (or chain-wide check) at hand, in the order found. */
export type Add = (code: DiscrepancyCode, where: string, what: string, expected?: string, found?: string) => void;

export const twei = (wei: bigint) => `${formatUnits(wei, 18)} Twei`;
