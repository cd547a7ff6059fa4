import type { Address, Hex } from "viem";
import { utcDayOf } from "./policy.js";

/** A post the rules know of: published through the relayer, by `author`. */
export interface KnownPost {
  readonly author: Address;
  readonly wordCount: number;
}

/** A comment the rules know of. */
export interface KnownComment {
  readonly author: Address;
  readonly postId: string;
}

/**
 * Everything the rules read, as input: one site's history (posts, comments, once-per markers,
 * counters) and each account's funds. The relayer backs it with its database and the chain;
 * the auditor with a replay of the evidence. Lookups are synchronous and must not change
 * between calls within one evaluation.
 */
export interface RulesState {
  post(postId: string): KnownPost | undefined;
  comment(commentId: string): KnownComment | undefined;
  /** Whether a once-per marker (see `RuleEffects.markers`) was set. */
  has(marker: string): boolean;
  count(counter: string): number;
  /** A running sum of wei (see `RuleEffects.tallies`): 0 when never added to. */
  tally(key: string): bigint;
  /** What the account has earned (minted to it) on-chain: its level comes from it. */
  earned(account: Address): bigint;
  /**
   * What the account can still spend: min(balance, allowance to the ledger) less the burns
   * already accepted and not yet settled; undefined when unknown (the chain could not be read).
   */
  spendable(account: Address): bigint | undefined;
  /**
   * The UID of a valid personhood attestation of the account (policy `personhood`): read from
   * EAS by the relayer at acceptance, taken from the evidence by the auditor. Undefined (or
   * absent) when there is none: then the account is not attested.
   */
  attestation?(account: Address): Hex | undefined;
  /**
   * Whether the account's attestations could not be read (the chain unreachable at acceptance):
   * then an event that would mint for it is rejected as `personhood_unknown`, to be sent again,
   * rather than taken as unattested. The relayer's only; the auditor replays evidence, where
   * every attestation was read.
   */
  attestationUnknown?(account: Address): boolean;
}

/** What accepting an event changes in the rules' state. */
export interface RuleEffects {
  readonly markers: readonly string[];
  readonly counters: readonly string[];
  /** Wei added to running sums (what an account earned on a UTC day). Since rules version 3. */
  readonly tallies?: readonly RuleTally[];
  readonly post?: { readonly postId: string } & KnownPost;
  readonly comment?: { readonly commentId: string } & KnownComment;
}

/** Wei added to the running sum `key`. */
export interface RuleTally {
  readonly key: string;
  readonly amount: bigint;
}

/**
 * The once-per markers an event's evaluation may look up: lets a store fetch them all at once.
 *
 * @example
 * const markers = events.flatMap(markersOf)
 */
export function markersOf(event: { type: string; user: Address; postId: string; commentId?: string }): string[] {
  switch (event.type) {
    // Stryker disable next-line ConditionalExpression: falling through to the votes' case names a marker more, which loads nothing wrong.
    case "post_read":
      return [keys.read(event.postId, event.user)];
    // A vote also asks whether its voter was paid for reading the post (rules version 3).
    case "post_plus":
    case "post_minus":
      return [keys.vote(event.postId, event.user), keys.read(event.postId, event.user)];
    case "comment_liked":
    case "comment_disliked":
      // Stryker disable next-line ConditionalExpression: keys named after an undefined comment id match no stored marker.
      return event.commentId === undefined
        ? []
        : [keys.reaction(event.commentId, event.user), keys.read(event.postId, event.user)];
    default:
      return [];
  }
}

/**
 * The counters an event's evaluation may look up (the daily budgets and the comment reward
 * counts): lets a store fetch them all at once.
 *
 * @example
 * const counters = events.flatMap(countersOf)
 */
export function countersOf(event: { type: string; user: Address; postId: string; occurredAt: number }): string[] {
  const day = utcDayOf(event.occurredAt);
  switch (event.type) {
    case "post_plus":
      return [keys.plusesOfUserOnDay(event.user, day)];
    case "comment_liked":
      return [keys.likesOfUserOnDay(event.user, day)];
    case "comment_created":
      return [keys.commentRewardsOfUser(event.postId, event.user), keys.commentRewardsOfPost(event.postId)];
    default:
      return [];
  }
}

/** Once-per markers and counters, named here so the relayer and auditor agree on them. */
export const keys = {
  vote: (postId: string, user: Address) => `vote:${postId}:${user}`,
  read: (postId: string, user: Address) => `read:${postId}:${user}`,
  reaction: (commentId: string, user: Address) => `react:${commentId}:${user}`,
  commentRewardsOfUser: (postId: string, user: Address) => `crew:${postId}:${user}`,
  commentRewardsOfPost: (postId: string) => `crew:${postId}`,
  /** Pluses `user` gave on UTC day `day` (see `utcDayOf`). */
  plusesOfUserOnDay: (user: Address, day: number) => `plus:${day}:${user}`,
  /** Comment likes `user` gave on UTC day `day` (rules version 3). */
  likesOfUserOnDay: (user: Address, day: number) => `like:${day}:${user}`,
  /** The tally of wei minted to `account` on UTC day `day` (rules version 3). */
  earnedOnDay: (account: Address, day: number) => `earn:${day}:${account.toLowerCase()}`,
};
