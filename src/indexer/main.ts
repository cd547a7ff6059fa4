import { readDeployment } from "../chain/deployments.js";
import { createLogger } from "../observability/logger.js";
import { loadIndexerConfig } from "./config.js";
import { createIndexer } from "./createIndexer.js";
import { createIndexerApp } from "./http/createIndexerApp.js";
import { describeIndexerStore, openIndexerStore } from "./store/openIndexerStore.js";

// `npm run indexer`: follows deployments/<TWEI_NETWORK>.json's ledger and serves the reports
// on 127.0.0.1:INDEXER_PORT. With INDEXER_SYNC=false it only serves what the database holds
// (a reader beside the one writer, on PostgreSQL).
const log = createLogger({ name: "indexer" });
try {
  const config = loadIndexerConfig(process.env);
  const deployment = await readDeployment(config.network, config.deploymentsRoot);
  const db = describeIndexerStore(config);
  let lockProblem: string | null = null;
  const store = await openIndexerStore({
    ...config,
    writer: config.sync,
    // A database restart ends the locked session: the writer takes the lock again by itself
    // (its sync loop's backoff spaces the attempts), and says so on /readyz meanwhile.
    onWriterLock: (event) => {
      if (event.type === "reacquired") {
        lockProblem = null;
        log.info({ db, lostForMs: event.lostForMs }, "writer lock taken again");
      } else if (event.type === "lost") {
        lockProblem = `the writer lock was lost with its database session (${event.reason}): taking it again`;
        log.warn({ db, reason: event.reason }, "writer lock lost, taking it again");
      } else {
        lockProblem = `the writer lock is not held (${event.reason}): retrying with backoff`;
        log.warn({ db, reason: event.reason }, "writer lock not taken yet, retrying with backoff");
      }
    },
  });
  let stop: () => Promise<void>;
  let app;
  if (config.sync) {
    const indexer = createIndexer({
      rpcUrl: config.rpcUrl,
      deployment,
      store,
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
    app = createIndexerApp(store, {
      status: indexer.status,
      metrics: indexer.metrics,
      logger: log,
      problems: () => (lockProblem === null ? [] : [lockProblem]),
    });
    indexer.start();
    stop = () => indexer.close();
  } else {
    await store.init(deployment);
    app = createIndexerApp(store, { logger: log, maxWriterSilenceMs: config.maxWriterSilenceMs });
    stop = () => store.close();
  }
  const server = app.listen(config.port, config.host, () => {
    log.info(
      { network: config.network, host: config.host, port: config.port, db, sync: config.sync },
      config.sync
        ? `indexer API listening on ${config.host}`
        : `indexer API (read-only, not syncing) listening on ${config.host}`,
    );
  });
  const shutdown = async (signal: string) => {
    log.info({ signal }, "stopping");
    server.close();
    await stop();
    process.exit(0);
  };
  process.once("SIGINT", (s) => void shutdown(s));
  process.once("SIGTERM", (s) => void shutdown(s));
} catch (error) {
  log.fatal(
    {
      err: error instanceof Error ? error.message : String(error),
      error: error instanceof Error ? error.name : "Error",
    },
    "indexer failed to start",
  );
  process.exit(1);
}
