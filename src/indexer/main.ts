import { readDeployment } from "../chain/deployments.js";
import { createLogger } from "../observability/logger.js";
import { loadIndexerConfig } from "./config.js";
import { createIndexer } from "./createIndexer.js";
import { createIndexerApp } from "./http/createIndexerApp.js";

// `npm run indexer`: follows deployments/<TWEI_NETWORK>.json's ledger and serves the reports
// on 127.0.0.1:INDEXER_PORT.
const log = createLogger({ name: "indexer" });
try {
  const config = loadIndexerConfig(process.env);
  const deployment = await readDeployment(config.network);
  const indexer = createIndexer({
    rpcUrl: config.rpcUrl,
    deployment,
    dbPath: config.dbPath,
    confirmations: config.confirmations,
    reorgDepth: config.reorgDepth,
    pollIntervalMs: config.pollIntervalMs,
    initialRange: config.initialRange,
    logger: log,
    onEvent: (event) => {
      if (event.type === "range")
        log.info(
          {
            from: event.fromBlock,
            to: event.toBlock,
            batches: event.batches,
            actions: event.actions,
            logs: event.logs,
          },
          "indexed",
        );
      else if (event.type === "reorg")
        log.warn({ checkpoint: event.checkpoint, commonAncestor: event.commonAncestor }, "reorg rolled back");
    },
  });
  const app = createIndexerApp(indexer.store, { status: indexer.status, metrics: indexer.metrics, logger: log });
  const server = app.listen(config.port, "127.0.0.1", () => {
    log.info({ network: config.network, port: config.port, db: config.dbPath }, "indexer API listening on 127.0.0.1");
  });
  indexer.start();
  const shutdown = async (signal: string) => {
    log.info({ signal }, "stopping");
    server.close();
    await indexer.close();
    process.exit(0);
  };
  process.once("SIGINT", (s) => void shutdown(s));
  process.once("SIGTERM", (s) => void shutdown(s));
} catch (error) {
  log.fatal({ err: error instanceof Error ? error.message : String(error) }, "indexer failed to start");
  process.exit(1);
}
