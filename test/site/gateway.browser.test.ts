import { expect } from "chai";
import express from "express";
import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import type { Page } from "playwright-core";
import { playDemoScenario } from "../../scripts/demo/playDemoScenario.js";
import { addressOf, ARTICLE, COMMENTS, REACTIONS } from "../../scripts/demo/scenario.js";
import { SITE_ARTICLES } from "../../scripts/demo/siteArticles.js";
import { FRESH_READERS } from "../../scripts/demo/startDemoSite.js";
import { startDemoStack, type DemoStack } from "../../scripts/demo/startDemoStack.js";
import { ActionKind } from "../../src/core/kinds.js";
import { DEFAULT_RULE_AMOUNTS } from "../../src/core/ruleSet.js";
import { launchChromium } from "../../src/devnet/launchChromium.js";
import { freePort, hardhatAccount } from "../../src/devnet/startHardhatNode.js";
import { DEFAULT_POLICY } from "../../src/rules/policy.js";
import { createGatewayApp, type Gateway } from "../../src/site/gateway/createGatewayApp.js";
import type { SiteConfig } from "../../src/site/siteConfig.js";
import { wordCount } from "../../src/site/siteContext.js";
import { buildWidget } from "../../src/site/widgetBundle.js";

const POSTS_KEY = "the-site's-posts-key";
const reader = hardhatAccount(FRESH_READERS[0].index).address;

/** Listens on `host:port`; resolves to a stop function. */
async function serve(app: express.Express, host: string, port: number) {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

/**
 * A site that is not Node: its article pages are static HTML on another origin (127.0.0.2) and
 * embed the widget with two lines pointing at the gateway (127.0.0.1). The widget works across
 * origins: sign in, allowance, read and earn, like, comment, buy; the session survives a restart
 * of the gateway.
 */
describe("the site gateway: the widget on another origin's page, in headless Chromium", function () {
  this.timeout(900_000);
  let dataDir: string;
  let stack: DemoStack;
  let gateway: Gateway;
  let stopGateway: () => Promise<void>;
  let stopPages: () => Promise<void>;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  let config: SiteConfig;
  let widget: string;
  let gatewayPort: number;
  let pagesUrl: string;
  const consoleErrors: string[] = [];
  const text = (testId: string) => page.locator(`[data-testid=${testId}]`).first();

  async function startGateway() {
    gateway = createGatewayApp(config, {
      widget,
      allowedOrigins: [config.origin],
      postsKey: POSTS_KEY,
      onUnexpected: (e) => console.error(e),
    });
    stopGateway = await serve(gateway.app, "127.0.0.1", gatewayPort);
  }

  before(async function () {
    dataDir = await mkdtemp(join(tmpdir(), "twei-gateway-"));
    stack = await startDemoStack({ dataDir, deploymentsRoot: dataDir });
    await playDemoScenario(stack);
    widget = await buildWidget();
    gatewayPort = await freePort();
    const pagesPort = await freePort();
    pagesUrl = `http://127.0.0.2:${pagesPort}`;
    const api = `http://127.0.0.1:${gatewayPort}/twei`;
    const count = (commentId: string, reaction: "like" | "dislike") =>
      REACTIONS.filter((r) => r.commentId === commentId && r.reaction === reaction).length;
    const author = addressOf("author");
    config = {
      siteName: "A PHP news site",
      // The site's own origin: SIWE messages name it, as the reader's wallet sees it.
      origin: pagesUrl,
      articles: [
        {
          slug: ARTICLE.sitePostId,
          sitePostId: ARTICLE.sitePostId,
          title: ARTICLE.title,
          author,
          date: "2026-12-07",
          text: "",
          wordCount: wordCount({ text: ARTICLE.text } as never),
        },
      ],
      comments: COMMENTS.map((c) => ({
        commentId: c.commentId,
        slug: ARTICLE.sitePostId,
        author: addressOf(c.person),
        text: c.text,
        likes: count(c.commentId, "like"),
        dislikes: count(c.commentId, "dislike"),
      })),
      twei: stack.client,
      siteId: 1,
      chainId: stack.deployment.chainId,
      token: stack.deployment.token,
      ledger: stack.deployment.ledger,
      publicClient: stack.publicClient,
      relayerUrl: stack.relayerUrl,
      indexerUrl: stack.indexerUrl,
      policy: DEFAULT_POLICY,
      reportPriceWei: DEFAULT_RULE_AMOUNTS[ActionKind.PnLReports] ?? 0n,
      newcomerHold: false,
      reading: { heartbeatMs: 250, clockRate: 20 },
      demoWallet: FRESH_READERS.map((r) => ({ name: r.name, account: hardhatAccount(r.index) })),
      names: new Map(FRESH_READERS.map((r) => [hardhatAccount(r.index).address.toLowerCase(), r.name])),
      databasePath: join(dataDir, "gateway.sqlite"),
    };
    await startGateway();

    // The non-Node site: static pages with the two lines.
    const pages = express();
    pages.get("/favicon.ico", (_req, res) => {
      res.status(204).end();
    });
    pages.get("/articles/:slug", (req, res) => {
      res.type("html")
        .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${req.params.slug}</title></head>
<body><main><h1>${req.params.slug}</h1><p>The article's text, served by PHP.</p>
<twei-widget post="${req.params.slug}" api="${api}/api"></twei-widget>
<script type="module" src="${api}/twei-widget.js"></script></main></body></html>`);
    });
    stopPages = await serve(pages, "127.0.0.2", pagesPort);

    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("pageerror", (error) => consoleErrors.push(error.message));
  });

  after(async function () {
    await browser?.close();
    await stopPages?.();
    await stopGateway?.();
    await gateway?.close();
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("learns a post from the site's posts API (its key only)", async function () {
    const [, second] = SITE_ARTICLES;
    const put = (key?: string) =>
      fetch(`http://127.0.0.1:${gatewayPort}/twei/site/posts/${second!.slug}`, {
        method: "PUT",
        headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({
          title: second!.title,
          wordCount: wordCount(second as never),
          author: addressOf("author"),
        }),
      });
    expect((await put()).status).to.equal(401);
    expect((await put("wrong")).status).to.equal(403);
    const learned = await put(POSTS_KEY);
    expect(learned.status).to.equal(200);
    expect(((await learned.json()) as { wordCount: number }).wordCount).to.equal(wordCount(second as never));
  });

  it("plays a reader's visit across origins: sign in, allowance, read and earn, like, comment, buy", async function () {
    await page.goto(`${pagesUrl}/articles/${ARTICLE.sitePostId}`);
    await page.getByText("Not signed in.").waitFor();
    await page.locator("[data-testid=demo-account]").selectOption(reader);
    await page.locator("[data-testid=demo-sign-in]").click();
    await text("signed-in").filter({ hasText: FRESH_READERS[0].name }).waitFor();

    await page.locator("[data-testid=grant]").click();
    await text("allowance").filter({ hasText: /^10$/ }).waitFor();
    await text("earned").filter({ hasText: "Twei" }).waitFor({ timeout: 150_000 });

    await page.locator("[data-comment=c-africa] [data-testid=like]").click();
    await page.getByText("Your like: settled").waitFor({ timeout: 150_000 });

    await page.locator("[data-testid=comment-text]").fill("A comment written on a PHP site, through the gateway.");
    await page.locator("[data-testid=comment-submit]").click();
    await page.getByText("Your comment: settled").waitFor({ timeout: 150_000 });

    // A second post (the one the posts API taught the gateway) read to the end: the report's price.
    await page.goto(`${pagesUrl}/articles/${SITE_ARTICLES[1]!.slug}`);
    await text("earned").filter({ hasText: "Twei" }).waitFor({ timeout: 150_000 });
    await page.goto(`${pagesUrl}/articles/${ARTICLE.sitePostId}`);
    await page.locator("[data-testid=buy]").click();
    await page.locator("[data-testid=buy-yes]").click();
    await text("instance-id").waitFor({ timeout: 150_000 });
    expect(consoleErrors, consoleErrors.join("\n")).to.deep.equal([]);
  });

  it("keeps the reader signed in, and the comment, across a restart of the gateway", async function () {
    await stopGateway();
    await gateway.close();
    await startGateway();
    await page.goto(`${pagesUrl}/articles/${ARTICLE.sitePostId}`);
    await text("signed-in").filter({ hasText: FRESH_READERS[0].name }).waitFor();
    await page.getByText("A comment written on a PHP site, through the gateway.").waitFor();
    expect(consoleErrors, consoleErrors.join("\n")).to.deep.equal([]);
  });
});
