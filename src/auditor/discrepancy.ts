import { formatUnits } from "viem";

/** What the auditor found to differ, and where. `code` is stable; the rest is for people. */
export interface Discrepancy {
  readonly code: DiscrepancyCode;
  /** The batch, or null for chain-wide checks (supply, balances). */
  readonly batchId: string | null;
  /** The event, envelope, action or account concerned. */
  readonly where: string;
  readonly what: string;
  readonly expected: string;
  readonly found: string;
}

export type DiscrepancyCode =
  | "evidence_missing"
  | "evidence_malformed"
  | "evidence_header_mismatch"
  | "unknown_site"
  | "signature_invalid"
  | "signed_by_replaced_key"
  | "event_hash_mismatch"
  | "root_mismatch"
  | "evidence_invalid"
  | "rule_set_version_mismatch"
  | "rule_rejected_event"
  | "unexplained_action"
  | "event_dropped"
  | "missing_action"
  | "post_registration_mismatch"
  | "action_order_mismatch"
  | "shortfall_mismatch"
  | "minted_mismatch"
  | "burned_mismatch"
  | "token_mints_mismatch"
  | "token_burns_mismatch"
  | "supply_mismatch"
  | "balance_mismatch";

/** Records a discrepancy of the batch (or chain-wide check) at hand, in the order found. */
export type Add = (code: DiscrepancyCode, where: string, what: string, expected?: string, found?: string) => void;

export const twei = (wei: bigint) => `${formatUnits(wei, 18)} Twei`;
