import type { Server } from "node:http";
import type { Express } from "express";
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describeChainError } from "../chain/decodeRevert.js";
import { createLogger, type Logger } from "../observability/logger.js";
import { createPersonhoodIndex } from "../chain/createPersonhoodIndex.js";
import { DEFAULT_POLICY, type RulePolicy } from "../rules/policy.js";
import { canonicalJson, policyHash } from "../rules/policyHash.js";
import { createApp } from "./api/createApp.js";
import { createPermitSubmitter } from "./api/postPermit.js";
import { createRateLimiter } from "./api/rateLimiter.js";
import type { RelayerContext } from "./api/relayerContext.js";
import { createSiteDirectory } from "./api/siteDirectory.js";
import { createVerifyPool } from "./api/verifyPool.js";
import { createChainReader } from "./chain/chainReader.js";
import { createSendLock } from "./chain/sendLock.js";
import { createRelayerMetrics } from "./metrics.js";
import { preflight, PreflightError, type PreflightProblem } from "./chain/preflight.js";
import { relayerDatabasePath } from "./config.js";
import { createBatcher, type Batcher } from "./settlement/batcher.js";
import type { BatcherConfig } from "./settlement/settlementContext.js";
import { defaultFinality } from "./settlement/finality.js";
import type { RelayerStore } from "./storage/relayerStore.js";
import { createPgStore } from "./storage/pg/pgStore.js";
import { createSqliteStore } from "./storage/sqliteStore.js";
import { createWebhookDispatcher, type WebhookConfig } from "./webhooks/webhookDispatcher.js";

export interface RelayerConfig {
  readonly rpcUrl: string;
  readonly chainId: number;
  readonly ledger: Address;
  readonly token: Address;
  readonly deploymentBlock: bigint;
  /** The relayer's key (RELAYER_ROLE on the ledger). Never logged. */
  readonly privateKey: Hex;
  /** The SQLite database lives in `<dataDir>/relayer.sqlite` (unless `databaseUrl` is set). */
  readonly dataDir: string;
  /** PostgreSQL (postgres://…): the store several instances share; SQLite in `dataDir` when absent. */
  readonly databaseUrl?: string;
  /** This instance's name, in the lease and the metrics (a random one by default). */
  readonly instance?: string;
  /** How often an instance that does not lead tries to take the submitter lease (1 s by default). */
  readonly leaseRetryMs?: number;
  /** A lease holder that has not renewed for this long is taken over (10 s by default; see pgLease.ts). */
  readonly leaseDeadlineMs?: number;
  readonly host?: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  readonly batcher?: Partial<Omit<BatcherConfig, "deploymentBlock">>;
  readonly webhooks?: Partial<WebhookConfig>;
  readonly ratePerSecond?: number;
  readonly rateBurst?: number;
  /** Requests a second per client address on the public routes (GET /v1/batches, /v1/users), and the burst. */
  readonly publicRatePerSecond?: number;
  readonly publicRateBurst?: number;
  readonly policy?: RulePolicy;
  /**
   * The first block the personhood index reads EAS `Attested` logs from (policy `personhood`;
   * 0 by default): where EAS was deployed, so that the first lookup on a long chain does not read
   * its whole history (RELAYER_PERSONHOOD_FROM_BLOCK, see personhoodFromBlockFrom in config.ts).
   */
  readonly personhoodFromBlock?: bigint;
  readonly chainTimeoutMs?: number;
  /** How long API keys are remembered (5 s by default). */
  readonly siteCacheMs?: number;
  /** How long the rule set in force (and GET /v1/rules) is cached, ms (10 s by default). */
  readonly ruleSetTtlMs?: number;
  /**
   * While the chain cannot be read, envelopes are accepted under the site's signer last read
   * from it, if read within this long (10 minutes by default); refused (503) after that.
   */
  readonly signerMaxStaleMs?: number;
  /** The deployment file's ABI hash, checked at start against this relayer's (not checked when absent). */
  readonly abiHash?: Hex;
  /** Below this balance (wei) the relayer answers /readyz 503 (by default: one batch at the gas cap at today's fees). */
  readonly minBalanceWei?: bigint;
  /** Worker threads verifying event envelopes (2 by default; 0 verifies on the main thread). */
  readonly verifyWorkers?: number;
  /** Whether to run the settlement loop (true by default). */
  readonly settle?: boolean;
  readonly logger?: Logger;
}

export interface Relayer {
  readonly app: Express;
  readonly store: RelayerStore;
  /** The settlement loop (a new one each time this instance becomes the submitter). */
  readonly batcher: Batcher;
  /** Whether this instance settles now (holds the lease, or settles a SQLite store). */
  readonly leading: boolean;
  readonly context: RelayerContext;
  /** Listens (127.0.0.1 by default) and starts settlement and webhooks; resolves to the base URL. */
  start(): Promise<string>;
  stop(): Promise<void>;
}

function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = "";
    return parsed.toString();
  } catch {
    return "postgres://…";
  }
}

export const DEFAULT_BATCHER: Omit<BatcherConfig, "deploymentBlock" | "finality"> = {
  minEvents: 200,
  maxWaitMs: 5_000,
  maxBatchEvents: 1_000,
  gasCap: 15_000_000n,
  reorgWatchBlocks: 64,
  receiptWaitMs: 3_000,
  stuckAfterMs: 60_000,
  intervalMs: 1_000,
};

/**
 * Builds a relayer in-process (API, store, settlement, webhooks) without starting it.
 *
 * @example
 * const relayer = createRelayer({ rpcUrl, chainId, ledger, token, deploymentBlock, privateKey, dataDir });
 * const url = await relayer.start(); … await relayer.stop();
 */
export function createRelayer(config: RelayerConfig): Relayer {
  const log = config.logger ?? createLogger({ name: "relayer" });
  const chain = defineChain({
    id: config.chainId,
    name: `chain ${config.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  });
  const transport = http(config.rpcUrl, { timeout: 10_000, retryCount: 1 });
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 250 }) as PublicClient;
  const account = privateKeyToAccount(config.privateKey);
  const walletClient = createWalletClient({ chain, transport, account });
  const instance = config.instance ?? `relayer-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  // Where the store is, for people (logs, answers): a PostgreSQL URL without its password.
  const database = config.databaseUrl ? withoutPassword(config.databaseUrl) : relayerDatabasePath(config.dataDir);
  const store = config.databaseUrl
    ? createPgStore({
        url: config.databaseUrl,
        instance,
        ...(config.leaseDeadlineMs === undefined ? {} : { leaseDeadlineMs: config.leaseDeadlineMs }),
      })
    : createSqliteStore({ path: database, exclusive: true });
  const reader = createChainReader({
    publicClient,
    ledger: config.ledger,
    token: config.token,
    fundsTtlMs: 2_000,
    ruleSetTtlMs: config.ruleSetTtlMs ?? 10_000,
    deploymentBlock: config.deploymentBlock,
  });
  const metrics = createRelayerMetrics({
    queueDepth: () => store.pendingCount(),
    heldCount: () => store.heldCount(),
    capWaits: async () => (await store.capWaits()).map((wait) => wait.cap),
    balanceWei: () => publicClient.getBalance({ address: account.address }),
    oldestPendingAt: async () => {
      const sites = await store.pendingSites();
      return sites.length === 0 ? undefined : Math.min(...sites.map((site) => site.oldestReceivedAt));
    },
  });
  const lock = createSendLock();
  const batcherConfig: BatcherConfig = {
    ...DEFAULT_BATCHER,
    finality: defaultFinality(config.chainId),
    ...config.batcher,
    deploymentBlock: config.deploymentBlock,
  };
  let startup: readonly PreflightProblem[] | "pending" = "pending";
  const policy = config.policy ?? DEFAULT_POLICY;
  // Once the ledger holds its policy, the relayer keeps the document for good (served at
  // GET /v1/policies/:hash after a change of policy and a restart, for auditing older batches).
  const checks = async () => {
    const problems = await preflight({
      publicClient,
      chainId: config.chainId,
      ledger: config.ledger,
      token: config.token,
      ...(config.abiHash ? { abiHash: config.abiHash } : {}),
      account: account.address,
      finality: batcherConfig.finality,
      settles: config.settle ?? true,
      policy: { hash: policyHash(policy), siteIds: await store.siteIds() },
    });
    if (problems.length === 0) await store.savePolicy(policyHash(policy), canonicalJson(policy));
    return problems;
  };
  const verifier = createVerifyPool({
    size: config.verifyWorkers ?? 2,
    chainId: config.chainId,
    ledger: config.ledger,
  });
  const context: RelayerContext = {
    verifier,
    store,
    database,
    reader,
    publicClient,
    sites: createSiteDirectory({
      store,
      reader,
      ttlMs: config.siteCacheMs ?? 5_000,
      maxStaleMs: config.signerMaxStaleMs ?? 600_000,
    }),
    limiter: createRateLimiter({ ratePerSecond: config.ratePerSecond ?? 1_000, burst: config.rateBurst ?? 2_000 }),
    publicLimiter: createRateLimiter({
      ratePerSecond: config.publicRatePerSecond ?? 50,
      burst: config.publicRateBurst ?? 100,
    }),
    permits: createPermitSubmitter({
      publicClient,
      walletClient,
      token: config.token,
      ledger: config.ledger,
      lock,
    }),
    metrics,
    log,
    policy,
    personhood: policy.personhood
      ? createPersonhoodIndex(publicClient, { policy: policy.personhood, fromBlock: config.personhoodFromBlock ?? 0n })
      : undefined,
    chainId: config.chainId,
    ledger: config.ledger,
    token: config.token,
    chainTimeoutMs: config.chainTimeoutMs ?? 3_000,
    settlement: {
      get startup() {
        return startup;
      },
      get gate() {
        return batcher.gate;
      },
      enabled: config.settle ?? true,
      async minBalance() {
        if (config.minBalanceWei !== undefined) return config.minBalanceWei;
        const fees = await publicClient.estimateFeesPerGas();
        return batcherConfig.gasCap * fees.maxFeePerGas;
      },
      account: account.address,
    },
  };
  const newBatcher = () =>
    createBatcher({
      store,
      reader,
      publicClient,
      walletClient,
      ledger: config.ledger,
      token: config.token,
      config: batcherConfig,
      metrics,
      log,
      lock,
      evidenceRoot: (leaves) => verifier.evidenceRoot(leaves),
    });
  let batcher = newBatcher();
  const newWebhooks = () =>
    createWebhookDispatcher({
      store,
      metrics,
      log,
      config: { intervalMs: 500, timeoutMs: 5_000, maxAttempts: 20, backoffMs: 1_000, ...config.webhooks },
    });
  let webhooks = newWebhooks();
  let leading = false;
  let leaseLoop: Promise<void> | undefined;
  metrics.leader.set({ instance }, 0);

  const lead = () => {
    leading = true;
    metrics.leader.set({ instance }, 1);
    metrics.leaderEpoch.set(Number(store.lease?.epoch ?? 0n));
    batcher.start();
    // On a shared store only the submitter sends webhooks (each delivery once).
    if (store.lease) webhooks.start();
  };
  /** Stops settling (the lease was lost); a later acquisition starts a new settlement loop. */
  const follow = async () => {
    if (!leading) return;
    leading = false;
    metrics.leader.set({ instance }, 0);
    metrics.leaderEpoch.set(0);
    await batcher.stop();
    batcher = newBatcher();
    await webhooks.stop();
    webhooks = newWebhooks();
  };
  /**
   * Settlement on a shared store: try the lease every leaseRetryMs; the holder settles (its first
   * pass reconciles every recorded batch with the chain before anything is cut or sent).
   */
  const contend = async (lease: NonNullable<RelayerStore["lease"]>) => {
    while (!stopped) {
      // Nothing here may reject: a database outage is a lost lease, retried until it answers.
      try {
        const held = await lease.tryAcquire().catch(() => false);
        if (held && !leading) {
          log.info({ instance, epoch: lease.epoch?.toString() }, "this instance is now the submitter");
          lead();
        } else if (!held && leading) {
          log.warn({ instance }, "the submitter lease was lost: settlement stops here");
          await follow();
        }
      } catch (error) {
        log.error({ instance, error: String(error) }, "contending for the submitter lease failed; trying again");
      }
      await new Promise((resolve) => setTimeout(resolve, config.leaseRetryMs ?? 1_000));
    }
  };
  const startSettlement = () => {
    if (!(config.settle ?? true)) return;
    if (store.lease) leaseLoop ??= contend(store.lease);
    else lead();
  };
  const app = createApp(context);
  let server: Server | undefined;
  let stopped = false;
  let retrying: Promise<void> | undefined;

  /** Runs the start-up checks until the chain answers them, then starts settlement if they pass. */
  const checkThenSettle = async () => {
    let said = false;
    while (!stopped) {
      try {
        startup = await checks();
        if (startup.length > 0)
          log.error({ problems: startup }, "start-up checks failed: settlement stays off; see /readyz");
        else startSettlement();
        return;
      } catch (error) {
        if (!said)
          log.warn({ error: describeChainError(error) }, "the chain cannot be read: start-up checks wait for it");
        said = true;
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
    }
  };

  return {
    app,
    store,
    get batcher() {
      return batcher;
    },
    get leading() {
      return leading;
    },
    context,
    async start() {
      // Misconfigured (wrong chain, no role, no gas): refuse to start, saying what to do. When
      // the chain cannot be read yet, the API starts and settlement waits for the checks.
      let reachable = true;
      try {
        startup = await checks();
      } catch {
        reachable = false;
      }
      if (reachable && startup !== "pending" && startup.length > 0) {
        await verifier.close();
        await store.close();
        throw new PreflightError(startup);
      }
      server = await new Promise<Server>((resolve, reject) => {
        const listening = app.listen(config.port ?? 0, config.host ?? "127.0.0.1", (error?: Error) =>
          error ? reject(error) : resolve(listening),
        );
      });
      server.keepAliveTimeout = 30_000;
      // Read the attestations of the chain's history now, not on the first envelope's clock.
      if (context.personhood) {
        const index = context.personhood;
        publicClient
          .getBlockNumber()
          .then((head) => index.sync(head))
          .catch((error: unknown) =>
            log.warn(
              { error: describeChainError(error) },
              "personhood attestations not read yet: the first lookup reads them",
            ),
          );
      }
      if (reachable) startSettlement();
      else retrying = checkThenSettle();
      if (!store.lease) webhooks.start();
      const address = server.address();
      if (!address || typeof address === "string") throw new Error("the relayer has no TCP address");
      const url = `http://${config.host ?? "127.0.0.1"}:${address.port}`;
      log.info(
        { url, ledger: config.ledger, chainId: config.chainId, relayer: account.address, database },
        "relayer listening",
      );
      return url;
    },
    async stop() {
      stopped = true;
      await retrying;
      await leaseLoop;
      await batcher.stop();
      await webhooks.stop();
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server?.close(() => resolve()));
      }
      await verifier.close();
      await store.close();
    },
  };
}

/**
 * Creates and starts a relayer; resolves once it listens.
 *
 * @example
 * const { url, stop } = await startRelayer(config)
 */
export async function startRelayer(config: RelayerConfig): Promise<Relayer & { url: string }> {
  const relayer = createRelayer(config);
  const url = await relayer.start();
  return Object.assign(relayer, { url });
}
