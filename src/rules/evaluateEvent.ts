import { zeroAddress, type Address, type Hex } from "viem";
import { ActionKind, BPS, FIRST_BURN_KIND } from "../core/kinds.js";
import { levelFor } from "../core/levels.js";
import type { AccountAction, PostRegistration } from "../core/packedActions.js";
import { postIdFor } from "../core/postId.js";
import { amountFor, type RuleAmounts } from "../core/ruleSet.js";
import type { SiteEvent } from "../evidence/siteEvent.js";
import { capEarnings, type LeftOutAction } from "./capEarnings.js";
import { farmRulesOf, secondsToRead, utcDayOf, type RulePolicy } from "./policy.js";
import { requirePersonhood } from "./requirePersonhood.js";
import { keys, type RuleEffects, type RulesState, type RuleTally } from "./rulesState.js";

/** Why an event was rejected: stable codes, documented in the API. */
export type RejectionCode =
  | "zero_address"
  | "unknown_post"
  | "post_exists"
  | "unknown_comment"
  | "comment_exists"
  | "comment_of_other_post"
  | "self_read"
  | "self_vote"
  | "self_reaction"
  | "already_read"
  | "already_voted"
  | "already_reacted"
  | "daily_budget_spent"
  | "daily_like_budget_spent"
  | "new_account_ramp"
  | "daily_earning_cap"
  | "read_too_short"
  | "insufficient_funds"
  | "funds_unknown"
  | "personhood_required"
  | "personhood_unknown"
  // Decided by the relayer at acceptance from the chain, beside these rules (src/relayer/api/postEvents.ts):
  | "post_id_taken"
  | "post_registry_unknown"
  | "ledger_refuses";

export interface RuleAccepted {
  readonly accepted: true;
  /** The ledger actions, in the order the event produced them. */
  readonly actions: readonly AccountAction[];
  /** The post the event registers on-chain (post_published). */
  readonly registers?: PostRegistration;
  readonly effects: RuleEffects;
  /**
   * Why an optional action was left out or trimmed (e.g. a comment that earns no reward). Notes
   * of the farming rules (version 3) start with their rule's code: `vote_not_earning:`,
   * `new_account_ramp:` or `daily_earning_cap:`.
   */
  readonly notes: readonly string[];
  /**
   * The mints the farming rules (version 3) left out or trimmed, as they were before: the
   * auditor names the rule when a chain paid one of them anyway. Absent when none.
   */
  readonly leftOut?: readonly LeftOutAction[];
  /** The personhood attestation (EAS UID) the event's mints relied on, when the policy asks for one. */
  readonly attestation?: Hex;
}

export interface RuleRejected {
  readonly accepted: false;
  readonly code: RejectionCode;
  readonly message: string;
}

export type RuleOutcome = RuleAccepted | RuleRejected;

export interface EvaluateEventParameters {
  readonly siteId: number;
  readonly event: SiteEvent;
  readonly policy: RulePolicy;
  /** The on-chain rule set's amounts (to price spends). */
  readonly amounts: RuleAmounts;
  readonly state: RulesState;
}

const reject = (code: RejectionCode, message: string): RuleRejected => ({ accepted: false, code, message });

// Post ids repeat across events; the derivation is a keccak, so memoise it (still pure).
const postIdMemo = new Map<string, bigint>();
function chainPostId(siteId: number, postId: string): bigint {
  const key = `${siteId}:${postId}`;
  let id = postIdMemo.get(key);
  if (id === undefined) {
    // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement,CallExpression: the memo's size bound: clearing it or not gives the same ids.
    if (postIdMemo.size > 100_000) postIdMemo.clear();
    id = postIdFor(siteId, postId);
    // Stryker disable next-line CallExpression: a memo: not filling it gives the same ids.
    postIdMemo.set(key, id);
  }
  return id;
}

/**
 * Turns one site event into ledger actions, or rejects it with a reason, under a policy and
 * rule set, given the site's history and the accounts' funds. Pure: no clock, no I/O; the
 * same inputs always give the same outcome, so the auditor can re-run it on the evidence.
 *
 * @example
 * const outcome = evaluateEvent({ siteId: 1, event, policy: DEFAULT_POLICY, amounts, state })
 * if (!outcome.accepted) console.log(outcome.code)
 */
export function evaluateEvent(parameters: EvaluateEventParameters): RuleOutcome {
  const leftOut: LeftOutAction[] = [];
  const outcome = evaluate(parameters, leftOut);
  return requirePersonhood(parameters, outcome.accepted && leftOut.length > 0 ? { ...outcome, leftOut } : outcome);
}

function evaluate(parameters: EvaluateEventParameters, leftOut: LeftOutAction[]): RuleOutcome {
  const { siteId, event, policy, amounts, state } = parameters;
  const user = event.user;
  // Nobody holds the zero address's key: the ledger refuses it, so the rules do first.
  if (user === zeroAddress) return reject("zero_address", "the user is the zero address, which nobody can act as");
  const postId = chainPostId(siteId, event.postId);
  const act = (account: Address, kind: ActionKind, units = 1): AccountAction => ({ account, kind, units, postId });

  /** Rejects unless `account` can pay the burns of `actions` charged to it. */
  const affordable = (account: Address, actions: readonly AccountAction[]): RuleRejected | undefined => {
    let cost = 0n;
    for (const a of actions)
      if (a.kind >= FIRST_BURN_KIND && a.account === account) cost += amountFor(amounts, a.kind, a.units);
    if (cost === 0n) return undefined;
    const spendable = state.spendable(account);
    if (spendable === undefined)
      return reject("funds_unknown", `the funds of ${account} cannot be read from the chain now; retry later`);
    if (spendable < cost)
      return reject(
        "insufficient_funds",
        `${account} can spend ${spendable} wei (balance and allowance to the ledger, less pending spends), the event costs ${cost}`,
      );
    return undefined;
  };

  // Stryker disable next-line OptionalChaining: asked only about a post the state knows (votes and reactions).
  const isAuthorOfPost = () => state.post(event.postId)?.author === user;
  // The farming rules (policy version 3; none before, so older evidence replays as it was).
  const farm = farmRulesOf(policy);
  const day = utcDayOf(event.occurredAt);
  /** Fits the mints under the accounts' daily earning limits; the notes say what was cut. */
  const capped = (actions: readonly AccountAction[], notes: string[]) => {
    if (!farm) return { actions: [...actions], tallies: [] };
    const fit = capEarnings({ actions, rules: farm, day, amounts, state });
    notes.push(...fit.notes);
    leftOut.push(...fit.leftOut);
    return { actions: fit.actions, tallies: fit.tallies };
  };
  /**
   * A vote's mints are paid only when its voter was paid for reading the post and is at the
   * policy's level; otherwise they are left out (its burns stay), with a note.
   */
  const voteEarnings = (actions: readonly AccountAction[], notes: string[]): AccountAction[] => {
    if (!farm) return [...actions];
    const hasMints = actions.some((a) => a.kind < FIRST_BURN_KIND);
    if (!hasMints) return [...actions];
    let why: string | undefined;
    // The post's author wrote it: they count as its reader.
    if (!isAuthorOfPost() && !state.has(keys.read(event.postId, user)))
      why = `${user} was not paid for reading post ${event.postId}`;
    else {
      const level = levelFor(state.earned(user));
      if (level < farm.voteToEarnMinLevel) why = `level ${level} is below ${farm.voteToEarnMinLevel}`;
    }
    if (why === undefined) return [...actions];
    const note = `vote_not_earning: the vote pays nobody: ${why}`;
    notes.push(note);
    for (const action of actions) if (action.kind < FIRST_BURN_KIND) leftOut.push({ action, note });
    return actions.filter((a) => a.kind >= FIRST_BURN_KIND);
  };

  if (event.type === "post_published") {
    if (state.post(event.postId)) return reject("post_exists", `post ${event.postId} was published already`);
    const actions = [act(user, ActionKind.PostPublishTribute)];
    const poor = affordable(user, actions);
    if (poor) return poor;
    return {
      accepted: true,
      actions,
      registers: { postId, author: user },
      effects: { markers: [], counters: [], post: { postId: event.postId, author: user, wordCount: event.wordCount } },
      notes: [],
    };
  }

  const post = state.post(event.postId);
  if (!post) return reject("unknown_post", `post ${event.postId} was not published through the relayer`);
  const isAuthor = post.author === user;

  switch (event.type) {
    case "post_read": {
      if (isAuthor) return reject("self_read", "the author does not earn for reading their own post");
      const marker = keys.read(event.postId, user);
      if (state.has(marker)) return reject("already_read", `${user} was paid for reading post ${event.postId} already`);
      const toRead = secondsToRead(policy, post.wordCount);
      const units = Math.min(BPS, Math.floor((event.secondsRead * BPS) / toRead));
      if (units < policy.minReadBps || units < 1)
        return reject(
          "read_too_short",
          `${event.secondsRead} s of ${toRead} s to read is ${units} bps, below the minimum of ${policy.minReadBps} bps`,
        );
      const notes: string[] = [];
      const paid = capped([act(user, ActionKind.ReadToEarn, units)], notes);
      if (paid.actions.length === 0) {
        const limit = farm && capEarningsRule(notes);
        return reject(limit ?? "daily_earning_cap", notes.join("; "));
      }
      return {
        accepted: true,
        actions: paid.actions,
        effects: { markers: [marker], counters: [], ...(farm ? { tallies: paid.tallies } : {}) },
        notes,
      };
    }
    case "post_plus":
    case "post_minus": {
      if (isAuthor) return reject("self_vote", "the author cannot vote on their own post");
      const marker = keys.vote(event.postId, user);
      if (state.has(marker)) return reject("already_voted", `${user} voted on post ${event.postId} already`);
      const counters: string[] = [];
      if (event.type === "post_plus") {
        const budget = keys.plusesOfUserOnDay(user, utcDayOf(event.occurredAt));
        if (state.count(budget) >= policy.maxPlusesPerUserPerDay)
          return reject(
            "daily_budget_spent",
            `${user} gave ${policy.maxPlusesPerUserPerDay} pluses on this UTC day already, the daily budget`,
          );
        counters.push(budget);
      }
      const notes: string[] = [];
      const voted =
        event.type === "post_plus"
          ? [act(post.author, ActionKind.EarnedForPluses)]
          : [act(user, ActionKind.SpentForMinuses)];
      const { actions, tallies } = capped(voteEarnings(voted, notes), notes);
      return (
        affordable(user, actions) ?? {
          accepted: true,
          actions,
          effects: { markers: [marker], counters, ...(farm ? { tallies } : {}) },
          notes,
        }
      );
    }
    case "comment_created": {
      if (state.comment(event.commentId)) return reject("comment_exists", `comment ${event.commentId} exists already`);
      const actions = [act(user, ActionKind.CommentTributes)];
      const notes: string[] = [];
      const counters: string[] = [];
      const tallies: RuleTally[] = [];
      const userCounter = keys.commentRewardsOfUser(event.postId, user);
      const postCounter = keys.commentRewardsOfPost(event.postId);
      const level = levelFor(state.earned(user));
      if (event.length < policy.minCommentLength)
        notes.push(`no Comment Rewards: shorter than ${policy.minCommentLength} characters`);
      else if (level < policy.commentToEarnMinLevel)
        notes.push(`no Comment Rewards: level ${level} is below ${policy.commentToEarnMinLevel}`);
      else if (state.count(userCounter) >= policy.maxCommentRewardsPerUserPerPost)
        notes.push(`no Comment Rewards: ${policy.maxCommentRewardsPerUserPerPost} per user and post reached`);
      else if (state.count(postCounter) >= policy.maxCommentRewardsPerPost)
        notes.push(`no Comment Rewards: ${policy.maxCommentRewardsPerPost} per post reached`);
      else {
        const reward = capped([act(user, ActionKind.CommentRewards)], notes);
        if (reward.actions.length > 0) {
          actions.unshift(...reward.actions);
          counters.push(userCounter, postCounter);
          tallies.push(...reward.tallies);
        }
      }
      const poor = affordable(user, actions);
      if (poor) return poor;
      return {
        accepted: true,
        actions,
        effects: {
          markers: [],
          counters,
          ...(farm ? { tallies } : {}),
          comment: { commentId: event.commentId, author: user, postId: event.postId },
        },
        notes,
      };
    }
    case "comment_liked":
    case "comment_disliked": {
      const comment = state.comment(event.commentId);
      if (!comment) return reject("unknown_comment", `comment ${event.commentId} is not known`);
      if (comment.postId !== event.postId)
        return reject("comment_of_other_post", `comment ${event.commentId} is on post ${comment.postId}`);
      if (comment.author === user) return reject("self_reaction", "nobody reacts to their own comment for Twei");
      const marker = keys.reaction(event.commentId, user);
      if (state.has(marker))
        return reject("already_reacted", `${user} liked or disliked comment ${event.commentId} already`);
      const liked = event.type === "comment_liked";
      const counters: string[] = [];
      if (farm && liked) {
        const budget = keys.likesOfUserOnDay(user, day);
        if (state.count(budget) >= farm.maxLikesPerUserPerDay)
          return reject(
            "daily_like_budget_spent",
            `${user} liked ${farm.maxLikesPerUserPerDay} comments on this UTC day already, the daily budget`,
          );
        counters.push(budget);
      }
      const reacted = liked
        ? [act(user, ActionKind.LikesOwn), act(comment.author, ActionKind.LikesCommenter)]
        : [act(user, ActionKind.DislikesOwn), act(comment.author, ActionKind.DislikesCommenter)];
      const notes: string[] = [];
      // The post's author earns from reactions on their post, but not from their own.
      if (isAuthor) notes.push("no Likes/Dislikes Author: the reaction is the post author's own");
      else reacted.push(act(post.author, liked ? ActionKind.LikesAuthor : ActionKind.DislikesAuthor));
      const { actions, tallies } = capped(voteEarnings(reacted, notes), notes);
      // Only the reacting user's own spend is checked: Dislikes Commenter is a penalty,
      // which the ledger records as a shortfall if it cannot be paid.
      const poor = affordable(user, actions);
      if (poor) return poor;
      return {
        accepted: true,
        actions,
        effects: { markers: [marker], counters, ...(farm ? { tallies } : {}) },
        notes,
      };
    }
    case "report_purchased": {
      const actions = [act(user, ActionKind.PnLReports)];
      return affordable(user, actions) ?? accepted(actions, { markers: [], counters: [] });
    }
  }
}

function accepted(actions: AccountAction[], effects: RuleEffects): RuleAccepted {
  return { accepted: true, actions, effects, notes: [] };
}

/** The rule named by the note of a Read-to-Earn left out entirely. */
function capEarningsRule(notes: readonly string[]): "new_account_ramp" | "daily_earning_cap" {
  // Stryker disable next-line MethodExpression: a Read-to-Earn left out has one note, so some and every agree.
  return notes.some((note) => note.startsWith("new_account_ramp:")) ? "new_account_ramp" : "daily_earning_cap";
}
