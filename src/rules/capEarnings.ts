import { formatUnits } from "viem";
import { ActionKind, BPS, FIRST_BURN_KIND, kindInfo } from "../core/kinds.js";
import { levelFor } from "../core/levels.js";
import type { AccountAction } from "../core/packedActions.js";
import { amountFor, type RuleAmounts } from "../core/ruleSet.js";
import { dailyEarningLimit, type FarmRules } from "./policy.js";
import { keys, type RuleTally, type RulesState } from "./rulesState.js";

/** A mint the farming rules left out or trimmed (as it was before), and the note that says why. */
export interface LeftOutAction {
  readonly action: AccountAction;
  readonly note: string;
}

export interface CapEarningsParameters {
  readonly actions: readonly AccountAction[];
  readonly rules: FarmRules;
  /** The UTC day of the event (`utcDayOf(event.occurredAt)`). */
  readonly day: number;
  readonly amounts: RuleAmounts;
  readonly state: Pick<RulesState, "earned" | "tally">;
}

export interface CapEarningsResult {
  /** The actions that fit: burns untouched, each mint kept, trimmed (Read-to-Earn) or left out. */
  readonly actions: AccountAction[];
  /** What the kept mints add to their accounts' tallies of the day. */
  readonly tallies: RuleTally[];
  readonly notes: string[];
  /** Each mint left out or trimmed, as it was before, with its note. */
  readonly leftOut: LeftOutAction[];
}

const twei = (wei: bigint): string => formatUnits(wei, 18);

/**
 * Fits an event's mints under each account's daily earning limit (the new-account ramp of its
 * level, or the per-user daily cap): a mint that fits is kept and tallied; a Read-to-Earn that
 * does not is trimmed to the basis points that fit; any other mint that does not is left out,
 * with a note that names the rule. Burns are never touched. Pure, like the rules.
 *
 * @example
 * const { actions, tallies, notes } = capEarnings({ actions, rules, day, amounts, state })
 */
export function capEarnings(parameters: CapEarningsParameters): CapEarningsResult {
  const { rules, day, amounts, state } = parameters;
  const actions: AccountAction[] = [];
  const added = new Map<string, bigint>();
  const notes: string[] = [];
  const leftOut: LeftOutAction[] = [];
  parameters.actions.forEach((action) => {
    if (action.kind >= FIRST_BURN_KIND) {
      actions.push(action);
      return;
    }
    const key = keys.earnedOnDay(action.account, day);
    const limit = dailyEarningLimit(rules, levelFor(state.earned(action.account)), amounts);
    const earnedToday = state.tally(key) + (added.get(key) ?? 0n);
    const room = limit.max > earnedToday ? limit.max - earnedToday : 0n;
    const amount = amountFor(amounts, action.kind, action.units);
    let kept: AccountAction | undefined = action;
    if (amount > room) {
      kept = undefined;
      const label = kindInfo(action.kind).label;
      const why = `${action.account} earned ${twei(earnedToday)} of its ${twei(limit.max)} Twei for this UTC day`;
      const full = amounts[ActionKind.ReadToEarn] ?? 0n;
      // Read-to-Earn pays by basis points: as many as fit (amountFor rounds down, so they do).
      const units = action.kind === ActionKind.ReadToEarn && full > 0n ? Number((room * BigInt(BPS)) / full) : 0;
      if (units >= 1) {
        kept = { ...action, units };
        notes.push(`${limit.rule}: ${label} trimmed from ${action.units} to ${units} bps: ${why}`);
      } else notes.push(`${limit.rule}: no ${label}: ${why}`);
      leftOut.push({ action, note: notes.at(-1) as string });
    }
    if (kept === undefined) return;
    const paid = amountFor(amounts, kept.kind, kept.units);
    if (paid > 0n) added.set(key, (added.get(key) ?? 0n) + paid);
    actions.push(kept);
  });
  return { actions, tallies: [...added].map(([key, amount]) => ({ key, amount })), notes, leftOut };
}
