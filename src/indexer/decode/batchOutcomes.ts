import type { Address, Hex } from "viem";
import { FIRST_BURN_KIND } from "../../core/kinds.js";
import { amountFor, type RuleAmounts } from "../../core/ruleSet.js";
import type { ActionKind } from "../../core/kinds.js";
import { InvariantError } from "../errors.js";
import { decodeBatchActions, type BatchAction, type BatchPost } from "./decodeBatchActions.js";

/** Where a log sits in the chain: sorting by it orders everything the indexer stores. */
export interface Checkpoint {
  readonly blockNumber: bigint;
  readonly txIndex: number;
  readonly logIndex: number;
}

/** A `BatchSettled` event as the indexer keeps it. */
export interface SettledBatch extends Checkpoint {
  readonly batchId: bigint;
  readonly siteId: number;
  readonly evidenceRoot: Hex;
  readonly ruleSetVersion: number;
  readonly minted: bigint;
  readonly burned: bigint;
  /** The packed actions, as settled. */
  readonly actions: Hex;
  readonly blockHash: Hex;
  readonly txHash: Hex;
}

/** A `BurnShortfall` event: the burn at `actionIndex` of batch `batchId` was not paid. */
export interface BurnShortfall {
  readonly batchId: bigint;
  readonly actionIndex: number;
  readonly account: Address;
  readonly kind: number;
  readonly postId: bigint;
  readonly amount: bigint;
}

export interface ActionOutcome extends BatchAction {
  readonly amount: bigint;
  /** False for a burn that could not be paid (a shortfall): it moved nothing. */
  readonly paid: boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface BatchOutcomesReturnType {
  posts: BatchPost[];
  actions: ActionOutcome[];
}

/**
 * Every action of a settled batch with its amount (from the batch's rule set, exactly as the
 * ledger computes it) and whether it was paid, checked against the event's minted and burned
 * totals and its shortfalls, so a decoding mistake stops the indexer instead of a wrong report.
 *
 * @example
 * const { actions } = batchOutcomes(batch, ruleSets.get(batch.ruleSetVersion), shortfallsOf(batch))
 */
export function batchOutcomes(
  batch: SettledBatch,
  rules: RuleAmounts,
  shortfalls: readonly BurnShortfall[],
): BatchOutcomesReturnType {
  const { posts, actions } = decodeBatchActions(batch.actions);
  const unpaid = new Map<number, BurnShortfall>();
  for (const shortfall of shortfalls) unpaid.set(shortfall.actionIndex, shortfall);
  let minted = 0n;
  let burned = 0n;
  // Most actions repeat a few (kind, units) pairs: compute each amount once.
  const amounts = new Map<number, bigint>();
  const outcomes = actions as Mutable<ActionOutcome>[];
  for (let i = 0; i < outcomes.length; i++) {
    const action = outcomes[i] as Mutable<ActionOutcome>;
    const key = action.kind * 65_536 + action.units;
    let amount = amounts.get(key);
    if (amount === undefined) {
      amount = amountFor(rules, action.kind as ActionKind, action.units);
      amounts.set(key, amount);
    }
    const shortfall = unpaid.size === 0 ? undefined : unpaid.get(action.actionIndex);
    if (shortfall !== undefined) {
      if (action.kind < FIRST_BURN_KIND || shortfall.amount !== amount || shortfall.kind !== action.kind)
        throw new InvariantError(`batch ${batch.batchId}: shortfall ${action.actionIndex} does not match its action`);
      unpaid.delete(action.actionIndex);
      action.paid = false;
    } else if (action.kind < FIRST_BURN_KIND) minted += amount;
    else burned += amount;
    action.amount = amount;
  }
  if (unpaid.size > 0) throw new InvariantError(`batch ${batch.batchId}: a shortfall names no action`);
  if (minted !== batch.minted || burned !== batch.burned)
    throw new InvariantError(
      `batch ${batch.batchId}: decoded ${minted} minted / ${burned} burned, the event says ${batch.minted} / ${batch.burned}`,
    );
  return { posts, actions: outcomes };
}
