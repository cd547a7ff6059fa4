import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface RelayerMetrics {
  readonly registry: Registry;
  readonly events: Counter<"outcome">;
  readonly eventsSettled: Counter;
  readonly queueDepth: Gauge;
  readonly batches: Counter<"outcome">;
  readonly gasUsed: Counter;
  readonly settlementLatency: Histogram;
  readonly chainErrors: Counter;
  readonly webhooks: Counter<"outcome">;
  readonly eventsFailed: Counter<"code">;
  readonly eventsRepriced: Counter;
  readonly eventsHeld: Gauge;
  readonly sitesWaitingForCap: Gauge;
  readonly reorgs: Counter<"depth">;
  readonly settlementBlocked: Gauge;
  readonly balance: Gauge;
  readonly queueOldestAge: Gauge;
  readonly leader: Gauge<"instance">;
  readonly leaderEpoch: Gauge;
}

/**
 * The relayer's Prometheus metrics, in a registry of its own (several relayers can run in
 * one process, e.g. in tests and the demo).
 *
 * @example
 * const metrics = createRelayerMetrics(); metrics.events.inc({ outcome: "accepted" }, 100)
 */
export function createRelayerMetrics(
  options: {
    queueDepth?: () => Promise<number>;
    heldCount?: () => Promise<number>;
    /** The caps sites wait for room under (one entry per waiting site: `mint`, `site_burn`, …). */
    capWaits?: () => Promise<readonly string[]>;
    /** The relayer account's balance in wei (read from the chain at each scrape). */
    balanceWei?: () => Promise<bigint>;
    /** When the oldest pending event was received (ms since the epoch), or undefined. */
    oldestPendingAt?: () => Promise<number | undefined>;
  } = {},
): RelayerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "twei_relayer_" });
  const { queueDepth, heldCount, capWaits, balanceWei, oldestPendingAt } = options;
  return {
    registry,
    events: new Counter({
      name: "twei_relayer_events_total",
      help: "Site events received, by outcome (accepted, duplicate, conflict, rejected)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    eventsSettled: new Counter({
      name: "twei_relayer_events_settled_total",
      help: "Events settled on-chain",
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: "twei_relayer_queue_depth",
      help: "Accepted events not yet in a batch",
      registers: [registry],
      async collect() {
        if (queueDepth) this.set(await queueDepth());
      },
    }),
    batches: new Counter({
      name: "twei_relayer_batches_total",
      help: "Batches by outcome (recorded, included, settled, stuck, reverted, abandoned)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    gasUsed: new Counter({
      name: "twei_relayer_gas_used_total",
      help: "Gas used by settlements",
      registers: [registry],
    }),
    settlementLatency: new Histogram({
      name: "twei_relayer_settlement_latency_seconds",
      help: "From recording a batch to its settlement",
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    chainErrors: new Counter({
      name: "twei_relayer_chain_errors_total",
      help: "Settlement passes that failed on the chain",
      registers: [registry],
    }),
    webhooks: new Counter({
      name: "twei_relayer_webhooks_total",
      help: "Webhook deliveries by outcome",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    eventsFailed: new Counter({
      name: "twei_relayer_events_failed_total",
      help: "Accepted events that ended failed (the ledger refuses them), by failure code",
      labelNames: ["code"],
      registers: [registry],
    }),
    eventsRepriced: new Counter({
      name: "twei_relayer_events_repriced_total",
      help: "Pending events priced anew because the ledger no longer takes the rule set they were accepted under",
      registers: [registry],
    }),
    eventsHeld: new Gauge({
      name: "twei_relayer_events_held",
      help: "Accepted events held because their site is deactivated on the ledger",
      registers: [registry],
      async collect() {
        if (heldCount) this.set(await heldCount());
      },
    }),
    sitesWaitingForCap: new Gauge({
      name: "twei_relayer_sites_waiting_for_cap",
      help: "Sites whose events wait for room under a cap of the ledger's, by cap (mint, burn, site_mint, site_burn)",
      labelNames: ["cap"],
      registers: [registry],
      async collect() {
        if (!capWaits) return;
        this.reset();
        for (const cap of ["mint", "burn", "site_mint", "site_burn"]) this.set({ cap }, 0);
        for (const cap of await capWaits()) this.inc({ cap });
      },
    }),
    reorgs: new Counter({
      name: "twei_relayer_reorgs_total",
      help: "Batches a reorg removed or moved, before or past the finality depth",
      labelNames: ["depth"],
      registers: [registry],
    }),
    settlementBlocked: new Gauge({
      name: "twei_relayer_settlement_blocked",
      help: "1 while settlement stops as a whole (ledger paused, relayer role missing, chain unreachable)",
      registers: [registry],
    }),
    balance: new Gauge({
      name: "twei_relayer_balance_wei",
      help: "The relayer account's native balance (wei), which pays the settlements' gas; the last value read while the chain does not answer",
      registers: [registry],
      async collect() {
        if (!balanceWei) return;
        try {
          this.set(Number(await balanceWei()));
        } catch {
          // The chain did not answer: keep the last value (chain errors are counted elsewhere).
        }
      },
    }),
    queueOldestAge: new Gauge({
      name: "twei_relayer_queue_oldest_age_seconds",
      help: "Age of the oldest accepted event not yet in a batch (0 when none waits)",
      registers: [registry],
      async collect() {
        if (!oldestPendingAt) return;
        const oldest = await oldestPendingAt();
        this.set(oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
      },
    }),
    leader: new Gauge({
      name: "twei_relayer_leader",
      help: "1 while this instance is the submitter (holds the lease on a shared store; a settling SQLite relayer always is), 0 otherwise",
      labelNames: ["instance"],
      registers: [registry],
    }),
    leaderEpoch: new Gauge({
      name: "twei_relayer_leader_epoch",
      help: "The submitter lease's epoch this instance holds (0: none); it grows by one at each takeover",
      registers: [registry],
    }),
  };
}
