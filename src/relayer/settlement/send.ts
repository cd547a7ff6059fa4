import type { TransactionReceipt } from "viem";
import { formatRevert } from "../../chain/decodeRevert.js";
import type { BatchRecord } from "../storage/relayerStore.js";
import { anyKnown, attemptHashes, receiptOf, settledOnChain } from "./chainLookups.js";
import type { RevertClass } from "./classifyRevert.js";
import { gateFor } from "./gate.js";
import { cancelAttempt, sendBatch } from "./sendBatch.js";
import { sleep, type SettlementContext } from "./settlementContext.js";
import { abandon, include } from "./track.js";

/** Where a batch stands after a drive: mined, on its way, given up (its events pending again), or settlement stopped. */
export type DriveOutcome = "included" | "waiting" | "abandoned" | "blocked";

export interface DriveBatchParameters {
  readonly batch: BatchRecord;
  /** Gas measured when the batch was cut, for its first send. */
  readonly probedGas?: bigint;
  /** When a stuck nonce was last cancelled, per batch id: one cancel per stuck period. */
  readonly cancels: Map<bigint, number>;
}

/** Waits up to the configured time for one of the batch's transactions to be mined. */
async function awaitReceipt(context: SettlementContext, batch: BatchRecord): Promise<TransactionReceipt | undefined> {
  const deadline = Date.now() + context.config.receiptWaitMs;
  for (;;) {
    const current = (await context.store.batch(batch.batchId)) ?? batch;
    const receipt = await receiptOf(context, attemptHashes(current));
    if (receipt || Date.now() >= deadline || context.stopped()) return receipt;
    await sleep(100);
  }
}

/** A batch id the ledger says is settled, though no attempt we know of was mined (we were down). */
async function adoptSettled(context: SettlementContext, batch: BatchRecord): Promise<DriveOutcome> {
  const found = await settledOnChain(context, batch);
  if (found === "other") {
    await abandon(context, batch, `batch id ${batch.batchId} was settled on-chain with other content`);
    return "abandoned";
  }
  if (!found) return "waiting"; // its log is not visible yet
  await include(context, batch, found);
  return "included";
}

/** What to do with a batch whose dry run reverts now. */
async function refused(
  context: SettlementContext,
  batch: BatchRecord,
  why: RevertClass,
  pendingAttempt: boolean,
  cancels: Map<bigint, number>,
): Promise<DriveOutcome> {
  const { publicClient, walletClient, ledger, lock, log, config } = context;
  if (why.kind === "transient") return "waiting";
  if (why.kind === "paused" || why.kind === "unauthorized") {
    context.gate.set(gateFor(why.kind, { account: walletClient.account.address, ledger }));
    return "blocked";
  }
  if (why.kind === "settled") return adoptSettled(context, batch);
  const reason = `it cannot settle as cut: ${formatRevert(why.revert)}`;
  if (pendingAttempt) {
    // An attempt of ours may still be mined: fill its nonce instead of abandoning the batch,
    // whose fate the chain then decides (the next pass looks).
    const last = batch.attempts.at(-1);
    const sentAt = cancels.get(batch.batchId) ?? 0;
    if (last && Date.now() - Math.max(sentAt, last.sentAt) >= config.stuckAfterMs) {
      const hash = await lock.run(() => cancelAttempt({ publicClient, walletClient, attempt: last }));
      cancels.set(batch.batchId, Date.now());
      log.warn({ batchId: batch.batchId.toString(), nonce: last.nonce, tx: hash, reason }, "stuck attempt cancelled");
    }
    return "waiting";
  }
  await abandon(context, batch, reason);
  return "abandoned";
}

/**
 * Sends (or re-sends, or replaces) a recorded batch's transaction, and waits a little for it.
 * An attempt that may still be mined is left alone until it is stuck; one the node forgot
 * (dropped from its mempool, or lost in a restart) is sent again at once, on its nonce.
 *
 * @example
 * const outcome = await driveBatch(context, { batch, probedGas, cancels })
 */
export async function driveBatch(context: SettlementContext, parameters: DriveBatchParameters): Promise<DriveOutcome> {
  const { publicClient, walletClient, store, reader, ledger, token, lock, log, metrics, config } = context;
  const { batch, cancels } = parameters;
  const mined = await receiptOf(context, attemptHashes(batch));
  if (mined?.status === "success") {
    await include(context, batch, mined);
    return "included";
  }
  if (await reader.isBatchSettled(batch.batchId)) return adoptSettled(context, batch);
  const confirmedNonce = await publicClient.getTransactionCount({
    address: walletClient.account.address,
    blockTag: "latest",
  });
  const last = batch.attempts.at(-1);
  const pendingAttempt = last !== undefined && last.nonce >= confirmedNonce;
  if (mined && !pendingAttempt) {
    await abandon(context, batch, `transaction ${mined.transactionHash} reverted`);
    metrics.batches.inc({ outcome: "reverted" });
    return "abandoned";
  }
  if (
    pendingAttempt &&
    last &&
    Date.now() - last.sentAt < config.stuckAfterMs &&
    (await anyKnown(context, attemptHashes(batch)))
  ) {
    const receipt = await awaitReceipt(context, batch);
    if (receipt?.status === "success") {
      await include(context, batch, receipt);
      return "included";
    }
    return "waiting";
  }
  if (pendingAttempt) metrics.batches.inc({ outcome: "stuck" });
  const probed = parameters.probedGas;
  const sent = await lock.run(() =>
    sendBatch({
      publicClient,
      walletClient,
      store,
      ledger,
      token,
      batch,
      ...(probed !== undefined && !pendingAttempt ? { probedGas: probed } : {}),
    }),
  );
  if (sent.kind === "refused") return refused(context, batch, sent.why, pendingAttempt, cancels);
  log.info(
    { batchId: batch.batchId.toString(), tx: sent.hash, nonce: sent.nonce, replacing: pendingAttempt },
    "batch sent",
  );
  const receipt = await awaitReceipt(context, batch);
  if (receipt?.status === "success") {
    await include(context, batch, receipt);
    return "included";
  }
  return "waiting";
}
