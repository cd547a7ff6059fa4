import { createPublicClient, http, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { readDeployment } from "../../chain/deployments.js";
import { ActionKind } from "../../core/kinds.js";
import { DEFAULT_RULE_AMOUNTS } from "../../core/ruleSet.js";
import { DEFAULT_POLICY } from "../../rules/policy.js";
import { createTweiClient } from "../../sdk/createTweiClient.js";
import { openSiteStore } from "../store/openSiteStore.js";
import { buildWidget } from "../widgetBundle.js";
import { createGatewayApp, gatewayFeed } from "./createGatewayApp.js";
import { GatewayConfigError, parseGatewayEnv } from "./gatewayConfig.js";

/**
 * `npm run site-gateway`: the site kit as a standalone service for sites that are not Node
 * (see createGatewayApp), configured from the environment (gatewayConfig.ts), validated whole
 * before anything starts.
 */
try {
  const { env, signerKey, allowedOrigins } = parseGatewayEnv(process.env);
  const deployment = await readDeployment(env.TWEI_NETWORK, env.TWEI_DEPLOYMENTS_ROOT);
  const store = await openSiteStore(
    env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : { path: env.TWEI_GATEWAY_DB },
  );
  const twei = createTweiClient({
    url: env.TWEI_RELAYER_URL,
    apiKey: env.TWEI_SITE_API_KEY,
    siteId: env.TWEI_SITE_ID,
    signer: privateKeyToAccount(signerKey),
    chainId: deployment.chainId,
    ledger: deployment.ledger,
  });
  const gateway = createGatewayApp(
    {
      siteName: env.TWEI_SITE_NAME,
      origin: env.TWEI_SITE_ORIGIN,
      articles: [],
      twei,
      siteId: env.TWEI_SITE_ID,
      chainId: deployment.chainId,
      token: deployment.token,
      ledger: deployment.ledger,
      publicClient: createPublicClient({ transport: http(env.TWEI_RPC_URL) }) as PublicClient,
      relayerUrl: env.TWEI_RELAYER_URL,
      indexerUrl: env.TWEI_INDEXER_URL,
      policy: DEFAULT_POLICY,
      reportPriceWei: DEFAULT_RULE_AMOUNTS[ActionKind.PnLReports] ?? 0n,
      store,
      moderation: { keys: env.TWEI_MODERATOR_KEYS, windowMs: env.TWEI_MODERATION_WINDOW_MS },
      newcomerHold: env.TWEI_NEWCOMER_READING_DAYS === 0 ? false : { readingDays: env.TWEI_NEWCOMER_READING_DAYS },
      ...(env.TWEI_TRUST_PROXY === undefined ? {} : { trustProxy: env.TWEI_TRUST_PROXY }),
    },
    {
      widget: await buildWidget(),
      allowedOrigins,
      ...(env.TWEI_GATEWAY_POSTS_KEY ? { postsKey: env.TWEI_GATEWAY_POSTS_KEY } : {}),
    },
  );
  const feedUrl = env.TWEI_GATEWAY_FEED_URL;
  const readFeed = async () => {
    if (!feedUrl) return;
    try {
      const posts = gatewayFeed.parse(await (await fetch(feedUrl, { signal: AbortSignal.timeout(10_000) })).json());
      for (const post of posts) await gateway.learn(post);
    } catch (error) {
      console.error(`site-gateway: the feed could not be read (${error instanceof Error ? error.name : "error"})`);
    }
  };
  await readFeed();
  setInterval(() => void readFeed(), 60_000).unref();
  const server = gateway.app.listen(env.TWEI_GATEWAY_PORT, env.TWEI_GATEWAY_HOST, () => {
    console.log(
      `site-gateway: http://${env.TWEI_GATEWAY_HOST}:${env.TWEI_GATEWAY_PORT}/twei for ${allowedOrigins.join(", ")}`,
    );
  });
  const stop = () =>
    server.close(() => {
      void gateway
        .close()
        .then(() => store.close())
        .then(() => process.exit(0));
    });
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
} catch (error) {
  console.error(
    `site-gateway failed: ${error instanceof GatewayConfigError || error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
}
