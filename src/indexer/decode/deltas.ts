import type { Address } from "viem";
import { addAction, emptyLines, type KindLines } from "./lines.js";
import type { ActionOutcome } from "./batchOutcomes.js";

export interface PostAccountDelta {
  readonly postId: bigint;
  readonly account: Address;
  readonly lines: KindLines;
}

/** What some actions add to the aggregates the reports read, keyed like the store's tables. */
export interface Deltas {
  /** postId → account → the account's lines on the post. */
  readonly postAccount: Map<bigint, Map<Address, PostAccountDelta>>;
  readonly post: Map<bigint, KindLines>;
  readonly account: Map<Address, KindLines>;
}

export function createDeltas(): Deltas {
  return { postAccount: new Map(), post: new Map(), account: new Map() };
}

/**
 * Adds (sign 1) or takes back (sign -1) actions' outcomes to `deltas`.
 *
 * @example
 * addOutcomes(deltas, batchOutcomes(batch, rules, shortfalls).actions, 1)
 */
export function addOutcomes(deltas: Deltas, actions: readonly ActionOutcome[], sign: 1 | -1): void {
  let lastPostId: bigint | undefined;
  let byAccount: Map<Address, PostAccountDelta> | undefined;
  let postLines: KindLines | undefined;
  for (const { postId, account, kind, amount, paid } of actions) {
    // Actions come grouped by account, often on one post: remember the last post's maps.
    if (postId !== lastPostId || byAccount === undefined || postLines === undefined) {
      lastPostId = postId;
      byAccount = deltas.postAccount.get(postId);
      if (byAccount === undefined) {
        byAccount = new Map();
        deltas.postAccount.set(postId, byAccount);
      }
      postLines = deltas.post.get(postId);
      if (postLines === undefined) {
        postLines = emptyLines();
        deltas.post.set(postId, postLines);
      }
    }
    let pa = byAccount.get(account);
    if (pa === undefined) {
      pa = { postId, account, lines: emptyLines() };
      byAccount.set(account, pa);
    }
    addAction(pa.lines, kind, amount, paid, sign);
    addAction(postLines, kind, amount, paid, sign);
    let acc = deltas.account.get(account);
    if (acc === undefined) {
      acc = emptyLines();
      deltas.account.set(account, acc);
    }
    addAction(acc, kind, amount, paid, sign);
  }
}
