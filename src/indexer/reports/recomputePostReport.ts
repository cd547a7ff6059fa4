import { formatLog, parseEventLogs, type Address, type PublicClient } from "viem";
import { tweiLedgerAbi } from "../../chain/abi.js";
import { createLogRange, type LogRange } from "../../chain/createLogRange.js";
import { readLogsAdaptively } from "../../chain/readLogsAdaptively.js";
import { ActionKind, KIND_COUNT } from "../../core/kinds.js";
import { decodePackedActions } from "../../core/packedActions.js";
import { amountFor } from "../../core/ruleSet.js";
import { emptyLines, addAction } from "../decode/lines.js";
import { canonicalReportJson, reportContentHash } from "./canonicalReport.js";
import { postReportFrom, type PostReport } from "./postReportFrom.js";

export interface RecomputePostReportParameters {
  readonly client: PublicClient;
  readonly deployment: { ledger: Address; deploymentBlock: bigint };
  readonly postId: bigint;
  /** The report covers everything up to the end of this block. */
  readonly blockNumber: bigint;
  /** One account's lines; everyone's when absent. */
  readonly account?: Address;
  /** The eth_getLogs span, adapted to what the RPC accepts (a new one, from 10,000 blocks, by default). */
  readonly range?: LogRange;
}

/**
 * A post's report straight from the chain, without the indexer's store: the ledger's logs up
 * to the block, decoded with src/core, amounts from each batch's rule set, shortfalls from
 * `BurnShortfall`. For auditors: a report instance is right when the hash of this report's
 * canonical JSON equals the instance's `contentHash` (see {@link verifyReportInstance}).
 *
 * @example
 * const report = await recomputePostReport({ client, deployment, postId, blockNumber })
 */
export async function recomputePostReport(parameters: RecomputePostReportParameters): Promise<PostReport> {
  const { client, deployment, postId, blockNumber, account } = parameters;
  const rules = new Map<number, readonly bigint[]>();
  let latestRules: readonly bigint[] | null = null;
  const unpaid = new Set<string>();
  const lines = emptyLines();
  const accounts = new Set<string>();
  let post: { siteId: number; author: Address } | null = null;
  for await (const chunk of readLogsAdaptively(client, {
    address: deployment.ledger,
    fromBlock: deployment.deploymentBlock,
    toBlock: blockNumber,
    range: parameters.range ?? createLogRange({ initial: 10_000n }),
  })) {
    const logs = parseEventLogs({ abi: tweiLedgerAbi, logs: chunk.logs.map((log) => formatLog(log)) });
    for (const log of logs) {
      if (log.eventName === "RuleSetScheduled") {
        latestRules = log.args.amounts ?? [];
        rules.set(log.args.version ?? 0, latestRules);
      } else if (log.eventName === "BurnShortfall") unpaid.add(`${log.args.batchId}-${log.args.actionIndex}`);
      else if (log.eventName === "BatchSettled") {
        const { posts, actions } = decodePackedActions(log.args.actions ?? "0x");
        const registered = posts.find((p) => p.postId === postId);
        if (registered) post = { siteId: log.args.siteId ?? 0, author: registered.author };
        const amounts = rules.get(log.args.ruleSetVersion ?? 0);
        for (const a of actions) {
          if (a.postId !== postId) continue;
          if (amounts === undefined || amounts.length !== KIND_COUNT)
            throw new Error(`batch ${log.args.batchId} uses rule set ${log.args.ruleSetVersion}, never set`);
          accounts.add(a.account.toLowerCase());
          if (account !== undefined && a.account.toLowerCase() !== account.toLowerCase()) continue;
          const paid = !unpaid.has(`${log.args.batchId}-${a.actionIndex}`);
          addAction(lines, a.kind, amountFor(amounts, a.kind, a.units), paid, 1);
        }
      }
    }
  }
  const block = await client.getBlock({ blockNumber });
  return postReportFrom({
    postId,
    post,
    account: account ?? null,
    lines,
    participants: accounts.size,
    reportPrice: latestRules?.[ActionKind.PnLReports] ?? 0n,
    block: { number: block.number, hash: block.hash },
  });
}

/**
 * Recomputes a report instance from the chain and compares its hash with the one issued.
 *
 * @example
 * const { ok } = await verifyReportInstance({ client, deployment, instance })
 */
export async function verifyReportInstance(parameters: {
  client: PublicClient;
  deployment: { ledger: Address; deploymentBlock: bigint };
  instance: { postId: bigint; blockNumber: bigint; contentHash: string };
}): Promise<{ ok: boolean; recomputedHash: string; canonicalJson: string }> {
  const { client, deployment, instance } = parameters;
  const report = await recomputePostReport({
    client,
    deployment,
    postId: instance.postId,
    blockNumber: instance.blockNumber,
  });
  const canonicalJson = canonicalReportJson(report);
  const recomputedHash = reportContentHash(canonicalJson);
  return { ok: recomputedHash === instance.contentHash, recomputedHash, canonicalJson };
}
