import type { Server } from "node:http";
import { join } from "node:path";
import type { Express } from "express";
import { ActionKind } from "../../../src/core/kinds.js";
import { DEFAULT_RULE_AMOUNTS } from "../../../src/core/ruleSet.js";
import { deployEas } from "../../../src/chain/deployEas.js";
import type { DeployerClient } from "../../../src/chain/deployTwei.js";
import { freePort, hardhatAccount } from "../../../src/devnet/startHardhatNode.js";
import { createIndexer, type Indexer } from "../../../src/indexer/createIndexer.js";
import { createIndexerApp } from "../../../src/indexer/http/createIndexerApp.js";
import { createLogger } from "../../../src/observability/logger.js";
import type { Relayer } from "../../../src/relayer/createRelayer.js";
import { DEFAULT_POLICY } from "../../../src/rules/policy.js";
import { createSiteApp } from "../../../src/site/createSite.js";
import type { SiteConfig } from "../../../src/site/siteConfig.js";
import { captureLog } from "../../relayer/helpers/captureLog.js";
import { startTestChain, type TestChain } from "../../relayer/helpers/testChain.js";
import { addSite, clientFor, startTestRelayer, tempDirs, type TestSite } from "../../relayer/helpers/testRelayer.js";

export const SITE_ID = 7;
export const ARTICLE_SLUG = "hostile-input";
/** The Hardhat account the demo wallet holds (its key must never appear in an answer). */
export const DEMO_ACCOUNT_INDEX = 12;

/** Listens on a loopback port (a free one unless given); resolves to the base URL and a stop function. */
export async function listen(app: Express, port = 0): Promise<{ url: string; stop(): Promise<void> }> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, "127.0.0.1", (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no TCP address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The three HTTP apps of Twei, each built in this process against real stores and a real
 * Hardhat node: the relayer (SQLite, its logs captured), the indexer (SQLite, following the
 * chain) and the demo site (its demo wallet and its personhood attester on). Rate limits are lifted so that hostile
 * requests reach the handlers instead of stopping at 429.
 *
 * @example
 * const stack = await startHostileStack(); … await stack.stop();
 */
export async function startHostileStack() {
  const dirs = tempDirs();
  const chain: TestChain = await startTestChain();
  const stops: (() => Promise<void>)[] = [() => chain.stop(), () => dirs.removeAll()];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => {});
  };
  try {
    const dir = await dirs.make("hostile");
    const site: TestSite = await addSite(chain, dir, SITE_ID);
    const relayerLog = captureLog();
    const relayer: Relayer & { url: string } = await startTestRelayer(chain, dir, {
      logger: relayerLog.log,
      publicRatePerSecond: 1_000_000,
      publicRateBurst: 1_000_000,
      verifyWorkers: 0,
    });
    stops.push(() => relayer.stop());
    const indexerLog = captureLog();
    const indexer: Indexer = createIndexer({
      rpcUrl: chain.node.url,
      deployment: { chainId: 31337, ...chain.deployed },
      dbPath: join(dir, "indexer.sqlite"),
      confirmations: 0,
      pollIntervalMs: 100,
      logger: createLogger({ name: "indexer", level: "silent" }),
    });
    indexer.start();
    stops.push(() => indexer.close());
    const indexerApp = createIndexerApp(indexer.store, { status: indexer.status, logger: indexerLog.log });
    const indexerHttp = await listen(indexerApp);
    stops.push(() => indexerHttp.stop());

    const client = clientFor(chain, relayer.url, site);
    const author = hardhatAccount(19).address;
    const article = {
      slug: ARTICLE_SLUG,
      sitePostId: ARTICLE_SLUG,
      title: "Hostile input",
      author,
      date: "2026-12-07",
      text: "A post that hostile requests are aimed at. ".repeat(40),
    };
    // The site attests its readers (proof of personhood, EAS) so its attest route is fuzzed too;
    // only the site's policy names it: the relayer's stays the default.
    const { eas, personhoodSchema } = await deployEas({
      publicClient: chain.publicClient,
      walletClient: chain.admin as unknown as DeployerClient,
    });
    const attester = chain.walletOf(chain.user(9)) as unknown as DeployerClient;
    const config: Omit<SiteConfig, "origin"> = {
      siteName: "Hostile Desk",
      articles: [article],
      twei: client,
      siteId: SITE_ID,
      chainId: 31337,
      token: chain.deployed.token,
      ledger: chain.deployed.ledger,
      publicClient: chain.publicClient,
      relayerUrl: relayer.url,
      indexerUrl: indexerHttp.url,
      policy: {
        ...DEFAULT_POLICY,
        personhood: { eas, schema: personhoodSchema, attesters: [attester.account.address] },
      },
      attester: { walletClient: attester },
      reportPriceWei: DEFAULT_RULE_AMOUNTS[ActionKind.PnLReports] ?? 0n,
      newcomerHold: false,
      demoWallet: [{ name: "Ines", account: hardhatAccount(DEMO_ACCOUNT_INDEX) }],
      limits: { perIpPerSecond: 1_000_000, perUserPerSecond: 1_000_000 },
      databasePath: join(dir, "site.sqlite"),
    };
    const siteErrors: unknown[] = [];
    // The site's canonical origin is its own loopback address.
    const sitePort = await freePort();
    const siteApp = createSiteApp({ ...config, origin: `http://127.0.0.1:${sitePort}` }, "/* widget */", {
      onUnexpected: (e) => siteErrors.push(e),
    });
    const siteHttp = await listen(siteApp, sitePort);
    stops.push(() => siteApp.close());
    stops.push(() => siteHttp.stop());
    return {
      chain,
      site,
      client,
      relayer,
      relayerLog,
      indexer,
      indexerLog,
      siteErrors,
      urls: { relayer: relayer.url, indexer: indexerHttp.url, site: siteHttp.url },
      apps: { relayer: relayer.app, indexer: indexerApp, site: siteApp },
      relayerDbPath: join(dir, "relayer.sqlite"),
      demoAccount: hardhatAccount(DEMO_ACCOUNT_INDEX),
      article,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export type HostileStack = Awaited<ReturnType<typeof startHostileStack>>;
