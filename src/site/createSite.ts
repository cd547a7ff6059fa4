import express from "express";
import { createServer } from "node:http";
import type { Hex } from "viem";
import { z } from "zod";
import { HttpProblem, notFound, parseInput, problemHandler } from "../http/problem.js";
import { articlePage, indexPage } from "./pages.js";
import { demoWalletRoutes } from "./routes/demoWallet.js";
import { permitRoutes } from "./routes/permit.js";
import { postActionRoutes } from "./routes/postActions.js";
import { postStateRoutes } from "./routes/postState.js";
import { readingRoutes } from "./routes/reading.js";
import { signInRoutes } from "./routes/signIn.js";
import type { SiteConfig } from "./siteConfig.js";
import { createSiteContext } from "./siteContext.js";
import { buildWidget } from "./widgetBundle.js";

export interface Site {
  readonly url: string;
  stop(): Promise<void>;
}

export interface CreateSiteAppOptions {
  /**
   * Receives the errors the shared problem middleware answers 500 (bugs, dependency failures:
   * never a client's mistake, which is a 4xx); `console.error` by default.
   */
  readonly onUnexpected?: (error: unknown) => void;
}

/**
 * The demo news site: its pages, the widget's bundle, and the widget's API (`/twei/api/…`).
 * It holds the site's signer key and relayer API key (in `config.twei`, on the server) and
 * sends every event through the SDK for a signed-in address only. Every error is answered by
 * the shared problem+json middleware (src/http/problem.ts), like the relayer's and the indexer's.
 */
export function createSiteApp(config: SiteConfig, widget: string, options: CreateSiteAppOptions = {}) {
  const ctx = createSiteContext(config);
  const app = express();
  app.disable("x-powered-by");
  app.use(express.json({ limit: "16kb", type: ["application/json", "text/plain"] }));
  app.get("/", (_req, res) => {
    res.type("html").send(indexPage(config.siteName, config.articles, (a) => ctx.nameOf(a.author)));
  });
  app.get("/articles/:slug", (req, res) => {
    const article = ctx.article(req.params.slug);
    const others = config.articles.filter((a) => a !== article);
    res.type("html").send(articlePage(config.siteName, article, ctx.nameOf(article.author), others));
  });
  app.get("/twei/twei-widget.js", (_req, res) => {
    res.type("text/javascript").setHeader("Cache-Control", "no-cache").send(widget);
  });
  const api = express.Router();
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
  if (config.demoWallet) demoWalletRoutes(api, ctx);
  app.use("/twei/api", api);
  app.use(notFound);
  app.use(
    problemHandler({ onUnexpected: options.onUnexpected ?? ((error) => console.error(`site: ${String(error)}`)) }),
  );
  return app;
}

/**
 * Builds the widget, then serves the site on 127.0.0.1 (a free port unless `config.port`). Its
 * canonical origin is `config.origin`, or `http://127.0.0.1:<port>` once the port is known.
 */
export async function startSite(config: Omit<SiteConfig, "origin"> & { readonly origin?: string }): Promise<Site> {
  const widget = await buildWidget();
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port ?? 0, config.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the site has no TCP address");
  const url = `http://127.0.0.1:${address.port}`;
  try {
    server.on("request", createSiteApp({ ...config, origin: config.origin ?? url }, widget));
  } catch (error) {
    server.close();
    throw error;
  }
  return {
    url,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
