import Table from "cli-table3";
import { formatUnits, getAddress } from "viem";
import type { UserReport } from "./buildUserReport.js";
import type { PostReport } from "./postReportFrom.js";

const twei = (wei: bigint) => formatUnits(wei, 18);

/**
 * The report as a terminal table: every line in the design's order with its count, the
 * shortfalls beside it, the subtotals, the total, the report price and the block.
 *
 * @example
 * console.log(formatReportTable(await buildPostReport(store, { postId })))
 */
export function formatReportTable(report: PostReport): string {
  const who = report.account === null ? `everyone (${report.participants} participants)` : getAddress(report.account);
  const table = new Table({
    head: ["Line", "Twei", "Count", "Shortfall (unpaid)"],
    colAligns: ["left", "right", "right", "right"],
    style: { head: [], border: [] },
  });
  const shortfall = (amount: bigint, count: number) => (count === 0 ? "" : `${twei(amount)} (${count})`);
  const section = (title: string) => table.push([{ colSpan: 4, content: title }]);
  const [earnedLines, profitLines, lossLines] = (["earned", "profit", "loss"] as const).map((name) =>
    report.lines.filter((line) => line.section === name),
  );
  for (const line of earnedLines ?? []) table.push([line.label, twei(line.amount), line.count, ""]);
  section("Post Profit");
  for (const line of profitLines ?? [])
    table.push([
      `  ${line.label}`,
      twei(line.amount),
      line.count,
      shortfall(line.shortfall.amount, line.shortfall.count),
    ]);
  table.push(["  Profit Subtotal", twei(report.profitSubtotal), "", ""]);
  section("Post Loss");
  for (const line of lossLines ?? [])
    table.push([
      `  ${line.label}`,
      twei(line.amount),
      line.count,
      shortfall(line.shortfall.amount, line.shortfall.count),
    ]);
  table.push([
    "  Loss Subtotal",
    twei(report.lossSubtotal),
    "",
    shortfall(report.shortfall.amount, report.shortfall.count),
  ]);
  table.push(["Total Twei Earned", twei(report.totalEarned), "", ""]);
  table.push(["Price for report instance", twei(report.reportPrice), "", ""]);
  const header = [
    `PnL report: post ${report.postId}${report.siteId === null ? "" : ` (site ${report.siteId})`}`,
    `For: ${who}`,
    `Computed at block ${report.block.number} (${report.block.hash})`,
  ];
  return `${header.join("\n")}\n${table.toString()}`;
}

/** A user's totals across posts as a terminal table. */
export function formatUserTable(report: UserReport): string {
  const table = new Table({ head: ["", "Twei"], colAligns: ["left", "right"], style: { head: [], border: [] } });
  table.push(
    ["Earned", twei(report.earned)],
    ["Spent", twei(report.spent)],
    ["Net", twei(report.net)],
    ["Level", String(report.level)],
    ["Unpaid burns (shortfalls)", `${twei(report.shortfall.amount)} (${report.shortfall.count})`],
    ["Balance (Transfer logs)", twei(report.balance)],
  );
  const posts = new Table({
    head: ["Post", "Earned", "Spent", "Net"],
    colAligns: ["left", "right", "right", "right"],
    style: { head: [], border: [] },
  });
  for (const p of report.posts) posts.push([p.postId.toString(), twei(p.earned), twei(p.spent), twei(p.net)]);
  return [
    `User ${getAddress(report.account)} at block ${report.block.number}`,
    table.toString(),
    report.posts.length > 0 ? posts.toString() : "(no posts)",
  ].join("\n");
}
