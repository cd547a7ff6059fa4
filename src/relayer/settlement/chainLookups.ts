import { encodeEventTopics, formatLog, parseEventLogs } from "viem";
import type { Hex, TransactionReceipt } from "viem";
import { tweiLedgerAbi } from "../../chain/abi.js";
import { readLogsAdaptively } from "../../chain/readLogsAdaptively.js";
import type { BatchRecord } from "../storage/relayerStore.js";
import type { SettlementContext } from "./settlementContext.js";

type Lookup = Pick<SettlementContext, "publicClient">;

/** The hashes of a batch's attempts that left (in the order sent). */
export const attemptHashes = (batch: BatchRecord): Hex[] =>
  batch.attempts.flatMap((attempt) => (attempt.txHash ? [attempt.txHash] : []));

/**
 * The receipt of the first of `hashes` that is mined, newest attempt first.
 *
 * @example
 * const receipt = await receiptOf(context, attemptHashes(batch))
 */
export async function receiptOf(
  { publicClient }: Lookup,
  hashes: readonly Hex[],
): Promise<TransactionReceipt | undefined> {
  for (const hash of [...hashes].reverse()) {
    try {
      return await publicClient.getTransactionReceipt({ hash });
    } catch (error) {
      if ((error as { name?: string }).name !== "TransactionReceiptNotFoundError") throw error;
    }
  }
  return undefined;
}

/**
 * Whether the node still knows one of the transactions (pending in its mempool, or mined).
 *
 * @example
 * if (!(await anyKnown(context, attemptHashes(batch)))) … // dropped: send again
 */
export async function anyKnown({ publicClient }: Lookup, hashes: readonly Hex[]): Promise<boolean> {
  for (const hash of hashes) {
    try {
      await publicClient.getTransaction({ hash });
      return true;
    } catch (error) {
      if ((error as { name?: string }).name !== "TransactionNotFoundError") throw error;
    }
  }
  return false;
}

/**
 * The transaction that settled a batch id on-chain, when the batch's own attempts do not say
 * (lost while down); "other" when another relayer database's batch has that id.
 *
 * @example
 * const found = await settledOnChain(context, batch)
 */
export async function settledOnChain(
  {
    publicClient,
    ledger,
    config,
    logRange,
  }: Pick<SettlementContext, "publicClient" | "ledger" | "config" | "logRange">,
  batch: BatchRecord,
): Promise<TransactionReceipt | "other" | undefined> {
  let settled;
  for await (const chunk of readLogsAdaptively(publicClient, {
    address: ledger,
    topics: encodeEventTopics({ abi: tweiLedgerAbi, eventName: "BatchSettled", args: { batchId: batch.batchId } }),
    fromBlock: config.deploymentBlock,
    toBlock: await publicClient.getBlockNumber({ cacheTime: 0 }),
    range: logRange,
  })) {
    const logs = chunk.logs.map((log) => formatLog(log));
    settled = parseEventLogs({ abi: tweiLedgerAbi, eventName: "BatchSettled", logs })[0];
    if (settled) break;
  }
  if (!settled) return undefined;
  const { siteId, evidenceRoot: root, actions } = settled.args;
  // Another relayer database's batch with the same id: not ours.
  if (siteId !== batch.siteId || root !== batch.evidenceRoot || actions !== batch.actions) return "other";
  return publicClient.getTransactionReceipt({ hash: settled.transactionHash });
}
