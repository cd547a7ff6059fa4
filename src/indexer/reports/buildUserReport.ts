import type { Address, Hex } from "viem";
import { FIRST_BURN_KIND } from "../../core/kinds.js";
import { LEVEL_CURVE_VERSION, levelFor } from "../../core/levels.js";
import type { KindLines } from "../decode/lines.js";
import type { IndexerStore } from "../store/IndexerStore.js";
import { NotIndexedYetError } from "./buildPostReport.js";

export interface UserPostSummary {
  readonly postId: bigint;
  readonly earned: bigint;
  readonly spent: bigint;
  readonly net: bigint;
}

/** One user across posts: what was minted to them, burned from them, and their level. */
export interface UserReport {
  readonly account: Address;
  /** Paid mints (every earned and profit line). */
  readonly earned: bigint;
  /** Paid burns (every loss line). */
  readonly spent: bigint;
  readonly net: bigint;
  /** From `earned` by the public level curve (src/core/levels.ts). */
  readonly level: number;
  readonly levelCurveVersion: number;
  /** Burns that could not be paid; not in `spent`. */
  readonly shortfall: { readonly amount: bigint; readonly count: number };
  /** The token balance from indexed Transfer logs (includes ordinary transfers). */
  readonly balance: bigint;
  readonly posts: readonly UserPostSummary[];
  readonly block: { readonly number: bigint; readonly hash: Hex };
}

function sums(lines: KindLines | null) {
  let earned = 0n;
  let spent = 0n;
  let shortfall = 0n;
  let shortfallCount = 0;
  lines?.forEach((line, kind) => {
    if (line === undefined) return;
    if (kind < FIRST_BURN_KIND) earned += line.paid;
    else {
      spent += line.paid;
      shortfall += line.shortfall;
      shortfallCount += line.shortfallCount;
    }
  });
  return { earned, spent, shortfall, shortfallCount };
}

/**
 * A user's totals across posts as of the checkpoint, with up to `postLimit` posts.
 *
 * @example
 * const { earned, level } = await buildUserReport(store, { account: "0x…" })
 */
export async function buildUserReport(
  store: IndexerStore,
  parameters: { account: Address; postLimit?: number },
): Promise<UserReport> {
  // One snapshot: the figures are those of the checkpoint the report names.
  const { block, lines, posts, balance } = await store.snapshot(async (reads) => {
    const checkpoint = await reads.checkpoint();
    if (checkpoint === null) throw new NotIndexedYetError("nothing is indexed yet");
    const [accountLines, accountPosts, accountBalance] = await Promise.all([
      reads.accountLines(parameters.account),
      reads.accountPosts(parameters.account, parameters.postLimit ?? 100),
      reads.balance(parameters.account),
    ]);
    return { block: checkpoint, lines: accountLines, posts: accountPosts, balance: accountBalance };
  });
  const total = sums(lines);
  return {
    account: parameters.account,
    earned: total.earned,
    spent: total.spent,
    net: total.earned - total.spent,
    level: levelFor(total.earned),
    levelCurveVersion: LEVEL_CURVE_VERSION,
    shortfall: { amount: total.shortfall, count: total.shortfallCount },
    balance,
    posts: posts.map(({ postId, lines: postLines }) => {
      const s = sums(postLines);
      return { postId, earned: s.earned, spent: s.spent, net: s.earned - s.spent };
    }),
    block,
  };
}
