import type { Address, Hex } from "viem";
import { ActionKind } from "../core/kinds.js";
import type { RuleAmounts } from "../core/ruleSet.js";

/**
 * One step of the new-account ramp (since version 3): an account whose level is below
 * `belowLevel` earns at most `maxReadsPerDay` full reads' worth of Twei per UTC day on a site.
 */
export interface EarningRampStep {
  readonly belowLevel: number;
  readonly maxReadsPerDay: number;
}

/**
 * Proof of personhood (optional in every version; absent: off, so older policies replay
 * unchanged): earning needs a valid attestation of the Ethereum Attestation Service (EAS) under
 * `schema`, made by one of `attesters` (the site itself, or a public attester), whose recipient
 * is the user who acts. The relayer reads it from `eas` at acceptance; the auditor re-checks it
 * at the batch's block.
 */
export interface PersonhoodPolicy {
  /** The EAS contract the attestations live in. */
  readonly eas: Address;
  /** The schema UID the attestation must be made under. */
  readonly schema: Hex;
  /** The attesters the site trusts (at least one). */
  readonly attesters: readonly Address[];
}

/**
 * The rules' thresholds: public policy, versioned. A change of any value is a new version,
 * so evidence settled under one version is re-checked with that version's values. A plain
 * JSON-able object: it is published (and hashed) as is. Daily earning limits are counted in full
 * reads' worth (the rule set's Read-to-Earn amount), so they follow the rule set's prices.
 */
export interface RulePolicy {
  readonly version: number;
  /** Reading speed that turns a word count into the time to read a post. */
  readonly wordsPerMinute: number;
  /** The least fraction of the time to read (basis points) that earns anything. */
  readonly minReadBps: number;
  /** The least length (characters) of a comment that can earn Comment Rewards. */
  readonly minCommentLength: number;
  /** The least level (src/core/levels.ts) that earns Comment Rewards. */
  readonly commentToEarnMinLevel: number;
  /** Comment Rewards one user can earn on one post. */
  readonly maxCommentRewardsPerUserPerPost: number;
  /** Comment Rewards one post can pay out in total. */
  readonly maxCommentRewardsPerPost: number;
  /**
   * Pluses one user may give per UTC day (the day of the event's `occurredAt`), across all the
   * site's posts: the daily budget of pluses ("You have run out of Pluses for today"). Since version 2.
   */
  readonly maxPlusesPerUserPerDay: number;
  /**
   * The least level whose votes (pluses, likes, dislikes) mint anything: Earned for Pluses,
   * Likes Own/Commenter/Author and Dislikes Author are paid only when the voter is at least at
   * this level and was paid for reading the post (its author counts as a reader). Since version 3
   * (required from it, absent before).
   */
  readonly voteToEarnMinLevel?: number;
  /** Comment likes one user may give per UTC day across the site's posts. Since version 3. */
  readonly maxLikesPerUserPerDay?: number;
  /**
   * The new-account ramp, steps in increasing `belowLevel`: the first step above an account's
   * level caps what it earns per UTC day on the site. Since version 3.
   */
  readonly earningRamp?: readonly EarningRampStep[];
  /** Full reads' worth any one account may earn per UTC day on the site, whatever its level. Since version 3. */
  readonly maxReadsEarnedPerUserPerDay?: number;
  /**
   * When set, an event earns only when its acting user holds a valid attestation of personhood
   * (src/rules/requirePersonhood.ts). Absent: off.
   */
  readonly personhood?: PersonhoodPolicy;
}

/** The farming rules of a version-3 policy. */
export interface FarmRules {
  readonly voteToEarnMinLevel: number;
  readonly maxLikesPerUserPerDay: number;
  readonly earningRamp: readonly EarningRampStep[];
  readonly maxReadsEarnedPerUserPerDay: number;
}

/**
 * Version 2 added the daily budget of pluses (`maxPlusesPerUserPerDay`); version 3 the rules
 * that price out farming: votes earn only from readers at `voteToEarnMinLevel`, a daily like
 * budget, the new-account ramp and the per-user daily earning cap.
 */
export const RULES_VERSION = 3;

/** The first version with the farming rules (`farmRulesOf`). */
export const FARM_RULES_VERSION = 3;

/** Version 2's policy, as relayers applied it before version 3: evidence settled under it replays with it. */
export const POLICY_V2: RulePolicy = {
  version: 2,
  wordsPerMinute: 200,
  minReadBps: 2_000,
  minCommentLength: 20,
  commentToEarnMinLevel: 13,
  maxCommentRewardsPerUserPerPost: 1,
  maxCommentRewardsPerPost: 20,
  maxPlusesPerUserPerDay: 3,
};

/**
 * The default policy. An honest reader's day (five full reads, three pluses and a dozen likes:
 * 6.2 full reads' worth at the default amounts) stays under every limit, on the first day too.
 */
export const DEFAULT_POLICY: RulePolicy = {
  ...POLICY_V2,
  version: RULES_VERSION,
  voteToEarnMinLevel: 2,
  maxLikesPerUserPerDay: 20,
  earningRamp: [
    { belowLevel: 5, maxReadsPerDay: 8 },
    { belowLevel: 13, maxReadsPerDay: 25 },
  ],
  maxReadsEarnedPerUserPerDay: 200,
};

/**
 * A policy's farming rules, or undefined before version 3 (which had none: older evidence
 * replays exactly as it was accepted).
 *
 * @example
 * farmRulesOf(DEFAULT_POLICY)?.voteToEarnMinLevel // 2
 */
export function farmRulesOf(policy: RulePolicy): FarmRules | undefined {
  if (policy.version < FARM_RULES_VERSION) return undefined;
  const { voteToEarnMinLevel, maxLikesPerUserPerDay, earningRamp, maxReadsEarnedPerUserPerDay } = policy;
  if (
    voteToEarnMinLevel === undefined ||
    maxLikesPerUserPerDay === undefined ||
    earningRamp === undefined ||
    maxReadsEarnedPerUserPerDay === undefined
  )
    throw new RangeError(
      `a version ${policy.version} policy needs voteToEarnMinLevel, maxLikesPerUserPerDay, earningRamp and maxReadsEarnedPerUserPerDay`,
    );
  return { voteToEarnMinLevel, maxLikesPerUserPerDay, earningRamp, maxReadsEarnedPerUserPerDay };
}

/** What an account may earn per UTC day, and which rule sets that limit. */
export interface DailyEarningLimit {
  /** Wei of Twei. */
  readonly max: bigint;
  /** `new_account_ramp` when the ramp's step for the level is below the per-user cap. */
  readonly rule: "new_account_ramp" | "daily_earning_cap";
}

/**
 * What an account at `level` may earn per UTC day under `rules`, priced by the rule set's
 * Read-to-Earn amount: the ramp's first step above its level, or the per-user cap when that is
 * lower (or the level is past the ramp).
 *
 * @example
 * dailyEarningLimit(farmRulesOf(DEFAULT_POLICY)!, 1, DEFAULT_RULE_AMOUNTS) // { max: 8 Twei, rule: "new_account_ramp" }
 */
export function dailyEarningLimit(rules: FarmRules, level: number, amounts: RuleAmounts): DailyEarningLimit {
  const fullRead = amounts[ActionKind.ReadToEarn] ?? 0n;
  const step = rules.earningRamp.find((s) => level < s.belowLevel);
  return step !== undefined && step.maxReadsPerDay < rules.maxReadsEarnedPerUserPerDay
    ? { max: BigInt(step.maxReadsPerDay) * fullRead, rule: "new_account_ramp" }
    : { max: BigInt(rules.maxReadsEarnedPerUserPerDay) * fullRead, rule: "daily_earning_cap" };
}

/** The UTC day (days since the epoch) of a unix time in seconds: the daily budgets' day. */
export const utcDayOf = (occurredAt: number): number => Math.floor(occurredAt / 86_400);

/**
 * The time to read a post of `wordCount` words, in whole seconds (at least one).
 *
 * @example
 * secondsToRead(DEFAULT_POLICY, 1_000) // 300
 */
export function secondsToRead(policy: RulePolicy, wordCount: number): number {
  return Math.max(1, Math.ceil((wordCount * 60) / policy.wordsPerMinute));
}
