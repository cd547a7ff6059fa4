import type { Address } from "viem";
import { ActionKind } from "../../core/kinds.js";
import { IndexerError } from "../errors.js";
import type { IndexerStore } from "../store/IndexerStore.js";
import { postReportFrom, type PostReport } from "./postReportFrom.js";

export interface BuildPostReportParameters {
  readonly postId: bigint;
  /** One account's lines on the post; everyone's when absent. */
  readonly account?: Address | undefined;
}

export type BuildPostReportReturnType = PostReport;

/** Nothing is indexed yet, so no report has a block to be computed at. */
export class NotIndexedYetError extends IndexerError {
  override name = "NotIndexedYetError";
  override readonly retryable = true;
}

/**
 * The PnL report of a post as of the indexer's checkpoint: two indexed reads (the post's or
 * the account's aggregate row), whatever the number of participants.
 *
 * @example
 * const report = await buildPostReport(store, { postId: 42n, account: "0x…" })
 * console.log(formatReportTable(report))
 */
export async function buildPostReport(
  store: IndexerStore,
  parameters: BuildPostReportParameters,
): Promise<BuildPostReportReturnType> {
  const { postId, account } = parameters;
  // One snapshot: the lines are those of the checkpoint the report names.
  return store.snapshot(async (reads) => {
    const block = await reads.checkpoint();
    if (block === null) throw new NotIndexedYetError("nothing is indexed yet");
    const [post, totals, own, rules] = await Promise.all([
      reads.post(postId),
      reads.postTotals(postId),
      account === undefined ? Promise.resolve(null) : reads.postAccountLines(postId, account),
      reads.ruleSetAt(block.number),
    ]);
    return postReportFrom({
      postId,
      post,
      account: account ?? null,
      lines: account === undefined ? (totals?.lines ?? null) : own,
      participants: totals?.participants ?? 0,
      reportPrice: rules?.amounts[ActionKind.PnLReports] ?? 0n,
      block,
    });
  });
}
