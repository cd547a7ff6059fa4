import { getAddress, keccak256, stringToHex, type Hex } from "viem";
import type { PostReport } from "./postReportFrom.js";

/** Bumped whenever the canonical form below changes. */
export const CANONICAL_REPORT_VERSION = 1;

/**
 * The canonical JSON of a report, the content a report instance's hash commits to. Anyone
 * can rebuild it from the chain: sum the post's actions of every `BatchSettled` up to the
 * block (amounts from the batch's rule set, burns named by a `BurnShortfall` as shortfalls),
 * then write exactly this:
 * - one JSON object, no whitespace, keys in the order written here;
 * - integers that can exceed 2^53 (ids, block numbers, wei amounts) as decimal strings;
 * - addresses EIP-55 checksummed, hashes lower-case hex, `null` where unknown;
 * - all 13 lines in kind order, each `{kind,label,amount,count,shortfallAmount,shortfallCount}`;
 * - `participants`: the accounts with any action on the post (paid or not) up to the block;
 *   `reportPrice`: PnL Reports' amount in the rule set in force at the end of the block;
 *   `block`: the block of the purchase (the report covers everything up to its end).
 *
 * @example
 * canonicalReportJson(report) // '{"v":1,"postId":"42",…}'
 */
export function canonicalReportJson(report: PostReport): string {
  return JSON.stringify({
    v: CANONICAL_REPORT_VERSION,
    postId: report.postId.toString(),
    siteId: report.siteId,
    author: report.author === null ? null : getAddress(report.author),
    account: report.account === null ? null : getAddress(report.account),
    block: { number: report.block.number.toString(), hash: report.block.hash.toLowerCase() },
    participants: report.participants,
    lines: report.lines.map((line) => ({
      kind: line.kind,
      label: line.label,
      amount: line.amount.toString(),
      count: line.count,
      shortfallAmount: line.shortfall.amount.toString(),
      shortfallCount: line.shortfall.count,
    })),
    readToEarn: report.readToEarn.toString(),
    profitSubtotal: report.profitSubtotal.toString(),
    lossSubtotal: report.lossSubtotal.toString(),
    totalEarned: report.totalEarned.toString(),
    reportPrice: report.reportPrice.toString(),
  });
}

/**
 * keccak256 of the canonical JSON's UTF-8 bytes: a report instance's content hash.
 *
 * @example
 * reportContentHash(canonicalReportJson(report))
 */
export function reportContentHash(canonicalJson: string): Hex {
  return keccak256(stringToHex(canonicalJson));
}
