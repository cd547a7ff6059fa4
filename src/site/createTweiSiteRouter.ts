import express, { type Router } from "express";
import type { Hex } from "viem";
import { z } from "zod";
import { HttpProblem, notFound, parseInput, problemHandler } from "../http/problem.js";
import { releaseHeldComments } from "./moderation/releaseHeldComments.js";
import { demoWalletRoutes } from "./routes/demoWallet.js";
import { moderationRoutes } from "./routes/moderation.js";
import { permitRoutes } from "./routes/permit.js";
import { personhoodRoutes } from "./routes/personhood.js";
import { postActionRoutes } from "./routes/postActions.js";
import { postStateRoutes } from "./routes/postState.js";
import { readingRoutes } from "./routes/reading.js";
import { signInRoutes } from "./routes/signIn.js";
import type { SiteConfig } from "./siteConfig.js";
import { createSiteContext, type SiteContext } from "./siteContext.js";
import { startReadSweep } from "./sweepIdleReads.js";

export interface TweiSiteRouterOptions {
  /** The widget's bundle (src/site/widgetBundle.ts `buildWidget()`), served at `/twei-widget.js`. */
  readonly widget: string;
  /**
   * Receives the errors the problem middleware answers 500 (bugs, dependency failures: never a
   * client's mistake, which is a 4xx); `console.error` by default.
   */
  readonly onUnexpected?: (error: unknown) => void;
  /**
   * Runs before the API's routes (the gateway's CORS), so even a preflight or a 404 carries
   * its headers.
   */
  readonly before?: readonly express.RequestHandler[];
}

export interface TweiSiteRouter {
  /** Mount it at `/twei`: it serves `/twei-widget.js` and the widget's API under `/api`. */
  readonly router: Router;
  readonly ctx: SiteContext;
  /** Stops its timers and closes the store if it opened it (not one passed in `config.store`). */
  close(): Promise<void>;
}

/**
 * The Twei site kit for any Node site: an Express router serving the widget's bundle and its
 * API, with its state (sessions, SIWE nonces, reading meters, sent events, comments) in the
 * store (`config.store`, e.g. PostgreSQL from `openSiteStore({ databaseUrl })`, or SQLite at
 * `config.databasePath`), so it survives restarts and several site processes share it. Every
 * error under it is problem+json (src/http/problem.ts).
 *
 * @example
 * const twei = createTweiSiteRouter({ ...config, store: await openSiteStore({ databaseUrl: process.env.DATABASE_URL }) }, { widget: await buildWidget() })
 * app.use("/twei", twei.router)
 */
export function createTweiSiteRouter(config: SiteConfig, options: TweiSiteRouterOptions): TweiSiteRouter {
  const ctx = createSiteContext(config);
  const router = express.Router();
  for (const handler of options.before ?? []) router.use(handler);
  router.get("/twei-widget.js", (_req, res) => {
    res.type("text/javascript").setHeader("Cache-Control", "no-cache").send(options.widget);
  });
  const api = express.Router();
  api.use(express.json({ limit: "16kb", type: ["application/json", "text/plain"] }));
  api.get("/config", (_req, res) => {
    res.json({
      siteId: config.siteId,
      chainId: config.chainId,
      token: config.token,
      ledger: config.ledger,
      heartbeatMs: ctx.heartbeatMs,
      // The demo wallet's accounts (a local development chain only), or null.
      demoWallet: config.demoWallet
        ? config.demoWallet.map((a) => ({ address: a.account.address, name: a.name }))
        : null,
    });
  });
  api.get("/tx/:hash", async (req, res) => {
    const hash = parseInput(z.string().regex(/^0x[0-9a-fA-F]{64}$/), req.params.hash, "path") as Hex;
    const receipt = await config.publicClient.getTransactionReceipt({ hash }).catch(() => null);
    if (!receipt) throw new HttpProblem(404, "transaction_not_found", "No such transaction on the chain");
    res.json({
      hash,
      status: receipt.status,
      blockNumber: receipt.blockNumber.toString(),
      blockHash: receipt.blockHash,
      to: receipt.to,
      gasUsed: receipt.gasUsed.toString(),
      logs: receipt.logs.length,
    });
  });
  signInRoutes(api, ctx);
  postStateRoutes(api, ctx);
  readingRoutes(api, ctx);
  postActionRoutes(api, ctx);
  permitRoutes(api, ctx);
  moderationRoutes(api, ctx);
  personhoodRoutes(api, ctx);
  if (config.demoWallet) demoWalletRoutes(api, ctx);
  api.use(notFound);
  router.use("/api", api);
  router.use(
    "/api",
    problemHandler({ onUnexpected: options.onUnexpected ?? ((error) => console.error(`site: ${String(error)}`)) }),
  );

  // Held comments go out when their moderation window passes (any process may send: the store's claim decides).
  const windowMs = config.moderation?.windowMs ?? 0;
  let releasing = Promise.resolve();
  const release =
    windowMs > 0
      ? setInterval(
          () => {
            releasing = releasing
              .then(() =>
                releaseHeldComments({ store: ctx.store, twei: config.twei, articles: config.articles, windowMs }),
              )
              .then(
                () => undefined,
                (error: unknown) => (options.onUnexpected ?? console.error)(error),
              );
          },
          Math.min(10_000, Math.max(100, windowMs / 4)),
        )
      : undefined;
  release?.unref();
  // Reads of readers who did not come back go out after `partialAfterMs` (the store's claim decides who sends).
  const stopSweep = startReadSweep(ctx, options.onUnexpected ?? ((error) => console.error(`site: ${String(error)}`)));

  return {
    router,
    ctx,
    async close() {
      if (release) clearInterval(release);
      await releasing;
      await stopSweep();
      await ctx.close();
    },
  };
}
