import type { Address, Hex } from "viem";
import { FIRST_BURN_KIND, KINDS, type KindSection } from "../../core/kinds.js";
import type { KindLines } from "../decode/lines.js";

export interface ReportLine {
  readonly kind: number;
  /** The line's name in the PnL report (src/core/kinds.ts). */
  readonly label: string;
  readonly section: KindSection;
  /** Paid actions only. */
  readonly amount: bigint;
  readonly count: number;
  /** Burns that could not be paid: shown, never counted in the totals. */
  readonly shortfall: { readonly amount: bigint; readonly count: number };
}

/** A PnL report for one post: for one account, or (account null) for everyone on it. */
export interface PostReport {
  readonly postId: bigint;
  readonly siteId: number | null;
  readonly author: Address | null;
  readonly account: Address | null;
  /** Accounts with any action on the post. */
  readonly participants: number;
  /** Every kind, in the report's order. */
  readonly lines: readonly ReportLine[];
  readonly readToEarn: bigint;
  readonly profitSubtotal: bigint;
  readonly lossSubtotal: bigint;
  /** Read-to-Earn + Profit Subtotal − Loss Subtotal. */
  readonly totalEarned: bigint;
  readonly shortfall: { readonly amount: bigint; readonly count: number };
  /** The price of a report instance (PnL Reports' amount) in the rule set of the block. */
  readonly reportPrice: bigint;
  /** The block the report was computed at: everything up to its end is in it. */
  readonly block: { readonly number: bigint; readonly hash: Hex };
}

export interface PostReportFromParameters {
  readonly postId: bigint;
  readonly post: { siteId: number; author: Address } | null;
  readonly account: Address | null;
  readonly lines: KindLines | null;
  readonly participants: number;
  readonly reportPrice: bigint;
  readonly block: { number: bigint; hash: Hex };
}

/**
 * Assembles a report from its aggregated lines (pure: the same lines give the same report).
 *
 * @example
 * const report = postReportFrom({ postId, post, account: null, lines, participants, reportPrice, block })
 */
export function postReportFrom(parameters: PostReportFromParameters): PostReport {
  const { lines } = parameters;
  let readToEarn = 0n;
  let profitSubtotal = 0n;
  let lossSubtotal = 0n;
  let shortfallAmount = 0n;
  let shortfallCount = 0;
  const reportLines = KINDS.map(({ kind, label, section }): ReportLine => {
    const line = lines?.[kind];
    const amount = line?.paid ?? 0n;
    const shortfall = { amount: line?.shortfall ?? 0n, count: line?.shortfallCount ?? 0 };
    if (section === "earned") readToEarn += amount;
    else if (section === "profit") profitSubtotal += amount;
    else lossSubtotal += amount;
    if (kind >= FIRST_BURN_KIND) {
      shortfallAmount += shortfall.amount;
      shortfallCount += shortfall.count;
    }
    return { kind, label, section, amount, count: line?.paidCount ?? 0, shortfall };
  });
  return {
    postId: parameters.postId,
    siteId: parameters.post?.siteId ?? null,
    author: parameters.post?.author ?? null,
    account: parameters.account,
    participants: parameters.participants,
    lines: reportLines,
    readToEarn,
    profitSubtotal,
    lossSubtotal,
    totalEarned: readToEarn + profitSubtotal - lossSubtotal,
    shortfall: { amount: shortfallAmount, count: shortfallCount },
    reportPrice: parameters.reportPrice,
    block: parameters.block,
  };
}
