import { parseUnits } from "viem";
import { ActionKind, BPS, KIND_COUNT } from "./kinds.js";

/** The on-chain rule set: an amount (wei of Twei) per action kind, indexed by kind id. */
export type RuleAmounts = readonly bigint[];

const twei = (value: string): bigint => parseUnits(value, 18);

/**
 * The default rule set written by scripts/deploy.ts. Read-to-Earn's amount is for a full
 * read; every other amount is per unit. PnL Reports' amount is the report instance price.
 */
export const DEFAULT_RULE_AMOUNTS: RuleAmounts = [
  twei("1"), // Read-to-Earn (full read)
  twei("0.5"), // Earned for Pluses
  twei("2"), // Comment Rewards
  twei("0.1"), // Likes Own
  twei("0.5"), // Likes Commenter
  twei("0.2"), // Likes Author
  twei("0.1"), // Dislikes Author
  twei("0.5"), // Spent for Minuses
  twei("0.2"), // Comment Tributes
  twei("0.1"), // Dislikes Own
  twei("0.3"), // Dislikes Commenter
  twei("5"), // Post Publish Tribute
  twei("1"), // PnL Reports (the price of one report instance)
];

/**
 * The most units one action of each kind may carry, as the ledger checks them: Read-to-Earn's
 * units are basis points of a full read (at most 10,000), every other kind's rules give one unit
 * per action.
 */
export const DEFAULT_UNIT_BOUNDS: readonly number[] = [BPS, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];

/** The overall emission (mint) cap per epoch written by scripts/deploy.ts. */
export const DEFAULT_EMISSION_CAP = twei("1000000");
/** The overall burn cap per epoch written by scripts/deploy.ts. */
export const DEFAULT_BURN_CAP = twei("1000000");
/** The default emission epoch: one day. */
export const DEFAULT_EPOCH_SECONDS = 86_400n;

/**
 * What an action moves under a rule set, exactly as the ledger computes it: the amount per
 * unit times the units, or for Read-to-Earn the full amount times the basis points read.
 *
 * @example
 * amountFor(DEFAULT_RULE_AMOUNTS, ActionKind.ReadToEarn, 5_000) // 0.5 Twei in wei
 */
export function amountFor(amounts: RuleAmounts, kind: ActionKind, units: number): bigint {
  if (amounts.length !== KIND_COUNT) throw new RangeError(`a rule set has ${KIND_COUNT} amounts`);
  const perUnit = amounts[kind];
  if (perUnit === undefined) throw new RangeError(`unknown action kind ${kind}`);
  const total = perUnit * BigInt(units);
  return kind === ActionKind.ReadToEarn ? total / BigInt(BPS) : total;
}
