import Table from "cli-table3";
import { formatUnits } from "viem";
import type { AuditResult } from "./runAudit.js";

const twei = (wei: bigint) => formatUnits(wei, 18);

/**
 * The audit for people: a summary table, then one row per discrepancy (batch, where, what
 * differs, expected, found), then the verdict.
 *
 * @example
 * console.log(formatAudit(await runAudit(parameters)))
 */
export function formatAudit(result: AuditResult): string {
  const { summary } = result;
  const table = new Table({ colAligns: ["left", "right"], style: { head: [], border: [] } });
  table.push(
    ["Chain id / ledger", `${summary.chainId} / ${summary.ledger}`],
    ["Blocks audited", `${summary.fromBlock} to ${summary.toBlock}`],
    ["Settled batches (with evidence)", `${summary.batches} (${summary.batchesWithEvidence})`],
    ["Events verified", String(summary.events)],
    ["Actions", String(summary.actions)],
    ["Twei minted", twei(summary.minted)],
    ["Twei burned", twei(summary.burned)],
    ["Unpaid burns (shortfalls)", String(summary.shortfalls)],
    ["Total supply", twei(summary.totalSupply)],
    ["Balances checked", String(summary.accountsChecked)],
    ["Rule set versions", summary.ruleSetVersions.join(", ") || "(none)"],
    [
      "Site policies (on-chain)",
      summary.sitePolicies.map(({ siteId, policyHash }) => `site ${siteId}: ${policyHash}`).join("\n") || "(none)",
    ],
    ["Discrepancies", String(result.discrepancies.length)],
  );
  const parts = [table.toString()];
  if (result.discrepancies.length > 0) {
    const rows = new Table({
      head: ["Batch", "Where", "What differs", "Expected", "Found"],
      colWidths: [8, 24, 44, 36, 36],
      wordWrap: true,
      style: { head: [], border: [] },
    });
    for (const d of result.discrepancies)
      rows.push([d.batchId ?? "-", d.where, `[${d.code}] ${d.what}`, d.expected, d.found]);
    parts.push(rows.toString());
    parts.push(`FAILED: ${result.discrepancies.length} discrepancies between the chain and the evidence.`);
  } else
    parts.push(
      "OK: every batch's evidence, signatures, actions and amounts, the supply and every balance agree with the chain.",
    );
  return parts.join("\n");
}

/** The audit as JSON-ready values (amounts in wei, as decimal strings). */
export function auditJson(result: AuditResult): Record<string, unknown> {
  const { summary } = result;
  return {
    ok: result.ok,
    summary: {
      ...summary,
      fromBlock: summary.fromBlock.toString(),
      toBlock: summary.toBlock.toString(),
      minted: summary.minted.toString(),
      burned: summary.burned.toString(),
      totalSupply: summary.totalSupply.toString(),
    },
    discrepancies: result.discrepancies,
  };
}
