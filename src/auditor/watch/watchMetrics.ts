import { createServer, type Server } from "node:http";
import { Counter, Gauge, Registry } from "prom-client";

/** The watchtower's Prometheus metrics, one registry per watchtower. */
export function createWatchMetrics() {
  const registry = new Registry();
  const discrepancies = new Counter({
    name: "twei_watchtower_discrepancies_total",
    help: "Discrepancies the watchtower reported, by code",
    labelNames: ["code"] as const,
    registers: [registry],
  });
  const auditedBlock = new Gauge({
    name: "twei_watchtower_audited_block",
    help: "The last block the watchtower audited",
    registers: [registry],
  });
  const headLag = new Gauge({
    name: "twei_watchtower_head_lag_blocks",
    help: "Blocks between the chain's head and the last block audited",
    registers: [registry],
  });
  const paused = new Gauge({
    name: "twei_watchtower_paused",
    help: "1 once the watchtower has paused the ledger",
    registers: [registry],
  });
  const chainErrors = new Counter({
    name: "twei_watchtower_chain_errors_total",
    help: "Polls that could not read the chain",
    registers: [registry],
  });
  const cleared = new Counter({
    name: "twei_watchtower_cleared_total",
    help: "Discrepancies reported before that a re-audit no longer found (their evidence arrived), by code",
    labelNames: ["code"] as const,
    registers: [registry],
  });
  const uncheckedBatches = new Gauge({
    name: "twei_watchtower_unchecked_batches",
    help: "Settled batches whose evidence the watchtower could not have yet (it keeps looking)",
    registers: [registry],
  });
  const reaudits = new Counter({
    name: "twei_watchtower_reaudits_total",
    help: "Times the replay started over because a batch's evidence arrived or an absent file's grace ended",
    registers: [registry],
  });
  return { registry, discrepancies, auditedBlock, headLag, paused, chainErrors, cleared, uncheckedBatches, reaudits };
}

export type WatchMetrics = ReturnType<typeof createWatchMetrics>;

/** Serves GET /metrics on 127.0.0.1:`port`. */
export async function serveMetrics(metrics: WatchMetrics, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return server;
}
