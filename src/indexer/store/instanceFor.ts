import type { Address } from "viem";
import { canonicalReportJson, reportContentHash } from "../reports/canonicalReport.js";
import { postReportFrom } from "../reports/postReportFrom.js";
import type { AggregateRow, BlockRef, PostRow, Purchase, ReportInstanceRow } from "./IndexerStore.js";

/**
 * The report instance a PnL Reports burn bought: the post's report for everyone on it as of
 * the end of the purchase's block, in canonical JSON, and its hash.
 *
 * @example
 * const instance = instanceFor({ purchase, block, post, totals, reportPrice })
 */
export function instanceFor(parameters: {
  purchase: Purchase;
  block: BlockRef;
  post: PostRow | null;
  totals: AggregateRow;
  reportPrice: bigint;
}): ReportInstanceRow {
  const { purchase, block, post, totals } = parameters;
  const report = postReportFrom({
    postId: purchase.postId,
    post: post === null ? null : { siteId: post.siteId, author: post.author as Address },
    account: null,
    lines: totals.lines,
    participants: totals.participants,
    reportPrice: parameters.reportPrice,
    block: { number: block.number, hash: block.hash },
  });
  const content = canonicalReportJson(report);
  return {
    id: `${purchase.batchId}-${purchase.actionIndex}`,
    postId: purchase.postId,
    buyer: purchase.buyer,
    batchId: purchase.batchId,
    actionIndex: purchase.actionIndex,
    blockNumber: block.number,
    blockHash: block.hash,
    content,
    contentHash: reportContentHash(content),
  };
}
