import type { Hex } from "viem";
import { describeChainError } from "../chain/decodeRevert.js";
import { readDeployment } from "../chain/deployments.js";
import { createLogger } from "../observability/logger.js";
import {
  finalityFrom,
  parseRelayerEnv,
  personhoodFromBlockFrom,
  RelayerConfigError,
  relayerPolicyFrom,
} from "./config.js";
import { startRelayer } from "./createRelayer.js";
import { PreflightError } from "./chain/preflight.js";
import { DatabaseInUseError } from "../storage/sqliteProcessLock.js";

/** `npm run relayer`: the relayer service, configured from the environment (see config.ts). */
const log = createLogger({ name: "relayer" });
try {
  const env = parseRelayerEnv(process.env);
  const deployment = await readDeployment(env.TWEI_NETWORK, env.TWEI_DEPLOYMENTS_ROOT);
  const policy = await relayerPolicyFrom(env.RELAYER_POLICY);
  const relayer = await startRelayer({
    rpcUrl: env.TWEI_RPC_URL,
    chainId: deployment.chainId,
    ledger: deployment.ledger,
    token: deployment.token,
    deploymentBlock: deployment.deploymentBlock,
    privateKey: env.RELAYER_PRIVATE_KEY,
    dataDir: env.RELAYER_DATA_DIR,
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    ...(env.RELAYER_INSTANCE ? { instance: env.RELAYER_INSTANCE } : {}),
    leaseRetryMs: env.RELAYER_LEASE_RETRY_MS,
    leaseDeadlineMs: env.RELAYER_LEASE_DEADLINE_MS,
    host: env.RELAYER_HOST,
    port: env.RELAYER_PORT,
    ratePerSecond: env.RELAYER_RATE_PER_SECOND,
    rateBurst: env.RELAYER_RATE_BURST,
    publicRatePerSecond: env.RELAYER_PUBLIC_RATE_PER_SECOND,
    publicRateBurst: env.RELAYER_PUBLIC_RATE_BURST,
    settle: env.RELAYER_SETTLE,
    abiHash: deployment.abiHash as Hex,
    signerMaxStaleMs: env.RELAYER_SIGNER_MAX_STALE_MS,
    ...(env.RELAYER_MIN_BALANCE_WEI === undefined ? {} : { minBalanceWei: env.RELAYER_MIN_BALANCE_WEI }),
    verifyWorkers: env.RELAYER_VERIFY_WORKERS,
    policy,
    personhoodFromBlock: personhoodFromBlockFrom(env, deployment, policy.personhood),
    logger: createLogger({ name: "relayer", level: env.LOG_LEVEL }),
    batcher: {
      intervalMs: env.RELAYER_BATCH_INTERVAL_MS,
      minEvents: env.RELAYER_BATCH_MIN_EVENTS,
      maxWaitMs: env.RELAYER_BATCH_MAX_WAIT_MS,
      maxBatchEvents: env.RELAYER_BATCH_MAX_EVENTS,
      gasCap: env.RELAYER_GAS_CAP,
      finality: finalityFrom(env, deployment.chainId),
      reorgWatchBlocks: env.RELAYER_REORG_WATCH_BLOCKS,
      stuckAfterMs: env.RELAYER_STUCK_AFTER_MS,
    },
  });
  // Tests and scripts wait for this line to learn the URL.
  console.log(JSON.stringify({ msg: "relayer ready", url: relayer.url, database: relayer.context.database }));
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    relayer.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
} catch (error) {
  if (error instanceof PreflightError) {
    log.fatal({ problems: error.problems }, "the relayer cannot start");
    // For people at a terminal: each problem and what to do, one a line.
    for (const problem of error.problems) console.error(`relayer: ${problem.message}`);
  } else if (error instanceof RelayerConfigError) {
    log.fatal({ code: "invalid_config", error: error.message }, "the relayer cannot start");
    console.error(`relayer: ${error.message}`);
  } else if (error instanceof DatabaseInUseError) {
    log.fatal({ code: "database_in_use", error: error.message }, "the relayer cannot start");
    console.error(`relayer: ${error.message}`);
  } else log.fatal({ error: describeChainError(error) }, "the relayer cannot start");
  process.exit(1);
}
