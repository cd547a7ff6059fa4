import type { Address } from "viem";
import { FIRST_BURN_KIND } from "../core/kinds.js";
import { amountFor, type RuleAmounts } from "../core/ruleSet.js";
import type { RuleAccepted } from "./evaluateEvent.js";
import type { KnownComment, KnownPost, RulesState } from "./rulesState.js";

export interface MemoryRulesState extends RulesState {
  /** Records an accepted event's effects and reserves its burns against the funds. */
  apply(outcome: RuleAccepted, amounts: RuleAmounts): void;
}

export interface CreateMemoryRulesStateParameters {
  /** Earned (minted) Twei per account; 0 when absent. */
  readonly earned?: ReadonlyMap<Address, bigint>;
  /** min(balance, allowance) per account; unknown (undefined) when absent unless `defaultFunds` is set. */
  readonly funds?: ReadonlyMap<Address, bigint>;
  readonly defaultFunds?: bigint;
}

/**
 * A site's rules state in memory: for tests, and for the auditor replaying evidence in order.
 *
 * @example
 * const state = createMemoryRulesState({ defaultFunds: 0n });
 * const outcome = evaluateEvent({ siteId, event, policy, amounts, state });
 * if (outcome.accepted) state.apply(outcome, amounts);
 */
export function createMemoryRulesState(parameters: CreateMemoryRulesStateParameters = {}): MemoryRulesState {
  const posts = new Map<string, KnownPost>();
  const comments = new Map<string, KnownComment>();
  const markers = new Set<string>();
  const counters = new Map<string, number>();
  const tallies = new Map<string, bigint>();
  const reserved = new Map<Address, bigint>();
  const key = (account: Address) => account.toLowerCase() as Address;
  return {
    post: (postId) => posts.get(postId),
    comment: (commentId) => comments.get(commentId),
    has: (marker) => markers.has(marker),
    count: (counter) => counters.get(counter) ?? 0,
    tally: (key) => tallies.get(key) ?? 0n,
    earned: (account) => parameters.earned?.get(key(account)) ?? 0n,
    spendable(account) {
      const funds = parameters.funds?.get(key(account)) ?? parameters.defaultFunds;
      return funds === undefined ? undefined : funds - (reserved.get(key(account)) ?? 0n);
    },
    apply(outcome, amounts) {
      const { effects } = outcome;
      for (const marker of effects.markers) markers.add(marker);
      for (const counter of effects.counters) counters.set(counter, (counters.get(counter) ?? 0) + 1);
      for (const { key, amount } of effects.tallies ?? []) tallies.set(key, (tallies.get(key) ?? 0n) + amount);
      if (effects.post)
        posts.set(effects.post.postId, { author: effects.post.author, wordCount: effects.post.wordCount });
      if (effects.comment)
        comments.set(effects.comment.commentId, { author: effects.comment.author, postId: effects.comment.postId });
      for (const action of outcome.actions)
        if (action.kind >= FIRST_BURN_KIND) {
          const account = key(action.account);
          reserved.set(account, (reserved.get(account) ?? 0n) + amountFor(amounts, action.kind, action.units));
        }
    },
  };
}
