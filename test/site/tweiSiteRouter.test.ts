import { expect } from "chai";
import express from "express";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import { hardhatAccount } from "../../src/devnet/startHardhatNode.js";
import { DEFAULT_POLICY } from "../../src/rules/policy.js";
import { createTweiSiteRouter, type TweiSiteRouter } from "../../src/site/createTweiSiteRouter.js";
import type { SiteConfig } from "../../src/site/siteConfig.js";
import { listen } from "../http/helpers/hostileStack.js";
import { startTestChain, type TestChain } from "../relayer/helpers/testChain.js";
import { addSite, clientFor, startTestRelayer, tempDirs } from "../relayer/helpers/testRelayer.js";

const SITE_ID = 9;
const SLUG = "kit-post";
const reader = hardhatAccount(12);
const MODERATOR_KEY = "moderator-key-of-test";
const WINDOW_MS = 400;

/** A JSON answer, read loosely (the test checks fields it names). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Answer = Record<string, any>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("createTweiSiteRouter: the site kit mounted in a plain Express site, its state in SQLite", function () {
  this.timeout(180_000);
  const dirs = tempDirs();
  let chain: TestChain;
  let relayer: Awaited<ReturnType<typeof startTestRelayer>>;
  let config: SiteConfig;
  let site: { url: string; kit: TweiSiteRouter; stop(): Promise<void> } | undefined;

  /** A Node site mounting the kit in two lines, on a fixed port (its canonical origin). */
  async function startNodeSite(port: number) {
    const kit = createTweiSiteRouter(config, { widget: "/* widget */", onUnexpected: (e) => console.error(e) });
    const app = express();
    app.use("/twei", kit.router);
    const http = await listen(app, port);
    return {
      url: http.url,
      kit,
      async stop() {
        await http.stop();
        await kit.close();
      },
    };
  }

  const call = async (path: string, options: { body?: unknown; cookie?: string; bearer?: string } = {}) => {
    const response = await fetch(`${site!.url}/twei/api${path}`, {
      method: options.body === undefined ? "GET" : "POST",
      headers: {
        "content-type": "application/json",
        ...(options.cookie ? { cookie: options.cookie } : {}),
        ...(options.bearer ? { authorization: `Bearer ${options.bearer}` } : {}),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    return { status: response.status, body: (await response.json()) as Answer, headers: response.headers };
  };

  before(async function () {
    chain = await startTestChain();
    const dir = await dirs.make("kit");
    const testSite = await addSite(chain, dir, SITE_ID);
    relayer = await startTestRelayer(chain, dir, { verifyWorkers: 0 });
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    config = {
      siteName: "Kit Desk",
      origin: `http://127.0.0.1:${port}`,
      articles: [
        {
          slug: SLUG,
          sitePostId: SLUG,
          title: "A post",
          author: hardhatAccount(19).address,
          date: "2026-12-07",
          text: "words ".repeat(300),
        },
      ],
      twei: clientFor(chain, relayer.url, testSite),
      siteId: SITE_ID,
      chainId: 31337,
      token: chain.deployed.token,
      ledger: chain.deployed.ledger,
      publicClient: chain.publicClient,
      relayerUrl: relayer.url,
      indexerUrl: "http://127.0.0.1:9",
      policy: DEFAULT_POLICY,
      reportPriceWei: 0n,
      newcomerHold: false,
      reading: { heartbeatMs: 100, clockRate: 20 },
      databasePath: join(dir, "site.sqlite"),
      moderation: { keys: [MODERATOR_KEY], windowMs: WINDOW_MS },
      limits: { perIpPerSecond: 1_000, perUserPerSecond: 1_000 },
    };
    site = await startNodeSite(port);
  });

  after(async function () {
    await site?.stop();
    await relayer?.stop();
    await chain?.stop();
    await dirs.removeAll();
  });

  async function signIn(): Promise<string> {
    const { body } = await call("/siwe/message", { body: { address: reader.address } });
    const verified = await call("/siwe/verify", {
      body: { message: body.message, signature: await reader.signMessage({ message: body.message }) },
    });
    expect(verified.status).to.equal(200);
    return verified.headers.get("set-cookie")!.split(";")[0]!;
  }

  async function restart() {
    const port = Number(new URL(site!.url).port);
    await site!.stop();
    site = await startNodeSite(port);
    // fetch's pooled connections to the old server are gone; let it notice before the next call.
    await sleep(200);
  }

  it("keeps sessions, SIWE nonces and reading meters across a restart of the site", async function () {
    const cookie = await signIn();
    // A message issued before the restart is signed after it.
    const { body } = await call("/siwe/message", { body: { address: reader.address } });
    const beat = { visible: true, focused: true, active: true };
    await call(`/posts/${SLUG}/heartbeat`, { body: beat, cookie });
    await sleep(150);
    const before = await call(`/posts/${SLUG}/heartbeat`, { body: beat, cookie });
    expect(before.body.seconds).to.be.greaterThan(0);

    await restart();

    expect((await call("/me", { cookie })).body.address).to.equal(reader.address);
    const verified = await call("/siwe/verify", {
      body: { message: body.message, signature: await reader.signMessage({ message: body.message }) },
    });
    expect(verified.status).to.equal(200);
    await sleep(150);
    const after = await call(`/posts/${SLUG}/heartbeat`, { body: beat, cookie });
    expect(after.body.seconds).to.be.greaterThan(before.body.seconds);
  });

  it("moderation: a comment hidden within the window is never sent, shows to its author only, and survives a restart", async function () {
    const cookie = await signIn();
    const text = "A comment long enough to be taken by the site, and to be moderated.";
    const held = await call(`/posts/${SLUG}/comments`, { body: { text }, cookie });
    expect(held.status).to.equal(200);
    expect(held.body.held).to.equal(true);
    const kept = await call(`/posts/${SLUG}/comments`, { body: { text: `${text} (kept)` }, cookie });

    const seen = async (who?: string) =>
      (await call(`/posts/${SLUG}`, who ? { cookie: who } : {})).body.comments as {
        commentId: string;
        moderation: string | null;
      }[];
    expect((await seen()).map((c) => c.commentId)).to.deep.equal([]);
    expect((await seen(cookie)).map((c) => [c.commentId, c.moderation])).to.deep.equal([
      [held.body.commentId, "held"],
      [kept.body.commentId, "held"],
    ]);

    // Moderators only.
    const path = `/moderation/comments/${held.body.commentId}`;
    expect((await call(path, { body: { action: "hide" } })).body.code).to.equal("moderator_key_required");
    expect((await call(path, { body: { action: "hide" }, bearer: "not-a-key" })).body.code).to.equal(
      "moderator_key_invalid",
    );
    expect((await call(path, { body: { action: "hide" }, bearer: MODERATOR_KEY })).body.status).to.equal("hidden");

    await restart();
    // The window passes: the kept comment's comment_created goes out, the hidden one's never does.
    const store = site!.kit.ctx.store;
    const deadline = Date.now() + 30_000;
    while (!(await store.sentEvent(`comment:${kept.body.commentId}`)) && Date.now() < deadline) await sleep(100);
    expect(await store.sentEvent(`comment:${kept.body.commentId}`)).to.not.equal(undefined);
    await sleep(WINDOW_MS * 2);
    expect(await store.sentEvent(`comment:${held.body.commentId}`)).to.equal(undefined);
    const relayerSaw = await config.twei
      .event(`comment:${held.body.commentId}`)
      .catch((e: { status?: number }) => e.status);
    expect(relayerSaw).to.equal(404);
    const mine = await seen(cookie);
    expect(mine.find((c) => c.commentId === held.body.commentId)?.moderation).to.equal("hidden");
    expect((await seen()).some((c) => c.commentId === held.body.commentId)).to.equal(false);
    // Nobody reacts to a hidden comment.
    const reaction = await call(`/posts/${SLUG}/comments/${held.body.commentId}/reaction`, {
      body: { reaction: "like" },
      cookie,
    });
    expect(reaction.body.code).to.equal("comment_not_found");

    // Restored, it is held again, then sent.
    expect((await call(path, { body: { action: "restore" }, bearer: MODERATOR_KEY })).body.status).to.equal("held");
    const until = Date.now() + 30_000;
    while (!(await store.sentEvent(`comment:${held.body.commentId}`)) && Date.now() < until) await sleep(100);
    expect(await store.sentEvent(`comment:${held.body.commentId}`)).to.not.equal(undefined);
  });
});
