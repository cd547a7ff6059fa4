import { addLines, emptyLines } from "./lines.js";
import type { Deltas } from "./deltas.js";

/**
 * Adds `delta` into `into`, row by row (copying the lines, never sharing them), so several
 * blocks' deltas can be applied to the store at once.
 *
 * @example
 * const pending = createDeltas(); for (const block of blocks) addDeltas(pending, block.deltas)
 */
export function addDeltas(into: Deltas, delta: Deltas): void {
  for (const [postId, byAccount] of delta.postAccount) {
    let target = into.postAccount.get(postId);
    if (target === undefined) {
      target = new Map();
      into.postAccount.set(postId, target);
    }
    for (const [account, row] of byAccount) {
      let existing = target.get(account);
      if (existing === undefined) {
        existing = { postId, account, lines: emptyLines() };
        target.set(account, existing);
      }
      addLines(existing.lines, row.lines);
    }
  }
  for (const [postId, lines] of delta.post) {
    let existing = into.post.get(postId);
    if (existing === undefined) {
      existing = emptyLines();
      into.post.set(postId, existing);
    }
    addLines(existing, lines);
  }
  for (const [account, lines] of delta.account) {
    let existing = into.account.get(account);
    if (existing === undefined) {
      existing = emptyLines();
      into.account.set(account, existing);
    }
    addLines(existing, lines);
  }
}
