import { formatUnits, getAddress } from "viem";
import type { ReportInstanceRow } from "../store/IndexerStore.js";
import type { PostReport } from "./postReportFrom.js";
import type { UserReport } from "./buildUserReport.js";

const TWEI_DECIMALS = 18;

/** An amount in JSON: exact wei as a decimal string, and Twei for people. */
export const amountJson = (wei: bigint) => ({ wei: wei.toString(), twei: formatUnits(wei, TWEI_DECIMALS) });

/**
 * The report as served over HTTP and printed by `report --json`.
 *
 * @example
 * res.json(postReportJson(await buildPostReport(store, { postId })))
 */
export function postReportJson(report: PostReport) {
  return {
    postId: report.postId.toString(),
    siteId: report.siteId,
    author: report.author === null ? null : getAddress(report.author),
    account: report.account === null ? null : getAddress(report.account),
    participants: report.participants,
    lines: report.lines.map((line) => ({
      kind: line.kind,
      label: line.label,
      section: line.section,
      amount: amountJson(line.amount),
      count: line.count,
      shortfall: { ...amountJson(line.shortfall.amount), count: line.shortfall.count },
    })),
    readToEarn: amountJson(report.readToEarn),
    profitSubtotal: amountJson(report.profitSubtotal),
    lossSubtotal: amountJson(report.lossSubtotal),
    totalEarned: amountJson(report.totalEarned),
    shortfall: { ...amountJson(report.shortfall.amount), count: report.shortfall.count },
    reportPrice: amountJson(report.reportPrice),
    block: { number: report.block.number.toString(), hash: report.block.hash },
  };
}

export function userReportJson(report: UserReport) {
  return {
    account: getAddress(report.account),
    earned: amountJson(report.earned),
    spent: amountJson(report.spent),
    net: amountJson(report.net),
    level: report.level,
    levelCurveVersion: report.levelCurveVersion,
    shortfall: { ...amountJson(report.shortfall.amount), count: report.shortfall.count },
    balance: amountJson(report.balance),
    posts: report.posts.map((p) => ({
      postId: p.postId.toString(),
      earned: amountJson(p.earned),
      spent: amountJson(p.spent),
      net: amountJson(p.net),
    })),
    block: { number: report.block.number.toString(), hash: report.block.hash },
  };
}

/** A report instance: its id, the block it reflects, its content (the canonical JSON, parsed) and hash. */
export function reportInstanceJson(instance: ReportInstanceRow) {
  return {
    id: instance.id,
    postId: instance.postId.toString(),
    buyer: getAddress(instance.buyer),
    batchId: instance.batchId.toString(),
    actionIndex: instance.actionIndex,
    block: { number: instance.blockNumber.toString(), hash: instance.blockHash },
    contentHash: instance.contentHash,
    content: JSON.parse(instance.content) as unknown,
    canonicalContent: instance.content,
  };
}
