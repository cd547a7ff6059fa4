import {
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  decodeEventLog,
  encodeFunctionData,
  getAddress,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from "viem";
import { tweiLedgerAbi } from "../../chain/abi.js";
import { settlementAccessList } from "../../chain/settlementAccessList.js";
import { KINDS } from "../../core/kinds.js";
import { amountFor, type RuleAmounts } from "../../core/ruleSet.js";
import type { Logger } from "../../observability/logger.js";
import { scrubUrls } from "../../observability/logger.js";
import type { ChainReader } from "../chain/chainReader.js";
import type { SendLock } from "../chain/sendLock.js";
import type { RelayerMetrics } from "../metrics.js";
import type { BatchRecord, RelayerStore, StoredEvent } from "../storage/relayerStore.js";
import { buildEvidenceTree, type EvidenceLeaf } from "../../evidence/evidenceTree.js";
import { fitPostRefs, packBatch, roughGas, type ActionOrigin } from "./buildBatch.js";

const PROBE_ROOT: Hex = `0x${"ff".repeat(32)}`;

/** EIP-7825's cap on one transaction's gas. */
export const TX_GAS_CAP = 16_777_216n;

export interface BatcherConfig {
  /** Settle a site once it has this many pending events… */
  readonly minEvents: number;
  /** …or its oldest pending event is this old. */
  readonly maxWaitMs: number;
  readonly maxBatchEvents: number;
  /** The gas a batch may use (at most TX_GAS_CAP); batches are sized to stay below it. */
  readonly gasCap: bigint;
  readonly confirmations: number;
  /** A transaction not mined after this long is replaced with a higher fee. */
  readonly stuckAfterMs: number;
  readonly intervalMs: number;
  readonly deploymentBlock: bigint;
}

export interface CreateBatcherParameters {
  readonly store: RelayerStore;
  readonly reader: ChainReader;
  readonly publicClient: PublicClient;
  readonly walletClient: WalletClient<Transport, Chain | undefined, Account>;
  readonly ledger: Address;
  /** The token, whose balance and allowance slots each settlement lists for access (EIP-2930). */
  readonly token: Address;
  readonly config: BatcherConfig;
  readonly metrics: RelayerMetrics;
  readonly log: Logger;
  /** Shared with every other sender of the relayer's account. */
  readonly lock: SendLock;
  /** Computes an evidence root (off the main thread in the service); in-process by default. */
  readonly evidenceRoot?: (leaves: readonly EvidenceLeaf[]) => Promise<Hex>;
}

export interface Batcher {
  start(): void;
  /** One pass: reconcile (first time), drive open batches, cut new ones. Exposed for tests. */
  tick(): Promise<void>;
  stop(): Promise<void>;
  /** Whether the recorded batches were reconciled with the chain since start. */
  readonly reconciled: boolean;
}

const errorText = (error: unknown) =>
  scrubUrls(error instanceof BaseError ? error.shortMessage : error instanceof Error ? error.message : String(error));

/** The ledger's custom error a call reverted with, decoded from the revert data anywhere in the error chain. */
function revertName(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (revert instanceof ContractFunctionRevertedError && revert.data?.errorName) return revert.data.errorName;
  const withData = error.walk((e) => {
    const data = (e as { data?: unknown }).data;
    return typeof data === "string" && data.startsWith("0x") && data.length >= 10;
  }) as { data?: Hex } | null;
  if (!withData?.data) return undefined;
  try {
    return decodeErrorResult({ abi: tweiLedgerAbi, data: withData.data }).errorName;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The settlement loop. Exactly once: a batch is recorded (id, events, calldata) before any
 * transaction is sent; after a restart every recorded batch is reconciled with the ledger's
 * settled-batch set before anything new is sent; a batch id settles at most once on-chain.
 *
 * @example
 * const batcher = createBatcher({ store, reader, publicClient, walletClient, ledger, config, metrics, log });
 * batcher.start(); … await batcher.stop();
 */
export function createBatcher(parameters: CreateBatcherParameters): Batcher {
  const { store, reader, publicClient, walletClient, ledger, token, config, metrics, log, lock } = parameters;
  const evidenceRoot = parameters.evidenceRoot ?? (async (leaves) => buildEvidenceTree(leaves).root);

  let reconciled = false;
  let running = false;
  let stopped = false;
  let loop: Promise<void> | undefined;
  /** Gas measured while cutting a batch, used for its first send. */
  const probedGas = new Map<bigint, bigint>();
  /** Sites waiting for the next emission epoch, with the epoch they wait for. */
  const waitingForEpoch = new Map<number, bigint>();

  const calldata = (batch: Pick<BatchRecord, "batchId" | "siteId" | "evidenceRoot" | "actions">): Hex =>
    encodeFunctionData({
      abi: tweiLedgerAbi,
      functionName: "settle",
      args: [batch.batchId, batch.siteId, batch.evidenceRoot, batch.actions],
    });

  async function notifications(batch: BatchRecord, receipt: TransactionReceipt | undefined, amounts: RuleAmounts) {
    const events = await store.batchEvents(batch.batchId);
    const shortfalls = new Set<number>();
    for (const entry of receipt?.logs ?? []) {
      if (entry.address.toLowerCase() !== ledger.toLowerCase()) continue;
      try {
        const decoded = decodeEventLog({ abi: tweiLedgerAbi, data: entry.data, topics: entry.topics });
        if (decoded.eventName === "BurnShortfall" && decoded.args.batchId === batch.batchId)
          shortfalls.add(Number(decoded.args.actionIndex));
      } catch {
        // another event of the ledger
      }
    }
    const { origins } = packBatch(events);
    const perEvent = new Map<number, { origin: ActionOrigin; actionIndex: number }[]>();
    origins.forEach((origin, actionIndex) => {
      const list = perEvent.get(origin.leafIndex) ?? [];
      list.push({ origin, actionIndex });
      perEvent.set(origin.leafIndex, list);
    });
    return events.map((event: StoredEvent, leafIndex) => ({
      siteId: event.siteId,
      eventId: event.eventId,
      payload: JSON.stringify({
        type: "event.settled",
        siteId: event.siteId,
        eventId: event.eventId,
        batchId: batch.batchId.toString(),
        txHash: receipt?.transactionHash ?? null,
        blockNumber: receipt?.blockNumber.toString() ?? null,
        actions: (perEvent.get(leafIndex) ?? []).map(({ origin: { action }, actionIndex }) => ({
          actionIndex,
          kind: action.kind,
          label: KINDS[action.kind]?.label,
          account: getAddress(action.account),
          units: action.units,
          amount: amountFor(amounts, action.kind, action.units).toString(),
          paid: !shortfalls.has(actionIndex),
        })),
      }),
    }));
  }

  async function finalize(batch: BatchRecord, receipt: TransactionReceipt | undefined) {
    let found = receipt;
    if (!found) {
      // Settled by an attempt we lost track of (e.g. mined while we were down): find it, and
      // make sure it is this batch, not another relayer database's batch with the same id.
      const logs = await publicClient.getContractEvents({
        address: ledger,
        abi: tweiLedgerAbi,
        eventName: "BatchSettled",
        args: { batchId: batch.batchId },
        fromBlock: config.deploymentBlock,
      });
      const settled = logs[0];
      if (!settled) throw new Error(`batch ${batch.batchId} is settled but its BatchSettled log is not found yet`);
      const { siteId, evidenceRoot, actions } = settled.args;
      if (siteId !== batch.siteId || evidenceRoot !== batch.evidenceRoot || actions !== batch.actions) {
        await store.abandonBatch(batch.batchId, `batch id ${batch.batchId} was settled on-chain with other content`);
        metrics.batches.inc({ outcome: "abandoned" });
        log.error(
          { batchId: batch.batchId.toString() },
          "batch id taken on-chain by other content; events pending again",
        );
        return;
      }
      found = await publicClient.getTransactionReceipt({ hash: settled.transactionHash });
    }
    const { amounts } = await reader.ruleSet();
    await store.markSettled(batch.batchId, {
      txHash: found.transactionHash,
      blockNumber: found.blockNumber,
      gasUsed: found.gasUsed,
      settledAt: Date.now(),
      notifications: (await store.site(batch.siteId))?.webhookUrl ? await notifications(batch, found, amounts) : [],
    });
    metrics.batches.inc({ outcome: "settled" });
    metrics.eventsSettled.inc(batch.eventCount);
    if (found?.gasUsed) metrics.gasUsed.inc(Number(found.gasUsed));
    metrics.settlementLatency.observe((Date.now() - batch.createdAt) / 1000);
    log.info(
      { batchId: batch.batchId.toString(), siteId: batch.siteId, events: batch.eventCount, tx: found?.transactionHash },
      "batch settled",
    );
  }

  /** Picks the nonce and fees (replacing the last attempt if it may still be pending), records the attempt, sends. */
  async function send(batch: BatchRecord): Promise<"done" | { hash: Hex }> {
    const account = walletClient.account;
    const confirmedNonce = await publicClient.getTransactionCount({ address: account.address, blockTag: "latest" });
    const last = batch.attempts.at(-1);
    const fees = await publicClient.estimateFeesPerGas();
    let nonce: number;
    let maxFeePerGas = fees.maxFeePerGas;
    let maxPriorityFeePerGas = fees.maxPriorityFeePerGas;
    if (last && last.nonce >= confirmedNonce) {
      // The last attempt may still be in the mempool: replace it on the same nonce, paying at
      // least 25% more (nodes require 10%), so only one of them can ever be mined.
      nonce = last.nonce;
      const bump = (value: bigint) => (value * 125n) / 100n + 1n;
      if (maxFeePerGas < bump(last.maxFeePerGas)) maxFeePerGas = bump(last.maxFeePerGas);
      if (maxPriorityFeePerGas < bump(last.maxPriorityFeePerGas))
        maxPriorityFeePerGas = bump(last.maxPriorityFeePerGas);
    } else {
      nonce = await publicClient.getTransactionCount({ address: account.address, blockTag: "pending" });
    }
    const data = calldata(batch);
    const accessList = settlementAccessList({ token, ledger, actions: batch.actions });
    // A batch just cut was probed with the same actions: skip a second execution on the node.
    const probed = probedGas.get(batch.batchId);
    probedGas.delete(batch.batchId);
    let gas: bigint;
    try {
      gas = probed ?? (await publicClient.estimateGas({ account, to: ledger, data, accessList, blockTag: "latest" }));
    } catch (error) {
      const name = revertName(error);
      if (name === "TweiLedgerBatchAlreadySettled") {
        if (await reader.isBatchSettled(batch.batchId)) await finalize(batch, undefined);
        return "done";
      }
      if (name) {
        // The batch cannot settle as cut (e.g. the emission cap filled up since): release its
        // events, which are cut again, smaller or in the next epoch. Nothing was sent for it on
        // this nonce that could still be mined, or isBatchSettled would have said so… unless an
        // attempt is pending in the mempool, which estimateGas cannot see: so only give up
        // when no attempt of ours can still be mined.
        if (!last || last.nonce < confirmedNonce) {
          await store.abandonBatch(batch.batchId, name);
          metrics.batches.inc({ outcome: "abandoned" });
          log.warn(
            { batchId: batch.batchId.toString(), reason: name },
            "batch abandoned; its events are pending again",
          );
          return "done";
        }
      }
      throw error;
    }
    gas = (gas * 12n) / 10n;
    if (gas > TX_GAS_CAP) gas = TX_GAS_CAP;
    const sentAt = Date.now();
    await store.recordAttempt(batch.batchId, { nonce, maxFeePerGas, maxPriorityFeePerGas, txHash: null, sentAt });
    const hash = await walletClient.sendTransaction({
      account,
      chain: walletClient.chain,
      to: ledger,
      data,
      accessList,
      gas,
      nonce,
      maxFeePerGas,
      maxPriorityFeePerGas,
    });
    await store.recordAttempt(batch.batchId, { nonce, maxFeePerGas, maxPriorityFeePerGas, txHash: hash, sentAt });
    log.info({ batchId: batch.batchId.toString(), tx: hash, nonce, replacing: Boolean(last) }, "batch sent");
    return { hash };
  }

  /** Sends (or re-sends, or replaces) a recorded batch's transaction and waits for it. */
  async function drive(batch: BatchRecord): Promise<void> {
    if (await reader.isBatchSettled(batch.batchId)) return finalize(batch, undefined);
    const sent = await lock.run(() => send(batch));
    if (sent === "done") return;
    const { hash } = sent;
    let receipt: TransactionReceipt;
    try {
      receipt = await publicClient.waitForTransactionReceipt({
        hash,
        confirmations: config.confirmations,
        timeout: config.stuckAfterMs,
        pollingInterval: 250,
      });
    } catch (error) {
      metrics.batches.inc({ outcome: "stuck" });
      log.warn(
        { batchId: batch.batchId.toString(), tx: hash, error: errorText(error) },
        "no receipt yet; will replace",
      );
      return; // the next tick re-drives it (settled check first, then a fee-bumped replacement)
    }
    if (receipt.status === "success") return finalize(batch, receipt);
    if (await reader.isBatchSettled(batch.batchId)) return finalize(batch, undefined);
    await store.abandonBatch(batch.batchId, `transaction ${receipt.transactionHash} reverted`);
    metrics.batches.inc({ outcome: "reverted" });
    log.error(
      { batchId: batch.batchId.toString(), tx: receipt.transactionHash },
      "batch reverted; events pending again",
    );
  }

  /** Cuts the next batch of a site: a prefix of its pending events that fits the gas cap and the emission caps. */
  async function cut(siteId: number): Promise<BatchRecord | undefined> {
    let events = fitPostRefs(await store.pendingEvents(siteId, config.maxBatchEvents));
    while (events.length > 1 && roughGas(events) > config.gasCap)
      events = events.slice(0, Math.ceil(events.length / 2));
    for (;;) {
      if (events.length === 0) return undefined;
      // Size by trial without the evidence tree (a stand-in root of non-zero bytes costs the
      // same calldata gas as any real one); build the tree once the size is known.
      const packed = packBatch(events).packed;
      // Batch id 0 is never allocated: the probe only measures gas and the caps.
      const probe = { batchId: 0n, siteId, evidenceRoot: PROBE_ROOT, actions: packed };
      let next: StoredEvent[] | undefined;
      let gas = 0n;
      try {
        gas = await publicClient.estimateGas({
          account: walletClient.account,
          to: ledger,
          data: calldata(probe),
          accessList: settlementAccessList({ token, ledger, actions: packed }),
          blockTag: "latest",
        });
        if (gas > config.gasCap) {
          const scaled = Math.floor(((events.length * Number(config.gasCap)) / Number(gas)) * 0.95);
          next = events.slice(0, Math.max(1, Math.min(events.length - 1, scaled)));
        }
      } catch (error) {
        const name = revertName(error);
        if (name !== "TweiLedgerEmissionCapExceeded" && name !== "TweiLedgerSiteEmissionCapExceeded") throw error;
        if (events.length === 1) {
          const epoch = await publicClient.readContract({
            address: ledger,
            abi: tweiLedgerAbi,
            functionName: "currentEpoch",
          });
          waitingForEpoch.set(siteId, epoch + 1n);
          log.warn(
            { siteId, epoch: epoch.toString() },
            "emission cap reached; the site's events wait for the next epoch",
          );
          return undefined;
        }
        next = events.slice(0, Math.ceil(events.length / 2));
      }
      if (next === undefined) {
        const root = await evidenceRoot(
          events.map((event) => ({
            eventHash: event.eventHash,
            envelopeDigest: event.envelopeDigest,
            index: event.envelopeIndex,
          })),
        );
        const batch = await store.recordBatch({
          siteId,
          seqs: events.map((event) => event.seq),
          evidenceRoot: root,
          actions: packed,
          createdAt: Date.now(),
        });
        probedGas.set(batch.batchId, gas);
        return batch;
      }
      if (next.length === events.length) throw new Error(`one event of site ${siteId} exceeds the gas cap`);
      events = next;
    }
  }

  async function reconcile() {
    const open = await store.openBatches();
    for (const batch of open) await drive(batch);
    log.info({ batches: open.length }, "recorded batches reconciled with the chain");
  }

  async function tick() {
    if (running) return;
    running = true;
    try {
      if (!reconciled) {
        await reconcile();
        reconciled = true;
      }
      for (const batch of await store.openBatches()) await drive(batch);
      if ((await store.openBatches()).length > 0) return;
      const now = Date.now();
      for (const { siteId, count, oldestReceivedAt } of await store.pendingSites()) {
        if (stopped) return;
        const waitEpoch = waitingForEpoch.get(siteId);
        if (waitEpoch !== undefined) {
          const epoch = await publicClient.readContract({
            address: ledger,
            abi: tweiLedgerAbi,
            functionName: "currentEpoch",
          });
          if (epoch < waitEpoch) continue;
          waitingForEpoch.delete(siteId);
        }
        if (count < config.minEvents && now - oldestReceivedAt < config.maxWaitMs) continue;
        // Cut batch after batch while they settle, so a backlog (or a batch split for the gas
        // or emission cap) drains in one pass; stop at one still waiting for its receipt.
        for (let round = 0; round < 100 && !stopped; round++) {
          const batch = await cut(siteId);
          if (!batch) break;
          metrics.batches.inc({ outcome: "recorded" });
          await drive(batch);
          if ((await store.batch(batch.batchId))?.status !== "settled") break;
        }
        if ((await store.openBatches()).length > 0) return;
      }
    } catch (error) {
      metrics.chainErrors.inc();
      log.warn({ error: errorText(error) }, "settlement pass failed; retrying");
    } finally {
      running = false;
    }
  }

  return {
    get reconciled() {
      return reconciled;
    },
    tick,
    start() {
      if (loop) return;
      loop = (async () => {
        while (!stopped) {
          await tick();
          if (!stopped) await sleep(config.intervalMs);
        }
      })();
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
