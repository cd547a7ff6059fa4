import type { Address } from "viem";
import { addAction, emptyLines, type KindLines } from "./lines.js";
import type { ActionOutcome } from "./batchOutcomes.js";

/** What some actions add to the aggregates the reports read, keyed like the store's tables. */
export interface Deltas {
  /** `${postId}:${account}` → the account's lines on the post. */
  readonly postAccount: Map<string, { postId: bigint; account: Address; lines: KindLines }>;
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
  for (const { postId, account, kind, amount, paid } of actions) {
    const key = `${postId}:${account}`;
    let pa = deltas.postAccount.get(key);
    if (pa === undefined) {
      pa = { postId, account, lines: emptyLines() };
      deltas.postAccount.set(key, pa);
    }
    addAction(pa.lines, kind, amount, paid, sign);
    let post = deltas.post.get(postId);
    if (post === undefined) {
      post = emptyLines();
      deltas.post.set(postId, post);
    }
    addAction(post, kind, amount, paid, sign);
    let acc = deltas.account.get(account);
    if (acc === undefined) {
      acc = emptyLines();
      deltas.account.set(account, acc);
    }
    addAction(acc, kind, amount, paid, sign);
  }
}
