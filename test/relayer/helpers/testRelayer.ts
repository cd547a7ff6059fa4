import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseUnits, type LocalAccount } from "viem";
import { createLogger } from "../../../src/observability/logger.js";
import { startRelayer, type RelayerConfig } from "../../../src/relayer/createRelayer.js";
import { registerSite } from "../../../src/relayer/registerSite.js";
import { createPgStore } from "../../../src/relayer/storage/pg/pgStore.js";
import { createSqliteStore } from "../../../src/relayer/storage/sqliteStore.js";
import { createTweiClient } from "../../../src/sdk/createTweiClient.js";
import { CHAIN_ID, type TestChain } from "./testChain.js";

export async function tempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `twei-${label}-`));
}

export function relayerConfig(
  chain: TestChain,
  dataDir: string,
  overrides: Partial<RelayerConfig> = {},
): RelayerConfig {
  return {
    rpcUrl: chain.node.url,
    chainId: CHAIN_ID,
    ledger: chain.deployed.ledger,
    token: chain.deployed.token,
    deploymentBlock: chain.deployed.deploymentBlock,
    privateKey: chain.relayerKey,
    dataDir,
    logger: createLogger({ name: "relayer-test", level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    ...overrides,
    batcher: { intervalMs: 200, minEvents: 1, maxWaitMs: 0, stuckAfterMs: 5_000, ...overrides.batcher },
  };
}

/** Registers a site (on-chain and in the relayer's database: at `dataDir`, or `databaseUrl`) and returns its credentials. */
export async function addSite(
  chain: TestChain,
  dataDir: string,
  siteId: number,
  options: {
    webhookUrl?: string;
    signer?: LocalAccount;
    cap?: string;
    databaseUrl?: string | undefined;
    /** The policy the relayer applies to the site, committed on-chain (DEFAULT_POLICY by default). */
    policy?: unknown;
  } = {},
) {
  const signer = options.signer ?? chain.newSigner();
  const store = options.databaseUrl
    ? createPgStore({ url: options.databaseUrl })
    : createSqliteStore({ path: join(dataDir, "relayer.sqlite") });
  try {
    const registered = await registerSite({
      store,
      publicClient: chain.publicClient,
      adminClient: chain.admin,
      ledger: chain.deployed.ledger,
      siteId,
      signer: signer.address,
      epochCap: parseUnits(options.cap ?? "100000", 18),
      ...(options.webhookUrl ? { webhookUrl: options.webhookUrl } : {}),
      ...(options.policy === undefined ? {} : { policy: options.policy }),
    });
    return { siteId, signer, ...registered };
  } finally {
    await store.close();
  }
}

export type TestSite = Awaited<ReturnType<typeof addSite>>;

export function clientFor(chain: TestChain, url: string, site: TestSite) {
  return createTweiClient({
    url,
    apiKey: site.apiKey,
    siteId: site.siteId,
    signer: site.signer,
    chainId: CHAIN_ID,
    ledger: chain.deployed.ledger,
  });
}

export async function startTestRelayer(chain: TestChain, dataDir: string, overrides: Partial<RelayerConfig> = {}) {
  return startRelayer(relayerConfig(chain, dataDir, overrides));
}

export async function removeDir(dir: string) {
  await rm(dir, { recursive: true, force: true });
}

/**
 * The temporary directories a suite makes, removed together in its `after`.
 *
 * @example
 * const dirs = tempDirs(); const dataDir = await dirs.make("recovery"); after(() => dirs.removeAll());
 */
export function tempDirs(): { make(label: string): Promise<string>; removeAll(): Promise<void> } {
  const made: string[] = [];
  return {
    async make(label) {
      const dir = await tempDir(label);
      made.push(dir);
      return dir;
    },
    async removeAll() {
      for (const dir of made.splice(0)) await removeDir(dir);
    },
  };
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
