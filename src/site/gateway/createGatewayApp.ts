import express from "express";
import { getAddress, type Address } from "viem";
import { z } from "zod";
import { HttpProblem, notFound, parseInput, problemHandler } from "../../http/problem.js";
import { createTweiSiteRouter, type TweiSiteRouter } from "../createTweiSiteRouter.js";
import type { Article, SiteConfig } from "../siteConfig.js";
import { corsFor } from "./corsFor.js";
import { requireBearer } from "./requireBearer.js";

/** One post as the site reports it (the posts API's body, or one item of the JSON feed). */
export const gatewayPost = z.strictObject({
  slug: z.string().regex(/^[A-Za-z0-9._~-]{1,128}$/, "a URL-safe slug"),
  title: z.string().trim().min(1).max(300),
  wordCount: z.number().int().min(1).max(1_000_000),
  author: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "the author's 20-byte hex address"),
  /** The post id reported to the relayer (the slug by default). */
  sitePostId: z
    .string()
    .regex(/^[A-Za-z0-9._~:-]{1,128}$/)
    .optional(),
  date: z.iso.date().optional(),
});
export type GatewayPost = z.output<typeof gatewayPost>;
export const gatewayFeed = z.array(gatewayPost).max(10_000);

export interface GatewayOptions {
  readonly widget: string;
  /** The origins whose pages embed the widget (CORS); the site's canonical origin among them. */
  readonly allowedOrigins: readonly string[];
  /** The site's key for `PUT /twei/site/posts/:slug` (unset: the posts API is off). */
  readonly postsKey?: string;
  readonly onUnexpected?: (error: unknown) => void;
}

export interface Gateway {
  readonly app: express.Express;
  readonly kit: TweiSiteRouter;
  /** Adds or updates a post, and publishes it to the relayer once (post_published). */
  learn(post: GatewayPost): Promise<Article>;
  close(): Promise<void>;
}

/**
 * The site kit as a standalone service for sites that are not Node (`npm run site-gateway`): the
 * widget's bundle and API under `/twei` with CORS for the configured origins and a cross-origin
 * session (a `SameSite=None; Secure` cookie, or the bearer token the widget keeps), and the
 * site's posts learned from `PUT /twei/site/posts/:slug` (the site's key) or a JSON feed
 * (`learn`). Its canonical origin (SIWE's domain) is the site's, where readers are.
 *
 * @example
 * const gateway = createGatewayApp(config, { widget, allowedOrigins: [config.origin], postsKey })
 */
export function createGatewayApp(config: SiteConfig, options: GatewayOptions): Gateway {
  // The kit looks posts up in this array: the gateway adds to it as it learns them.
  const articles: Article[] = [...config.articles];
  const kit = createTweiSiteRouter(
    { ...config, articles, crossOrigin: true },
    {
      widget: options.widget,
      before: [corsFor(options.allowedOrigins)],
      ...(options.onUnexpected ? { onUnexpected: options.onUnexpected } : {}),
    },
  );
  const published = new Set<string>();

  async function learn(post: GatewayPost): Promise<Article> {
    const article: Article = {
      slug: post.slug,
      sitePostId: post.sitePostId ?? post.slug,
      title: post.title,
      author: getAddress(post.author) as Address,
      date: post.date ?? new Date().toISOString().slice(0, 10),
      text: "",
      wordCount: post.wordCount,
    };
    const at = articles.findIndex((a) => a.slug === post.slug);
    if (at >= 0) articles[at] = article;
    else articles.push(article);
    if (!published.has(article.sitePostId)) {
      // One event id per post: a restart or a second gateway publishing it again is a duplicate.
      await config.twei.sendEvents([
        {
          eventId: `site-publish-${article.sitePostId}`,
          type: "post_published",
          occurredAt: Math.floor(Date.now() / 1000),
          user: article.author,
          postId: article.sitePostId,
          wordCount: post.wordCount,
        },
      ]);
      published.add(article.sitePostId);
    }
    return article;
  }

  const app = express();
  app.disable("x-powered-by");
  // The per-IP limits count req.ip: behind a reverse proxy, the proxy must be trusted (siteConfig.ts).
  if (config.trustProxy !== undefined) app.set("trust proxy", config.trustProxy);
  app.get("/healthz", (_req, res) => {
    res.json({ ok: true });
  });
  app.use("/twei", kit.router);
  const site = express.Router();
  site.use(express.json({ limit: "16kb" }));
  site.put("/posts/:slug", async (req, res) => {
    if (!options.postsKey) throw new HttpProblem(404, "not_found", "The posts API is off");
    requireBearer(req, [options.postsKey], "site_key");
    const post = parseInput(gatewayPost, { ...req.body, slug: req.params.slug }, "body");
    const article = await learn(post).catch((error: unknown) => {
      if (error instanceof HttpProblem) throw error;
      throw new HttpProblem(503, "relayer_unreachable", "The relayer did not take the post; try again shortly", {
        retryAfter: 2,
      });
    });
    res.json({ slug: article.slug, sitePostId: article.sitePostId, wordCount: article.wordCount });
  });
  app.use("/twei/site", site);
  app.use(notFound);
  app.use(
    problemHandler({ onUnexpected: options.onUnexpected ?? ((error) => console.error(`gateway: ${String(error)}`)) }),
  );
  return { app, kit, learn, close: () => kit.close() };
}
