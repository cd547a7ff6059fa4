import type { DecodedRevert } from "../../chain/decodeRevert.js";
import { formatRevert } from "../../chain/decodeRevert.js";

/**
 * The ledger's errors that a batch over a cap reverts with, on mints and on burns, overall and
 * the site's: split it, or wait for room. Never the events' fault: the ledger checks the caps
 * after everything else, so a batch that reaches them holds nothing it refuses.
 */
export const CAP_ERRORS: ReadonlySet<string> = new Set([
  "TweiLedgerEmissionCapExceeded",
  "TweiLedgerSiteEmissionCapExceeded",
  "TweiLedgerBurnCapExceeded",
  "TweiLedgerSiteBurnCapExceeded",
]);

/** The ledger refuses the site itself (deactivated, or not registered): its events wait, held. */
const SITE_ERRORS: ReadonlySet<string> = new Set(["TweiLedgerSiteInactive", "TweiLedgerUnknownSite"]);

/**
 * Why a settlement (or its dry run) reverted, as the settlement loop acts on it:
 * - `cap`: over a cap on mints or on burns (the ledger's or the site's): split the batch, or
 *   wait for the next epoch; never a failure;
 * - `paused`: the ledger is paused: nobody settles until it is unpaused;
 * - `unauthorized`: the relayer's account lacks RELAYER_ROLE: settlement stops, /readyz says why;
 * - `site`: the site is deactivated or unknown on the ledger: its events wait as `held`;
 * - `settled`: the batch id settled already (a lost attempt, or another database's batch);
 * - `rules`: the rule-set version the batch names is no longer taken (its grace ended): its
 *   events are priced anew under the one in force, never failed;
 * - `poison`: something in the batch itself: find the events the ledger refuses and fail them;
 * - `transient`: no revert at all (the node, the network, gas): try again later.
 */
export type RevertClass =
  | {
      readonly kind: "cap" | "paused" | "unauthorized" | "site" | "settled" | "rules" | "poison";
      readonly revert: DecodedRevert;
    }
  | { readonly kind: "transient" };

/**
 * Classifies a decoded settlement revert (undefined: the call failed without reverting).
 *
 * @example
 * classifyRevert(decodeRevert(error)).kind // "poison"
 */
export function classifyRevert(revert: DecodedRevert | undefined): RevertClass {
  if (!revert) return { kind: "transient" };
  const { name } = revert;
  if (CAP_ERRORS.has(name)) return { kind: "cap", revert };
  if (name === "EnforcedPause") return { kind: "paused", revert };
  if (name === "AccessControlUnauthorizedAccount") return { kind: "unauthorized", revert };
  if (SITE_ERRORS.has(name)) return { kind: "site", revert };
  if (name === "TweiLedgerBatchAlreadySettled") return { kind: "settled", revert };
  if (name === "TweiLedgerRuleSetNotInForce") return { kind: "rules", revert };
  return { kind: "poison", revert };
}

const snake = (name: string) =>
  name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .toLowerCase();

/**
 * The stable failure code of an event the ledger refuses: `ledger_` and the custom error's name
 * without its contract prefix, in snake case (`TweiLedgerZeroAddress` → `ledger_zero_address`);
 * `ledger_error` for Error(string), `ledger_panic` for a Panic, `ledger_unknown_error` for a
 * selector nobody declared.
 *
 * @example
 * failureCodeOf({ name: "TweiLedgerPostAlreadyRegistered", args: [7n], data }) // "ledger_post_already_registered"
 */
export function failureCodeOf(revert: DecodedRevert): string {
  if (revert.name === "Error") return "ledger_error";
  if (revert.name === "Panic") return "ledger_panic";
  if (revert.name.startsWith("unknown ")) return "ledger_unknown_error";
  return `ledger_${snake(revert.name.replace(/^TweiLedger|^Twei/, ""))}`;
}

/** The failure message of an event the ledger refuses. */
export function failureMessageOf(revert: DecodedRevert): string {
  return `the ledger refuses this event: ${formatRevert(revert)}`;
}
