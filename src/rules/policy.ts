/**
 * The rules' thresholds: public policy, versioned. A change of any value is a new version,
 * so evidence settled under one version is re-checked with that version's values.
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
}

/** Version 2 added the daily budget of pluses (`maxPlusesPerUserPerDay`). */
export const RULES_VERSION = 2;

export const DEFAULT_POLICY: RulePolicy = {
  version: RULES_VERSION,
  wordsPerMinute: 200,
  minReadBps: 2_000,
  minCommentLength: 20,
  commentToEarnMinLevel: 13,
  maxCommentRewardsPerUserPerPost: 1,
  maxCommentRewardsPerPost: 20,
  maxPlusesPerUserPerDay: 3,
};

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
