import type { Address } from "viem";
import { FIRST_BURN_KIND, KIND_COUNT, kindInfo, type ActionKind as Kind } from "../core/kinds.js";
import { decodePackedActions, type DecodedAction, type PostRegistration } from "../core/packedActions.js";
import { amountFor } from "../core/ruleSet.js";
import { twei, type Add } from "./discrepancy.js";
import type { SettledBatchLog, ShortfallLog } from "./readLedgerHistory.js";

/** A settled batch's actions as the chain recorded them, priced with the rule set the batch names. */
export interface PricedBatch {
  readonly onChain: { posts: PostRegistration[]; actions: DecodedAction[] };
  /** The rule set the batch names; undefined when it was never published. */
  readonly amounts: readonly bigint[] | undefined;
  /** How many of the batch's burns went unpaid (BurnShortfall). */
  readonly shortfalls: number;
  /** Twei minted and burned by the actions, priced (0 when the rule set is unusable). */
  readonly minted: bigint;
  readonly burned: bigint;
  /** What each account (lowercase) earned in the batch. */
  readonly earned: ReadonlyMap<Address, bigint>;
  /** What the batch's paid burns took from each account (lowercase). */
  readonly burnedFrom: ReadonlyMap<Address, bigint>;
}

export interface PriceBatchParameters {
  readonly batch: SettledBatchLog;
  /** Every rule set by version. */
  readonly ruleSets: ReadonlyMap<number, readonly bigint[]>;
  /** The batch's BurnShortfall events. */
  readonly shortfalls: readonly ShortfallLog[];
  /** Adds an action's amount to the account's expected balance (negative for a paid burn). */
  readonly credit: (account: Address, delta: bigint) => void;
  readonly add: Add;
}

/**
 * Checks a settled batch against the chain's own record: decodes its packed actions, prices
 * each with the rule set of the batch, and compares the totals with the batch's minted and
 * burned and the unpaid burns with its BurnShortfall events. Returns undefined when the
 * packed actions do not decode, which leaves nothing else of the batch to check.
 *
 * @example
 * const priced = priceBatch({ batch, ruleSets: history.ruleSets, shortfalls: [], credit, add })
 */
export function priceBatch(parameters: PriceBatchParameters): PricedBatch | undefined {
  const { batch, credit, add } = parameters;
  // The chain's own record: every action priced with the rule set of the batch.
  // The ledger accepts the version in force, and the one it replaced during its grace period.
  if (batch.ruleSetVersion !== batch.versionInForce && batch.ruleSetVersion !== batch.previousInGrace)
    add(
      "rule_set_version_mismatch",
      "BatchSettled",
      "the batch names another rule set version than the ones the ledger accepted at its block",
      batch.previousInGrace === undefined
        ? String(batch.versionInForce)
        : `${batch.versionInForce} (or ${batch.previousInGrace}, in its grace period)`,
      String(batch.ruleSetVersion),
    );
  const amounts = parameters.ruleSets.get(batch.ruleSetVersion);
  let onChain: { posts: PostRegistration[]; actions: DecodedAction[] };
  try {
    onChain = decodePackedActions(batch.actions);
  } catch (error) {
    add("evidence_invalid", "BatchSettled.actions", `the packed actions do not decode: ${String(error)}`);
    return undefined;
  }
  const shortfalls = new Map<number, ShortfallLog>();
  for (const shortfall of parameters.shortfalls) shortfalls.set(shortfall.actionIndex, shortfall);
  const earnedHere = new Map<Address, bigint>();
  const burnedFrom = new Map<Address, bigint>();
  let batchMinted = 0n;
  let batchBurned = 0n;
  if (amounts && amounts.length === KIND_COUNT) {
    for (const action of onChain.actions) {
      const amount = amountFor(amounts, action.kind, action.units);
      if (action.kind < FIRST_BURN_KIND) {
        batchMinted += amount;
        credit(action.account, amount);
        const key = action.account.toLowerCase() as Address;
        earnedHere.set(key, (earnedHere.get(key) ?? 0n) + amount);
        continue;
      }
      const shortfall = shortfalls.get(action.actionIndex);
      if (shortfall) {
        const expected = `${kindInfo(action.kind).label} of ${twei(amount)} from ${action.account} on post ${action.postId}`;
        const found = `${kindInfo(shortfall.kind as Kind).label} of ${twei(shortfall.amount)} from ${shortfall.account} on post ${shortfall.postId}`;
        if (expected !== found)
          add(
            "shortfall_mismatch",
            `action #${action.actionIndex}`,
            "the BurnShortfall names another burn",
            expected,
            found,
          );
        continue;
      }
      batchBurned += amount;
      credit(action.account, -amount);
      const from = action.account.toLowerCase() as Address;
      burnedFrom.set(from, (burnedFrom.get(from) ?? 0n) + amount);
    }
    for (const index of shortfalls.keys())
      if (index >= onChain.actions.length)
        add("shortfall_mismatch", `action #${index}`, "a BurnShortfall names an action the batch does not have");
    if (batchMinted !== batch.minted)
      add(
        "minted_mismatch",
        "BatchSettled.minted",
        "minted differs from the actions priced by the rule set",
        twei(batchMinted),
        twei(batch.minted),
      );
    if (batchBurned !== batch.burned)
      add(
        "burned_mismatch",
        "BatchSettled.burned",
        "burned differs from the paid burns priced by the rule set",
        twei(batchBurned),
        twei(batch.burned),
      );
  } else
    add("rule_set_version_mismatch", "BatchSettled", `rule set version ${batch.ruleSetVersion} was never published`);
  return {
    onChain,
    amounts,
    shortfalls: shortfalls.size,
    minted: batchMinted,
    burned: batchBurned,
    earned: earnedHere,
    burnedFrom,
  };
}
