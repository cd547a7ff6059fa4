import { createPublicClient, http, type Address, type Client } from "viem";
import { createLogRange } from "../chain/createLogRange.js";
import { createLogger, type Logger } from "../observability/logger.js";
import { decodeRange } from "./decode/decodeRange.js";
import { INDEXED_TOPICS } from "./decode/topics.js";
import { createIndexerMetrics, type IndexerMetrics } from "./metrics.js";
import { ChainMovedError, IndexerError, RangeTooLargeError, StoreMismatchError } from "./errors.js";
import type { BlockRef, IndexerStore } from "./store/IndexerStore.js";
import { createSqliteStore } from "./store/createSqliteStore.js";
import { createChainReader, type ChainReader } from "./sync/createChainReader.js";
import type { RetryOptions } from "./sync/withRetry.js";
import { backoffDelay } from "./sync/backoffDelay.js";

/** The longest wait between two failed syncs: a writer is back within this of its database. */
const MAX_SYNC_BACKOFF_MS = 10_000;

/** What the indexer reports as it goes: ranges committed, reorgs undone, failures. */
export type IndexerEvent =
  | {
      type: "range";
      fromBlock: bigint;
      toBlock: bigint;
      batches: number;
      actions: number;
      transfers: number;
      logs: number;
    }
  | { type: "reorg"; checkpoint: bigint; commonAncestor: bigint | null }
  | { type: "range-resized"; size: bigint; reason: string }
  | { type: "error"; error: IndexerError | Error; retrying: boolean };

export interface CreateIndexerParameters {
  /** A viem client for the chain; or give `rpcUrl`. */
  client?: Client;
  rpcUrl?: string;
  deployment: { chainId: number; ledger: Address; token: Address; deploymentBlock: bigint };
  /** The store; or give `dbPath` for SQLite. */
  store?: IndexerStore;
  dbPath?: string;
  /** Blocks to stay behind the head (0 indexes the head and relies on reorg handling). */
  confirmations?: number;
  /** How deep a reorg can be undone block by block; deeper ones re-index from the deployment. */
  reorgDepth?: number;
  pollIntervalMs?: number;
  /**
   * The first block range of eth_getLogs; shrinks when the RPC refuses a query as too big (block
   * span, result count, response size), grows on success (src/chain/createLogRange.ts).
   */
  initialRange?: number;
  maxRange?: number;
  retry?: Partial<RetryOptions>;
  logger?: Logger;
  onEvent?: (event: IndexerEvent) => void;
}

export interface IndexerStatus {
  checkpoint: BlockRef | null;
  head: bigint | null;
  running: boolean;
  lastError: string | null;
  lastSyncAt: Date | null;
}

export interface Indexer {
  readonly store: IndexerStore;
  /** This indexer's Prometheus metrics (its own registry); serve them with createIndexerApp. */
  readonly metrics: IndexerMetrics;
  /** Indexes up to the current head (minus confirmations); resolves with the checkpoint reached. */
  syncOnce(): Promise<BlockRef | null>;
  /** Keeps following new blocks every `pollIntervalMs` until {@link stop}. */
  start(): void;
  stop(): Promise<void>;
  /** Resolves once block `number` is indexed (syncing itself when not started). */
  waitForBlock(number: bigint, options?: { timeoutMs?: number }): Promise<BlockRef>;
  status(): IndexerStatus;
  /** Stops and closes the store. */
  close(): Promise<void>;
}

/**
 * The Twei indexer: sync (eth_getLogs in adaptive block ranges) → decode (BatchSettled,
 * BurnShortfall, RuleSetUpdated, Transfer) → store (one atomic commit per range with its
 * checkpoint) → reports (src/indexer/reports). Before each range it checks that the chain
 * still holds its checkpoint; if not it rolls back to the common ancestor and re-indexes.
 *
 * @example
 * const indexer = createIndexer({ rpcUrl, deployment, dbPath: "data/indexer/localhost.sqlite" })
 * await indexer.syncOnce()
 * const report = await buildPostReport(indexer.store, { postId })
 */
export function createIndexer(parameters: CreateIndexerParameters): Indexer {
  const { deployment } = parameters;
  const client =
    parameters.client ??
    createPublicClient({
      transport: http(parameters.rpcUrl ?? "http://127.0.0.1:8545", { retryCount: 0, timeout: 30_000 }),
    });
  const store = parameters.store ?? createSqliteStore({ path: parameters.dbPath ?? ":memory:" });
  const log = parameters.logger ?? createLogger({ name: "indexer", level: process.env.LOG_LEVEL ?? "warn" });
  const confirmations = BigInt(parameters.confirmations ?? 0);
  const reorgDepth = parameters.reorgDepth ?? 128;
  const pollIntervalMs = parameters.pollIntervalMs ?? 1_000;
  const range = createLogRange({
    initial: BigInt(parameters.initialRange ?? 2_000),
    max: BigInt(parameters.maxRange ?? 100_000),
  });
  const retry: RetryOptions = { retries: 6, baseDelayMs: 100, maxDelayMs: 5_000, ...parameters.retry };
  const status: IndexerStatus = { checkpoint: null, head: null, running: false, lastError: null, lastSyncAt: null };
  const metrics = createIndexerMetrics({ status: () => status, deploymentBlock: deployment.deploymentBlock });
  const emit = (event: IndexerEvent) => {
    metrics.observe(event);
    parameters.onEvent?.(event);
  };
  const reader: ChainReader = createChainReader({
    client,
    address: [deployment.ledger, deployment.token],
    topics: INDEXED_TOPICS,
    onError: metrics.rpcError,
    retry: {
      ...retry,
      onRetry: (error, attempt, delayMs) => {
        log.warn({ err: error.message, attempt, delayMs: Math.round(delayMs) }, "rpc call failed, retrying");
        retry.onRetry?.(error, attempt, delayMs);
      },
    },
  });
  let initialized = false;
  let exclusive: Promise<unknown> = Promise.resolve();
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;

  const init = async () => {
    if (initialized) return;
    const chainId = await reader.chainId();
    if (chainId !== deployment.chainId)
      throw new StoreMismatchError(`the RPC serves chain ${chainId}, the deployment is on ${deployment.chainId}`);
    await store.init(deployment);
    initialized = true;
  };

  /** Rolls back to the newest remembered block the chain still has, if the checkpoint is gone. */
  const undoReorg = async (checkpoint: BlockRef): Promise<boolean> => {
    const now = await reader.block(checkpoint.number);
    if (now !== null && now.hash === checkpoint.hash) return false;
    let ancestor: BlockRef | null = null;
    for (const known of await store.recentBlocks(reorgDepth)) {
      const onChain = await reader.block(known.number);
      if (onChain !== null && onChain.hash === known.hash) {
        ancestor = known;
        break;
      }
    }
    await store.rollback(ancestor);
    log.warn({ checkpoint: checkpoint.number, commonAncestor: ancestor?.number ?? null }, "reorg: rolled back");
    emit({ type: "reorg", checkpoint: checkpoint.number, commonAncestor: ancestor?.number ?? null });
    return true;
  };

  const syncToHead = async (): Promise<BlockRef | null> => {
    await init();
    let checkpoint = await store.checkpoint();
    let moved = 0;
    status.head = await reader.head();
    let target = status.head - confirmations;
    if (checkpoint !== null && (await undoReorg(checkpoint))) checkpoint = await store.checkpoint();
    for (;;) {
      const from = checkpoint === null ? deployment.deploymentBlock : checkpoint.number + 1n;
      if (from > target) break;
      const to = range.end(from, target);
      try {
        const tip = await reader.block(to);
        if (tip === null) throw new ChainMovedError(`block ${to} is gone`);
        if (checkpoint !== null && (await undoReorg(checkpoint))) {
          checkpoint = await store.checkpoint();
          continue;
        }
        const logs = await reader.logs(from, to);
        const tipAfter = await reader.block(to);
        if (tipAfter === null || tipAfter.hash !== tip.hash) throw new ChainMovedError(`block ${to} changed`);
        const blocks = await decodeRange({
          logs,
          ledger: deployment.ledger,
          token: deployment.token,
          ruleSet: async (version) => (await store.ruleSet(version))?.amounts ?? null,
        });
        const last = blocks.at(-1);
        if (last !== undefined && last.block.number === to && last.block.hash !== tip.hash)
          throw new ChainMovedError(`block ${to} changed`);
        const checkpointNext = { number: to, hash: tip.hash };
        const seen = blocks.map((b) => b.block).filter((b) => b.number !== to);
        await store.commitRange({ blocks, checkpoint: checkpointNext, seen: [...seen, checkpointNext] });
        checkpoint = checkpointNext;
        status.checkpoint = checkpoint;
        let batches = 0;
        let actions = 0;
        let transfers = 0;
        for (const b of blocks) {
          batches += b.batches.length;
          transfers += b.transfers.length;
          for (const batch of b.batches) actions += batch.actionCount;
        }
        emit({ type: "range", fromBlock: from, toBlock: to, batches, actions, transfers, logs: logs.length });
        range.answered(to - from + 1n);
        moved = 0;
      } catch (error) {
        if (error instanceof RangeTooLargeError && range.refused(to - from + 1n, error.refusal)) {
          emit({ type: "range-resized", size: range.size, reason: error.message });
          log.info(
            { range: Number(range.size), reason: error.refusal.reason },
            "log query too large for the RPC, range shrunk",
          );
          continue;
        }
        if (error instanceof ChainMovedError && moved++ < retry.retries) {
          // The head moved under the range: look again from the top (reorg check included).
          await new Promise((resolve) => setTimeout(resolve, retry.baseDelayMs));
          status.head = await reader.head();
          target = status.head - confirmations;
          checkpoint = await store.checkpoint();
          if (checkpoint !== null && (await undoReorg(checkpoint))) checkpoint = await store.checkpoint();
          continue;
        }
        throw error;
      }
    }
    if (checkpoint !== null) await store.pruneBlocks(checkpoint.number - BigInt(reorgDepth));
    // The heartbeat readers watch: a writer that stopped syncing is told apart from a quiet chain.
    const syncedAt = new Date();
    await store.markSynced(syncedAt.getTime());
    status.checkpoint = checkpoint;
    status.lastSyncAt = syncedAt;
    status.lastError = null;
    return checkpoint;
  };

  const timedSync = async (): Promise<BlockRef | null> => {
    const end = metrics.syncDuration.startTimer();
    try {
      const reached = await syncToHead();
      end({ outcome: "ok" });
      return reached;
    } catch (error) {
      end({ outcome: "error" });
      throw error;
    }
  };

  const syncOnce = (): Promise<BlockRef | null> => {
    const run = exclusive.then(timedSync, timedSync);
    exclusive = run.catch(() => undefined);
    return run.catch((error: unknown) => {
      status.lastError = error instanceof Error ? error.message : String(error);
      throw error;
    });
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wake = null;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        wake = null;
        resolve();
      };
    });

  const stop = async () => {
    status.running = false;
    wake?.();
    await loop;
    loop = null;
    await exclusive;
  };

  return {
    store,
    metrics,
    syncOnce,
    start() {
      if (status.running) return;
      status.running = true;
      loop = (async () => {
        let failures = 0;
        while (status.running) {
          try {
            await syncOnce();
            failures = 0;
            await sleep(pollIntervalMs);
          } catch (error) {
            // No failure ends the loop (a database restart, a lost writer lock, the RPC down): it
            // backs off, capped and jittered, and tries again; /readyz says why meanwhile.
            failures++;
            const err = error instanceof Error ? error : new Error(String(error));
            const delayMs = Math.round(
              backoffDelay(failures + 1, { baseDelayMs: pollIntervalMs, maxDelayMs: MAX_SYNC_BACKOFF_MS }),
            );
            log.error({ err: err.message, error: err.name, failures, delayMs }, "sync failed");
            emit({ type: "error", error: err, retrying: true });
            await sleep(delayMs);
          }
        }
      })();
    },
    stop,
    async waitForBlock(number, options = {}) {
      const deadline = Date.now() + (options.timeoutMs ?? 60_000);
      for (;;) {
        const checkpoint = await store.checkpoint();
        if (checkpoint !== null && checkpoint.number >= number) return checkpoint;
        if (Date.now() > deadline) throw new IndexerError(`block ${number} was not indexed in time`);
        if (status.running) await new Promise((resolve) => setTimeout(resolve, Math.min(pollIntervalMs, 50)));
        else await syncOnce();
        if (!status.running && (await store.checkpoint())?.number === checkpoint?.number)
          await new Promise((resolve) => setTimeout(resolve, Math.min(pollIntervalMs, 100)));
      }
    },
    status: () => ({ ...status }),
    async close() {
      await stop();
      await store.close();
    },
  };
}
