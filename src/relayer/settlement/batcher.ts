import { encodeEventTopics, formatLog, parseEventLogs } from "viem";
import type { Account, Address, Chain, Hex, PublicClient, TransactionReceipt, Transport, WalletClient } from "viem";
import { tweiLedgerAbi } from "../../chain/abi.js";
import { createLogRange } from "../../chain/createLogRange.js";
import { readLogsAdaptively } from "../../chain/readLogsAdaptively.js";
import { decodeRevert, describeChainError, formatRevert } from "../../chain/decodeRevert.js";
import { settlementAccessList } from "../../chain/settlementAccessList.js";
import { amountFor } from "../../core/ruleSet.js";
import { buildEvidenceTree, EVIDENCE_VERSION, type EvidenceLeaf } from "../../evidence/evidenceTree.js";
import type { Logger } from "../../observability/logger.js";
import type { ChainReader } from "../chain/chainReader.js";
import type { SendLock } from "../chain/sendLock.js";
import type { RelayerMetrics } from "../metrics.js";
import type { BatchRecord, RelayerStore, StoredEvent } from "../storage/relayerStore.js";
import { fitPostRefs, packBatch, roughGas } from "./buildBatch.js";
import { classifyRevert, failureCodeOf, failureMessageOf, type RevertClass } from "./classifyRevert.js";
import { isFinal, readChainHeads, type ChainHeads, type Finality } from "./finality.js";
import { isolatePoison, type ProbeReturnType } from "./isolatePoison.js";
import { failedNotice, reorgedNotices, settledNotices } from "./notices.js";
import { cancelAttempt, sendBatch, settleCalldata } from "./sendBatch.js";

export { TX_GAS_CAP } from "./sendBatch.js";

const PROBE_ROOT: Hex = `0x${"ff".repeat(32)}`;

/**
 * Events priced under a replaced rule set are cut while at least this much of its grace remains
 * (seconds), so that their batch is mined in time; after that they are priced anew.
 */
export const RULE_SET_GRACE_MARGIN_S = 120n;

/** The leading events that share the first one's rule-set version: one batch names one version. */
export function leadingRun(events: readonly StoredEvent[]): StoredEvent[] {
  const version = events[0]?.ruleSetVersion;
  const end = events.findIndex((event) => event.ruleSetVersion !== version);
  return end === -1 ? [...events] : events.slice(0, end);
}

export interface BatcherConfig {
  /** Settle a site once it has this many pending events… */
  readonly minEvents: number;
  /** …or its oldest pending event is this old. */
  readonly maxWaitMs: number;
  readonly maxBatchEvents: number;
  /** The gas a batch may use (at most TX_GAS_CAP); batches are sized to stay below it. */
  readonly gasCap: bigint;
  /** When an included batch counts as settled. */
  readonly finality: Finality;
  /** How many blocks past its settlement a batch is still watched for a reorg deeper than the finality depth. */
  readonly reorgWatchBlocks: number;
  /** How long one pass waits for a just-sent transaction's receipt before moving on (later passes look again). */
  readonly receiptWaitMs: number;
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
  /** Computes an evidence root of the current EVIDENCE_VERSION (off the main thread in the service); in-process by default. */
  readonly evidenceRoot?: (leaves: readonly EvidenceLeaf[]) => Promise<Hex>;
}

/** What stops settlement as a whole, for /readyz and the log: nothing, a paused ledger, a missing role. */
export type SettlementGate =
  | { readonly state: "open" }
  | { readonly state: "paused" | "unauthorized" | "chain_unreachable"; readonly detail: string };

export interface Batcher {
  start(): void;
  /** One pass: watch the batches on their way, then settle each site's pending events. Exposed for tests. */
  tick(): Promise<void>;
  stop(): Promise<void>;
  /** Whether the recorded batches were checked against the chain since start. */
  readonly reconciled: boolean;
  /** Whether settlement can go on, as the last pass found. */
  readonly gate: SettlementGate;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The settlement loop. Exactly once: a batch is recorded (id, events, calldata) before any
 * transaction is sent, and a batch id settles at most once on-chain; every pass first looks at
 * the batches on their way (mined? stuck? moved or removed by a reorg? final?) before anything
 * new is cut. Isolation: sites are settled side by side, each on its own; a batch the ledger
 * refuses for its content is bisected by dry runs down to the events it refuses, which end
 * `failed` with the decoded reason while the rest settles in the same pass; a deactivated
 * site's events wait as `held`; a paused ledger or a missing role stops settlement once, with
 * the reason on /readyz, and nothing loops in the log. Finality: a mined batch is `included`,
 * and `settled` (webhooks, final status) only at the configured depth; a batch a reorg removed
 * is sent again under the same id, before or after finality.
 *
 * @example
 * const batcher = createBatcher({ store, reader, publicClient, walletClient, ledger, token, config, metrics, log, lock });
 * batcher.start(); … await batcher.stop();
 */
export function createBatcher(parameters: CreateBatcherParameters): Batcher {
  const { store, reader, publicClient, walletClient, ledger, token, config, metrics, log, lock } = parameters;
  const evidenceRoot = parameters.evidenceRoot ?? (async (leaves) => buildEvidenceTree(leaves).root);
  const me = walletClient.account.address;

  let reconciled = false;
  let running: Promise<void> | undefined;
  let stopped = false;
  let loop: Promise<void> | undefined;
  /** Ends the loop's wait between passes (stop() returns at once, not an interval later). */
  let wake: (() => void) | undefined;
  let gate: SettlementGate = { state: "open" };
  /** Gas measured while cutting a batch, used for its first send. */
  const probedGas = new Map<bigint, bigint>();
  /** Sites waiting for the next emission epoch, with the epoch they wait for. */
  const waitingForEpoch = new Map<number, bigint>();
  /** Sites found deactivated (their events held), so that the log says it once. */
  const heldSites = new Set<number>();
  /** Cancels sent for a batch's stuck nonce, so that one is sent per stuck period. */
  const cancels = new Map<bigint, number>();
  /** Per-site transient faults: the next pass that may try again, and the last message logged. */
  const backoff = new Map<number, { until: number; failures: number; message: string }>();

  const setGate = (next: SettlementGate) => {
    const changed = next.state !== gate.state;
    gate = next;
    if (!changed) return;
    metrics.settlementBlocked.set(next.state === "open" ? 0 : 1);
    if (next.state === "open") log.info("settlement resumed");
    else log.error({ state: next.state, reason: next.detail }, "settlement stopped");
  };

  // ------------------------------------------------------------------ chain reads

  const probe = async (siteId: number, version: number, events: readonly StoredEvent[]): Promise<ProbeReturnType> => {
    const packed = packBatch(events).packed;
    // Batch id 0 is never allocated: the probe only measures gas and what the ledger says.
    const data = settleCalldata({ batchId: 0n, siteId, evidenceRoot: PROBE_ROOT, actions: packed }, version);
    try {
      const gas = await publicClient.estimateGas({
        account: walletClient.account,
        to: ledger,
        data,
        accessList: settlementAccessList({ token, ledger, actions: packed }),
        blockTag: "latest",
      });
      return { kind: "ok", gas };
    } catch (error) {
      const why = classifyRevert(decodeRevert(error));
      if (why.kind === "transient") throw error;
      return why;
    }
  };

  /** The receipt of the first of `hashes` that is mined, newest attempt first. */
  const receiptOf = async (hashes: readonly Hex[]): Promise<TransactionReceipt | undefined> => {
    for (const hash of [...hashes].reverse()) {
      try {
        return await publicClient.getTransactionReceipt({ hash });
      } catch (error) {
        if ((error as { name?: string }).name !== "TransactionReceiptNotFoundError") throw error;
      }
    }
    return undefined;
  };

  const attemptHashes = (batch: BatchRecord): Hex[] =>
    batch.attempts.flatMap((attempt) => (attempt.txHash ? [attempt.txHash] : []));

  /** Whether the node still knows one of the transactions (pending in its mempool, or mined). */
  const anyKnown = async (hashes: readonly Hex[]): Promise<boolean> => {
    for (const hash of hashes) {
      try {
        await publicClient.getTransaction({ hash });
        return true;
      } catch (error) {
        if ((error as { name?: string }).name !== "TransactionNotFoundError") throw error;
      }
    }
    return false;
  };

  const logRange = createLogRange({ initial: 10_000n });
  /** The transaction that settled a batch id on-chain, when the batch's own attempts do not say (lost while down). */
  const settledOnChain = async (batch: BatchRecord): Promise<TransactionReceipt | "other" | undefined> => {
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
  };

  // ------------------------------------------------------------------ batch states

  const include = async (batch: BatchRecord, receipt: TransactionReceipt) => {
    await store.markIncluded(batch.batchId, {
      txHash: receipt.transactionHash,
      blockNumber: receipt.blockNumber,
      blockHash: receipt.blockHash,
      gasUsed: receipt.gasUsed,
      includedAt: Date.now(),
    });
    // The funds cached before inclusion still count the burns the batch just paid.
    reader.forgetFunds((await store.batchEvents(batch.batchId)).flatMap((e) => e.actions.map((a) => a.account)));
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
  };

  const settle = async (batch: BatchRecord, receipt: TransactionReceipt) => {
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
  };

  const abandon = async (batch: BatchRecord, reason: string) => {
    await store.abandonBatch(batch.batchId, reason);
    metrics.batches.inc({ outcome: "abandoned" });
    log.warn(
      { batchId: batch.batchId.toString(), siteId: batch.siteId, reason },
      "batch abandoned; its events are pending again",
    );
  };

  /**
   * Watches an included (or recently settled) batch: still where it was mined, final yet, moved
   * to another block, or removed by a reorg (then it is recorded again, to be sent again).
   */
  const watch = async (batch: BatchRecord, heads: ChainHeads) => {
    // Its inclusion's transaction first (it may be none of our attempts: adopted from the logs).
    const hashes = [
      ...attemptHashes(batch).filter((hash) => hash !== batch.txHash),
      ...(batch.txHash ? [batch.txHash] : []),
    ];
    const receipt = await receiptOf(hashes);
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
      if (reverted) await abandon(reverted, `transaction ${receipt.transactionHash} reverted after a reorg`);
      return;
    }
    if (receipt.blockHash !== batch.blockHash) {
      metrics.reorgs.inc({ depth: batch.status === "settled" ? "past_finality" : "before_finality" });
      await include(batch, receipt);
    }
    if (batch.status === "included" && isFinal(config.finality, heads, receipt.blockNumber)) {
      const current = await store.batch(batch.batchId);
      if (current) await settle(current, receipt);
    }
  };

  // ------------------------------------------------------------------ sending

  type DriveOutcome = "included" | "waiting" | "abandoned" | "blocked";

  /** Waits up to the configured time for one of the batch's transactions to be mined. */
  const awaitReceipt = async (batch: BatchRecord): Promise<TransactionReceipt | undefined> => {
    const deadline = Date.now() + config.receiptWaitMs;
    for (;;) {
      const current = (await store.batch(batch.batchId)) ?? batch;
      const receipt = await receiptOf(attemptHashes(current));
      if (receipt || Date.now() >= deadline || stopped) return receipt;
      await sleep(100);
    }
  };

  /** A batch id the ledger says is settled, though no attempt we know of was mined (we were down). */
  const adoptSettled = async (batch: BatchRecord): Promise<DriveOutcome> => {
    const found = await settledOnChain(batch);
    if (found === "other") {
      await abandon(batch, `batch id ${batch.batchId} was settled on-chain with other content`);
      return "abandoned";
    }
    if (!found) return "waiting"; // its log is not visible yet
    await include(batch, found);
    return "included";
  };

  /** What to do with a batch whose dry run reverts now. */
  const refused = async (batch: BatchRecord, why: RevertClass, pendingAttempt: boolean): Promise<DriveOutcome> => {
    if (why.kind === "transient") return "waiting";
    if (why.kind === "paused" || why.kind === "unauthorized") {
      setGate(gateFor(why.kind));
      return "blocked";
    }
    if (why.kind === "settled") return adoptSettled(batch);
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
    await abandon(batch, reason);
    return "abandoned";
  };

  /** Sends (or re-sends, or replaces) a recorded batch's transaction, and waits a little for it. */
  const drive = async (batch: BatchRecord): Promise<DriveOutcome> => {
    const mined = await receiptOf(attemptHashes(batch));
    if (mined?.status === "success") {
      await include(batch, mined);
      return "included";
    }
    if (await reader.isBatchSettled(batch.batchId)) return adoptSettled(batch);
    const confirmedNonce = await publicClient.getTransactionCount({ address: me, blockTag: "latest" });
    const last = batch.attempts.at(-1);
    const pendingAttempt = last !== undefined && last.nonce >= confirmedNonce;
    if (mined && !pendingAttempt) {
      await abandon(batch, `transaction ${mined.transactionHash} reverted`);
      metrics.batches.inc({ outcome: "reverted" });
      return "abandoned";
    }
    // An attempt that may still be mined is left alone until it is stuck; one the node forgot
    // (dropped from its mempool, or lost in a restart) is sent again at once, on its nonce.
    if (
      pendingAttempt &&
      last &&
      Date.now() - last.sentAt < config.stuckAfterMs &&
      (await anyKnown(attemptHashes(batch)))
    ) {
      const receipt = await awaitReceipt(batch);
      if (receipt?.status === "success") {
        await include(batch, receipt);
        return "included";
      }
      return "waiting";
    }
    if (pendingAttempt) metrics.batches.inc({ outcome: "stuck" });
    const probed = probedGas.get(batch.batchId);
    probedGas.delete(batch.batchId);
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
    if (sent.kind === "refused") return refused(batch, sent.why, pendingAttempt);
    log.info(
      { batchId: batch.batchId.toString(), tx: sent.hash, nonce: sent.nonce, replacing: pendingAttempt },
      "batch sent",
    );
    const receipt = await awaitReceipt(batch);
    if (receipt?.status === "success") {
      await include(batch, receipt);
      return "included";
    }
    return "waiting";
  };

  // ------------------------------------------------------------------ cutting

  const gateFor = (kind: "paused" | "unauthorized"): SettlementGate =>
    kind === "paused"
      ? { state: "paused", detail: "the ledger is paused: settlement resumes once a pauser unpauses it" }
      : {
          state: "unauthorized",
          detail: `the relayer account ${me} lacks RELAYER_ROLE on the ledger ${ledger}: an admin must grant it (grantRole(RELAYER_ROLE, ${me}))`,
        };

  /** Fails the event the ledger refuses (and its dependents), found by bisecting the candidate batch. */
  const failPoison = async (siteId: number, version: number, events: readonly StoredEvent[]): Promise<boolean> => {
    const found = await isolatePoison(events, (prefix) => probe(siteId, version, prefix));
    if (!found) return false;
    const failure = { code: failureCodeOf(found.revert), message: failureMessageOf(found.revert) };
    const site = await store.site(siteId);
    const failed = await store.failEvents(siteId, [{ seq: found.item.seq, ...failure }], (event, why) =>
      site?.webhookUrl ? failedNotice(event, why) : null,
    );
    for (const { event, failure: why } of failed) {
      metrics.eventsFailed.inc({ code: why.code });
      log.warn({ siteId, eventId: event.eventId, code: why.code, reason: why.message }, "event failed");
    }
    log.info({ siteId, probes: found.probes, failed: failed.length }, "refused events isolated; the rest goes on");
    return true;
  };

  /**
   * The site's pending events, priced under a rule set `settle` takes: when the oldest one's
   * version is no longer taken (or its grace ends within RULE_SET_GRACE_MARGIN_S), every pending
   * event not priced under the version in force is priced anew under it (reservations included).
   */
  const pricedPending = async (siteId: number): Promise<StoredEvent[]> => {
    const pending = await store.pendingEvents(siteId, config.maxBatchEvents);
    const first = pending[0];
    if (!first) return pending;
    const versions = await reader.versionsInForce();
    const version = first.ruleSetVersion;
    const taken =
      version === versions.current ||
      (version === versions.previous && versions.graceEndsAt - versions.chainTime >= RULE_SET_GRACE_MARGIN_S);
    if (taken) return pending;
    const { amounts } = await reader.ruleSetOf(versions.current);
    const repriced = await store.repriceEvents(siteId, versions.current, (action) =>
      amountFor(amounts, action.kind, action.units),
    );
    metrics.eventsRepriced.inc(repriced);
    log.warn(
      { siteId, events: repriced, from: version, to: versions.current },
      "pending events priced anew: the rule set they were accepted under is no longer taken by the ledger",
    );
    return store.pendingEvents(siteId, config.maxBatchEvents);
  };

  /** Cuts the next batch of a site: a prefix of its pending events, of one rule-set version, that fits the gas cap and the caps on mints and burns. */
  const cut = async (siteId: number): Promise<BatchRecord | undefined> => {
    let events = fitPostRefs(leadingRun(await pricedPending(siteId)));
    const first = events[0]?.ruleSetVersion;
    if (first === undefined || first === null) return undefined; // none pending (priced ones carry a version)
    let version = first;
    while (events.length > 1 && roughGas(events) > config.gasCap)
      events = events.slice(0, Math.ceil(events.length / 2));
    for (let attempt = 0; attempt < 10_000 && !stopped; attempt++) {
      if (events.length === 0) return undefined;
      const result = await probe(siteId, version, events);
      if (result.kind === "ok") {
        if (result.gas > config.gasCap) {
          const scaled = Math.floor(((events.length * Number(config.gasCap)) / Number(result.gas)) * 0.95);
          events = events.slice(0, Math.max(1, Math.min(events.length - 1, scaled)));
          continue;
        }
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
          evidenceVersion: EVIDENCE_VERSION,
          actions: packBatch(events).packed,
          ruleSetVersion: version,
          createdAt: Date.now(),
        });
        probedGas.set(batch.batchId, result.gas);
        metrics.batches.inc({ outcome: "recorded" });
        return batch;
      }
      switch (result.kind) {
        case "cap": {
          if (events.length > 1) {
            events = events.slice(0, Math.ceil(events.length / 2));
            continue;
          }
          const epoch = await publicClient.readContract({
            address: ledger,
            abi: tweiLedgerAbi,
            functionName: "currentEpoch",
          });
          waitingForEpoch.set(siteId, epoch + 1n);
          log.warn(
            { siteId, epoch: epoch.toString(), reason: formatRevert(result.revert) },
            "a cap on mints or burns reached; the site's events wait for the next epoch",
          );
          return undefined;
        }
        case "site":
          await hold(siteId, formatRevert(result.revert));
          return undefined;
        case "paused":
        case "unauthorized":
          setGate(gateFor(result.kind));
          return undefined;
        case "rules":
          // Its grace ended between the check and the dry run: the next pass prices them anew.
          return undefined;
        case "settled":
        case "poison": {
          if (!(await failPoison(siteId, version, events))) continue; // refused no more: probe again
          events = fitPostRefs(leadingRun(await store.pendingEvents(siteId, config.maxBatchEvents))).slice(
            0,
            events.length,
          );
          // The refused events may have been the whole run of this version: the next run is cut
          // and named under its own (one whose grace ended is refused as `rules`, and priced anew).
          const next = events[0]?.ruleSetVersion;
          if (next === undefined || next === null) return undefined;
          version = next;
          continue;
        }
      }
    }
    return undefined;
  };

  const hold = async (siteId: number, reason: string) => {
    const held = await store.holdSite(siteId);
    if (!heldSites.has(siteId)) {
      heldSites.add(siteId);
      log.warn(
        { siteId, held, reason },
        "the site is deactivated on the ledger; its events are held until it is active again",
      );
    }
  };

  /** One site's part of a pass: its batch on the way first, then new batches while they get mined. */
  const settleSite = async (siteId: number, eligible: boolean) => {
    const onChain = await reader.site(siteId);
    if (!onChain.active) {
      const open = (await store.openBatches()).filter((b) => b.siteId === siteId && b.attempts.length === 0);
      for (const batch of open) await abandon(batch, "the site is deactivated on the ledger");
      await hold(siteId, "the site is deactivated on the ledger");
      return;
    }
    if (heldSites.delete(siteId) || (await store.heldSites()).includes(siteId)) {
      const released = await store.releaseSite(siteId);
      log.info({ siteId, released }, "the site is active again; its held events go out");
      eligible ||= released > 0; // they have waited long enough
    }
    const waitEpoch = waitingForEpoch.get(siteId);
    if (waitEpoch !== undefined) {
      const epoch = await publicClient.readContract({
        address: ledger,
        abi: tweiLedgerAbi,
        functionName: "currentEpoch",
      });
      if (epoch < waitEpoch) return;
      waitingForEpoch.delete(siteId);
    }
    // Cut batch after batch while they get mined, so a backlog (or a batch split for the gas or
    // emission cap, or around refused events) drains in one pass. One batch of a site is on its
    // way at a time, in order: the next may use the posts the one before it registers.
    for (let round = 0; round < 100 && !stopped && gate.state === "open"; round++) {
      const open = (await store.openBatches()).find((b) => b.siteId === siteId);
      const batch = open ?? (eligible || round > 0 ? await cut(siteId) : undefined);
      if (!batch) return;
      const outcome = await drive(batch);
      if (outcome === "included") {
        const current = await store.batch(batch.batchId);
        const receipt = current && (await receiptOf(attemptHashes(current)));
        if (
          current &&
          receipt &&
          isFinal(config.finality, await readChainHeads(publicClient, config.finality), receipt.blockNumber)
        )
          await settle(current, receipt);
        continue;
      }
      if (outcome !== "abandoned") return;
    }
  };

  const siteFailed = (siteId: number, error: unknown) => {
    const message = describeChainError(error);
    const previous = backoff.get(siteId);
    const failures = (previous?.failures ?? 0) + 1;
    backoff.set(siteId, { until: Date.now() + Math.min(60_000, config.intervalMs * 2 ** failures), failures, message });
    metrics.chainErrors.inc();
    // Said once per new message, not once a pass.
    if (previous?.message !== message)
      log.warn({ siteId, error: message }, "settling the site failed; retrying with backoff");
  };

  // ------------------------------------------------------------------ the pass

  async function pass() {
    let heads: ChainHeads;
    try {
      heads = await readChainHeads(publicClient, config.finality);
      const [paused, authorized] = await Promise.all([reader.paused(), reader.isRelayer(me)]);
      setGate(paused ? gateFor("paused") : authorized ? { state: "open" } : gateFor("unauthorized"));
    } catch (error) {
      setGate({ state: "chain_unreachable", detail: `the chain cannot be read: ${describeChainError(error)}` });
      metrics.chainErrors.inc();
      return;
    }
    // The batches on their way first: mined, moved, removed by a reorg, final.
    const watchFrom = heads.head > BigInt(config.reorgWatchBlocks) ? heads.head - BigInt(config.reorgWatchBlocks) : 0n;
    for (const batch of await store.trackedBatches(watchFrom)) {
      if (batch.status === "recorded") continue; // driven by its site below
      try {
        await watch(batch, heads);
      } catch (error) {
        siteFailed(batch.siteId, error);
      }
    }
    reconciled = true;
    if (gate.state !== "open") return;
    const now = Date.now();
    const sites = new Map<number, boolean>();
    for (const { siteId, count, oldestReceivedAt } of await store.pendingSites())
      sites.set(siteId, count >= config.minEvents || now - oldestReceivedAt >= config.maxWaitMs);
    for (const siteId of await store.heldSites()) if (!sites.has(siteId)) sites.set(siteId, false);
    for (const batch of await store.openBatches()) sites.set(batch.siteId, sites.get(batch.siteId) ?? false);
    // Each site on its own: one's fault or slow transaction never holds up another's.
    await Promise.all(
      [...sites].map(async ([siteId, eligible]) => {
        if ((backoff.get(siteId)?.until ?? 0) > Date.now()) return;
        try {
          await settleSite(siteId, eligible);
          backoff.delete(siteId);
        } catch (error) {
          siteFailed(siteId, error);
        }
      }),
    );
  }

  async function tick() {
    if (running) return running;
    running = pass().finally(() => {
      running = undefined;
    });
    return running;
  }

  return {
    get reconciled() {
      return reconciled;
    },
    get gate() {
      return gate;
    },
    tick,
    start() {
      if (loop) return;
      loop = (async () => {
        while (!stopped) {
          await tick();
          if (!stopped)
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, config.intervalMs);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            });
        }
      })();
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      await running;
    },
  };
}
