import type { TransactionReceipt } from "viem";
import type { BatchRecord } from "../storage/relayerStore.js";
import { attemptHashes, receiptOf } from "./chainLookups.js";
import { isFinal, type ChainHeads } from "./finality.js";
import { reorgedNotices, settledNotices } from "./notices.js";
import type { SettlementContext } from "./settlementContext.js";

/**
 * Records a batch's transaction as mined (`included`), or moved to another block by a reorg.
 *
 * @example
 * await include(context, batch, receipt)
 */
export async function include(context: SettlementContext, batch: BatchRecord, receipt: TransactionReceipt) {
  const { store, reader, metrics, log } = context;
  await store.markIncluded(batch.batchId, {
    txHash: receipt.transactionHash,
    blockNumber: receipt.blockNumber,
    blockHash: receipt.blockHash,
    gasUsed: receipt.gasUsed,
    includedAt: Date.now(),
  });
  // The funds and earned totals cached before inclusion miss the burns and mints the batch just made.
  reader.forgetAccounts((await store.batchEvents(batch.batchId)).flatMap((e) => e.actions.map((a) => a.account)));
  if (batch.status === "recorded") {
    metrics.batches.inc({ outcome: "included" });
    if (receipt.gasUsed) metrics.gasUsed.inc(Number(receipt.gasUsed));
    log.info(
      {
        batchId: batch.batchId.toString(),
        siteId: batch.siteId,
        tx: receipt.transactionHash,
        block: receipt.blockNumber,
      },
      "batch included",
    );
  } else log.warn({ batchId: batch.batchId.toString(), block: receipt.blockNumber }, "batch moved by a reorg");
}

/**
 * Marks an included batch final (`settled`: webhooks, final status), at the configured depth.
 *
 * @example
 * if (isFinal(config.finality, heads, receipt.blockNumber)) await finalize(context, batch, receipt)
 */
export async function finalize(context: SettlementContext, batch: BatchRecord, receipt: TransactionReceipt) {
  const { store, reader, metrics, log, ledger } = context;
  const events = await store.batchEvents(batch.batchId);
  const site = await store.site(batch.siteId);
  // Priced as the batch was settled: under the version it names (the one in force, for older batches).
  const version = batch.ruleSetVersion ?? (await reader.versionsInForce()).current;
  const notifications = site?.webhookUrl
    ? settledNotices({ batch, events, receipt, ruleSet: await reader.ruleSetOf(version), ledger })
    : [];
  await store.markSettled(batch.batchId, { settledAt: Date.now(), notifications });
  metrics.batches.inc({ outcome: "settled" });
  metrics.eventsSettled.inc(batch.eventCount);
  metrics.settlementLatency.observe((Date.now() - batch.createdAt) / 1000);
  log.info(
    {
      batchId: batch.batchId.toString(),
      siteId: batch.siteId,
      events: batch.eventCount,
      tx: receipt.transactionHash,
    },
    "batch settled",
  );
}

/**
 * Gives a batch up: its events are pending again, to be cut anew.
 *
 * @example
 * await abandon(context, batch, "the site is deactivated on the ledger")
 */
export async function abandon(context: SettlementContext, batch: BatchRecord, reason: string) {
  const { store, metrics, log } = context;
  await store.abandonBatch(batch.batchId, reason);
  metrics.batches.inc({ outcome: "abandoned" });
  log.warn(
    { batchId: batch.batchId.toString(), siteId: batch.siteId, reason },
    "batch abandoned; its events are pending again",
  );
}

/**
 * Watches an included (or recently settled) batch: still where it was mined, final yet, moved
 * to another block, or removed by a reorg (then it is recorded again, to be sent again).
 *
 * @example
 * for (const batch of await store.trackedBatches(from)) await trackBatch(context, batch, heads)
 */
export async function trackBatch(context: SettlementContext, batch: BatchRecord, heads: ChainHeads) {
  const { store, metrics, log, config } = context;
  // Its inclusion's transaction first (it may be none of our attempts: adopted from the logs).
  const hashes = [
    ...attemptHashes(batch).filter((hash) => hash !== batch.txHash),
    ...(batch.txHash ? [batch.txHash] : []),
  ];
  const receipt = await receiptOf(context, hashes);
  if (!receipt) {
    const deep = batch.status === "settled";
    const events = deep ? await store.batchEvents(batch.batchId) : [];
    const site = deep ? await store.site(batch.siteId) : undefined;
    await store.revertInclusion(
      batch.batchId,
      `a reorg removed transaction ${batch.txHash} from block ${batch.blockNumber}`,
      site?.webhookUrl ? reorgedNotices(batch, events) : [],
    );
    metrics.reorgs.inc({ depth: deep ? "past_finality" : "before_finality" });
    log.warn(
      { batchId: batch.batchId.toString(), tx: batch.txHash, block: batch.blockNumber, settled: deep },
      "a reorg removed the batch's transaction; it is sent again under the same id",
    );
    return;
  }
  if (receipt.status !== "success") {
    // Mined again after a reorg, in a state where it reverts: its events are cut anew.
    await store.revertInclusion(batch.batchId, `transaction ${receipt.transactionHash} reverted after a reorg`, []);
    const reverted = await store.batch(batch.batchId);
    if (reverted) await abandon(context, reverted, `transaction ${receipt.transactionHash} reverted after a reorg`);
    return;
  }
  if (receipt.blockHash !== batch.blockHash) {
    metrics.reorgs.inc({ depth: batch.status === "settled" ? "past_finality" : "before_finality" });
    await include(context, batch, receipt);
  }
  if (batch.status === "included" && isFinal(config.finality, heads, receipt.blockNumber)) {
    const current = await store.batch(batch.batchId);
    if (current) await finalize(context, current, receipt);
  }
}
