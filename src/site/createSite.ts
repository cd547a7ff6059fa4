import express from "express";
import { createServer } from "node:http";
import { notFound, problemHandler } from "../http/problem.js";
import { createTweiSiteRouter } from "./createTweiSiteRouter.js";
import { articlePage, indexPage } from "./pages.js";
import type { SiteConfig } from "./siteConfig.js";
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
 * The demo news site: its pages, and the Twei site kit mounted at `/twei` (the widget's bundle
 * and API, createTweiSiteRouter). It holds the site's signer key and relayer API key (in
 * `config.twei`, on the server) and sends every event through the SDK for a signed-in address
 * only. Every error is answered by the shared problem+json middleware (src/http/problem.ts),
 * like the relayer's and the indexer's. `close()` closes the kit's store.
 */
export function createSiteApp(config: SiteConfig, widget: string, options: CreateSiteAppOptions = {}) {
  const kit = createTweiSiteRouter(config, {
    widget,
    ...(options.onUnexpected ? { onUnexpected: options.onUnexpected } : {}),
  });
  const { ctx } = kit;
  const app = express();
  app.disable("x-powered-by");
  // The per-IP limits count req.ip: behind a reverse proxy, the proxy must be trusted (siteConfig.ts).
  if (config.trustProxy !== undefined) app.set("trust proxy", config.trustProxy);
  app.get("/", (_req, res) => {
    res.type("html").send(indexPage(config.siteName, config.articles, (a) => ctx.nameOf(a.author)));
  });
  app.get("/articles/:slug", (req, res) => {
    const article = ctx.article(req.params.slug);
    const others = config.articles.filter((a) => a !== article);
    res.type("html").send(articlePage(config.siteName, article, ctx.nameOf(article.author), others));
  });
  app.use("/twei", kit.router);
  app.use(notFound);
  app.use(
    problemHandler({ onUnexpected: options.onUnexpected ?? ((error) => console.error(`site: ${String(error)}`)) }),
  );
  return Object.assign(app, { close: () => kit.close() });
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
  let app: ReturnType<typeof createSiteApp>;
  try {
    app = createSiteApp({ ...config, origin: config.origin ?? url }, widget);
    server.on("request", app);
  } catch (error) {
    server.close();
    throw error;
  }
  return {
    url,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await app.close();
    },
  };
}
