import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import type { LocalAccount } from "viem";
import { ActionKind } from "../../src/core/kinds.js";
import { DEFAULT_RULE_AMOUNTS } from "../../src/core/ruleSet.js";
import { freePort, hardhatAccount } from "../../src/devnet/startHardhatNode.js";
import { DEFAULT_POLICY } from "../../src/rules/policy.js";
import express from "express";
import { join } from "node:path";
import { createTweiSiteRouter, type TweiSiteRouter } from "../../src/site/createTweiSiteRouter.js";
import { openSiteStore } from "../../src/site/store/openSiteStore.js";
import type { SiteConfig } from "../../src/site/siteConfig.js";
import { createSiteContext } from "../../src/site/siteContext.js";
import type { SiteStore } from "../../src/site/store/siteStore.js";
import { sweepIdleReads } from "../../src/site/sweepIdleReads.js";
import { listen } from "../http/helpers/hostileStack.js";
import { startTestChain, type TestChain } from "../relayer/helpers/testChain.js";
import { addSite, clientFor, startTestRelayer, tempDirs } from "../relayer/helpers/testRelayer.js";

const HEARTBEAT_MS = 200;
const present = { visible: true, focused: true, active: true };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Issue 22, part 4: the site's per-IP limits, met over real HTTP (a real relayer on a real
// Hardhat node, SIWE signatures by dev keys). Every request here comes from 127.0.0.1.
describe("the site's per-IP limits (new accounts a day, meters at once, reads an hour)", function () {
  this.timeout(180_000);
  const dirs = tempDirs();
  let chain: TestChain;
  let relayer: Awaited<ReturnType<typeof startTestRelayer>>;
  let config: SiteConfig;
  let site: { url: string; stop(): Promise<void> };
  let kit: TweiSiteRouter;
  let store: SiteStore;
  const slug = "limits";

  before(async function () {
    chain = await startTestChain();
    const dir = await dirs.make("ip-limits");
    const registered = await addSite(chain, dir, 3);
    relayer = await startTestRelayer(chain, dir);
    const port = await freePort();
    store = await openSiteStore({ path: join(dir, "site.sqlite") });
    config = {
      siteName: "Limits Desk",
      origin: `http://127.0.0.1:${port}`,
      store,
      articles: [
        {
          slug,
          sitePostId: slug,
          title: "Limits",
          author: hardhatAccount(19).address,
          date: "2026-12-07",
          text: "Words for a short read. ".repeat(10),
        },
      ],
      twei: clientFor(chain, relayer.url, registered),
      siteId: 3,
      chainId: 31337,
      token: chain.deployed.token,
      ledger: chain.deployed.ledger,
      publicClient: chain.publicClient,
      relayerUrl: relayer.url,
      indexerUrl: "http://127.0.0.1:9",
      policy: DEFAULT_POLICY,
      reportPriceWei: DEFAULT_RULE_AMOUNTS[ActionKind.PnLReports] ?? 0n,
      newcomerHold: false,
      // The kit's own sweep waits an hour: the test sweeps by hand.
      reading: { heartbeatMs: HEARTBEAT_MS, clockRate: 20, partialAfterMs: 500, sweepEveryMs: 3_600_000 },
      limits: {
        perIpPerSecond: 1_000_000,
        perUserPerSecond: 1_000_000,
        newAccountsPerIpPerDay: 3,
        metersPerIpAtOnce: 2,
        readsPerIpPerHour: 1,
      },
    };
    kit = createTweiSiteRouter(config, { widget: "/* widget */" });
    site = await listen(express().use("/twei", kit.router), port);
  });

  after(async function () {
    await site?.stop();
    await kit?.close();
    await store?.close();
    await relayer?.stop();
    await chain?.stop();
    await dirs.removeAll();
  });

  const post = async (path: string, body: unknown, cookie?: string) => {
    const response = await fetch(`${site.url}/twei/api${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      headers: response.headers,
      json: (await response.json()) as Record<string, unknown>,
    };
  };
  /** SIWE sign-in of `account` over HTTP: the session cookie, or the refusal. */
  const signIn = async (account: LocalAccount) => {
    const { json } = await post("/siwe/message", { address: account.address });
    const message = String(json.message);
    const signature = await account.signMessage({ message });
    const verified = await post("/siwe/verify", { message, signature });
    return { ...verified, cookie: String(verified.headers.get("set-cookie") ?? "").split(";")[0] ?? "" };
  };
  const beat = (cookie: string) => post(`/posts/${slug}/heartbeat`, present, cookie);
  const readers = [1, 2, 3].map((i) => hardhatAccount(30 + i));
  const cookies: string[] = [];

  it("refuses the fourth new account from one IP today (429 ip_new_account_limit); a known account signs in again", async function () {
    for (const reader of readers) {
      const signed = await signIn(reader);
      expect(signed.status).to.equal(200);
      cookies.push(signed.cookie);
    }
    const refused = await signIn(hardhatAccount(34));
    expect(refused.status).to.equal(429);
    expect(refused.json.code).to.equal("ip_new_account_limit");
    expect(Number(refused.headers.get("retry-after"))).to.be.within(1, 86_400);
    expect((await signIn(readers[0]!)).status).to.equal(200);
  });

  it("refuses a third reader's meter while two run from the IP (429 ip_meter_limit), and runs it once they stop", async function () {
    const [a, b, c] = cookies as [string, string, string];
    expect((await beat(a)).status).to.equal(200);
    expect((await beat(b)).status).to.equal(200);
    const crowded = await beat(c);
    expect(crowded.status).to.equal(429);
    expect(crowded.json.code).to.equal("ip_meter_limit");
    await sleep(3 * HEARTBEAT_MS + 100); // a and b stop beating
    expect((await beat(c)).status).to.equal(200);
  });

  it("holds the second completed read of the hour (429 ip_read_limit), keeps it, and sends it when there is room", async function () {
    const [a, b] = cookies as [string, string];
    // a finishes first: its read is sent (the relayer answers it).
    let answer = await beat(a);
    while (!answer.json.sent) {
      expect(answer.status).to.equal(200);
      await sleep(HEARTBEAT_MS);
      answer = await beat(a);
    }
    // b finishes too: the IP's one read this hour is spent.
    await sleep(3 * HEARTBEAT_MS + 100); // let the meter limit forget c
    answer = await beat(b);
    while (answer.status === 200) {
      expect(answer.json.sent).to.equal(false);
      await sleep(HEARTBEAT_MS);
      answer = await beat(b);
    }
    expect(answer.status).to.equal(429);
    expect(answer.json.code).to.equal("ip_read_limit");
    const held = await store.meter(readers[1]!.address, slug);
    expect(held!.creditedMs).to.equal(held!.toReadMs); // kept in full
    expect(await store.sentEvent(`read:${slug}:${readers[1]!.address}`)).to.equal(undefined);
    // The site raises the limit (or the hour turns): the sweep sends the kept read.
    const roomier = createSiteContext({
      ...config,
      limits: { ...config.limits, readsPerIpPerHour: 2 },
    });
    await sleep(600); // b has not come back for partialAfterMs
    expect(await sweepIdleReads(roomier, Date.now())).to.deep.equal({ sent: 1, deferred: 0 });
    expect(await store.sentEvent(`read:${slug}:${readers[1]!.address}`)).to.not.equal(undefined);
    await roomier.close();
  });
});
