import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { IndexerEvent, IndexerStatus } from "./createIndexer.js";
import { RangeTooLargeError, RpcRejectedError, RpcUnavailableError } from "./errors.js";

/** The RPC failure classes of classifyRpcError, as the `class` label says them. */
export type RpcErrorClass = "unavailable" | "range_too_large" | "rejected" | "other";

export interface IndexerMetrics {
  readonly registry: Registry;
  readonly indexedBlock: Gauge;
  readonly headBlock: Gauge;
  readonly lagBlocks: Gauge;
  readonly logs: Counter;
  readonly batches: Counter;
  readonly actions: Counter;
  readonly ranges: Counter;
  readonly reorgs: Counter;
  readonly lastReorgDepth: Gauge;
  readonly rpcErrors: Counter<"class" | "method">;
  readonly syncDuration: Histogram<"outcome">;
  readonly syncFailures: Counter;
  readonly requests: Counter<"route" | "status">;
  readonly reportDuration: Histogram<"report">;
  /** Counts what the sync loop reports (ranges, reorgs, failed passes). */
  observe(event: IndexerEvent): void;
  /** Counts one failed RPC call by its class (see src/indexer/sync/classifyRpcError.ts). */
  rpcError(error: unknown, method: string): void;
}

/** The `class` label of an RPC failure classifyRpcError sorted. */
export function rpcErrorClass(error: unknown): RpcErrorClass {
  if (error instanceof RangeTooLargeError) return "range_too_large";
  if (error instanceof RpcUnavailableError) return "unavailable";
  if (error instanceof RpcRejectedError) return "rejected";
  return "other";
}

/**
 * The indexer's Prometheus metrics, in a registry of its own (several indexers can run in one
 * process, e.g. in tests). Block gauges are read from the indexer's status at each scrape.
 *
 * @example
 * const metrics = createIndexerMetrics({ status: indexer.status, deploymentBlock: 0n })
 * app.get("/metrics", async (_req, res) => res.type(metrics.registry.contentType).send(await metrics.registry.metrics()))
 */
export function createIndexerMetrics(
  options: {
    status?: (() => IndexerStatus) | undefined;
    /** Where a reorg deeper than the remembered blocks rolls back to (for the depth gauge). */
    deploymentBlock?: bigint;
    /** A reader's view of the writer's heartbeat (ms; null: never); the writer's own status otherwise. */
    writerSyncedAt?: () => Promise<number | null>;
  } = {},
): IndexerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "twei_indexer_" });
  const { status } = options;
  const indexedBlock = new Gauge({
    name: "twei_indexer_indexed_block",
    help: "The indexer's checkpoint: the last block committed (absent before the first)",
    registers: [registry],
    collect() {
      const checkpoint = status?.().checkpoint;
      if (checkpoint != null) this.set(Number(checkpoint.number));
    },
  });
  new Gauge({
    name: "twei_indexer_writer_silence_seconds",
    help: "Seconds since the writer last reached the chain's head (a reader reads it from the database; -1: never)",
    registers: [registry],
    async collect() {
      const at = options.writerSyncedAt
        ? await options.writerSyncedAt().catch(() => null)
        : (status?.().lastSyncAt?.getTime() ?? null);
      this.set(at === null ? -1 : (Date.now() - at) / 1000);
    },
  });
  const headBlock = new Gauge({
    name: "twei_indexer_chain_head_block",
    help: "The chain's head as the indexer last read it",
    registers: [registry],
    collect() {
      const head = status?.().head;
      if (head != null) this.set(Number(head));
    },
  });
  const lagBlocks = new Gauge({
    name: "twei_indexer_lag_blocks",
    help: "Blocks between the chain's head and the checkpoint (confirmations included)",
    registers: [registry],
    collect() {
      const now = status?.();
      if (now?.head != null) this.set(Number(now.head - (now.checkpoint?.number ?? options.deploymentBlock ?? 0n)));
    },
  });
  const logs = new Counter({ name: "twei_indexer_logs_total", help: "Logs indexed", registers: [registry] });
  const batches = new Counter({
    name: "twei_indexer_batches_total",
    help: "BatchSettled batches indexed",
    registers: [registry],
  });
  const actions = new Counter({
    name: "twei_indexer_actions_total",
    help: "Settled actions indexed",
    registers: [registry],
  });
  const ranges = new Counter({
    name: "twei_indexer_ranges_total",
    help: "Block ranges committed",
    registers: [registry],
  });
  const reorgs = new Counter({
    name: "twei_indexer_reorgs_total",
    help: "Reorgs rolled back (the checkpoint's block was no longer on the chain)",
    registers: [registry],
  });
  const lastReorgDepth = new Gauge({
    name: "twei_indexer_last_reorg_depth_blocks",
    help: "Blocks the last reorg rolled back (0 before any)",
    registers: [registry],
  });
  const rpcErrors = new Counter({
    name: "twei_indexer_rpc_errors_total",
    help: "Failed RPC calls by class (unavailable: retried; range_too_large: the range is halved; rejected: the pass fails) and method",
    labelNames: ["class", "method"],
    registers: [registry],
  });
  const syncDuration = new Histogram({
    name: "twei_indexer_sync_duration_seconds",
    help: "One sync pass (up to the head), by outcome (ok, error)",
    labelNames: ["outcome"],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const syncFailures = new Counter({
    name: "twei_indexer_sync_failures_total",
    help: "Sync passes of the running loop that failed (it backs off and tries again)",
    registers: [registry],
  });
  const requests = new Counter({
    name: "twei_indexer_http_requests_total",
    help: "HTTP requests by route (the pattern, or unmatched) and status",
    labelNames: ["route", "status"],
    registers: [registry],
  });
  const reportDuration = new Histogram({
    name: "twei_indexer_report_build_duration_seconds",
    help: "Building a report from the store, by report (post, user)",
    labelNames: ["report"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [registry],
  });
  // A counter is absent until first counted: start at 0 so rate() and increase() see the first one.
  for (const outcome of ["ok", "error"]) syncDuration.zero({ outcome });
  return {
    registry,
    indexedBlock,
    headBlock,
    lagBlocks,
    logs,
    batches,
    actions,
    ranges,
    reorgs,
    lastReorgDepth,
    rpcErrors,
    syncDuration,
    syncFailures,
    requests,
    reportDuration,
    observe(event) {
      if (event.type === "range") {
        ranges.inc();
        logs.inc(event.logs);
        batches.inc(event.batches);
        actions.inc(event.actions);
      } else if (event.type === "reorg") {
        reorgs.inc();
        const ancestor = event.commonAncestor ?? (options.deploymentBlock ?? 0n) - 1n;
        lastReorgDepth.set(Number(event.checkpoint - ancestor));
      } else if (event.type === "error") syncFailures.inc();
    },
    rpcError(error, method) {
      rpcErrors.inc({ class: rpcErrorClass(error), method });
    },
  };
}
