import { expect } from "chai";
import express from "express";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import { deployEas } from "../../src/chain/deployEas.js";
import type { DeployerClient } from "../../src/chain/deployTwei.js";
import { attestPersonhood } from "../../src/chain/personhoodAttestation.js";
import { ActionKind } from "../../src/core/kinds.js";
import { hardhatAccount } from "../../src/devnet/startHardhatNode.js";
import { DEFAULT_POLICY, type RulePolicy } from "../../src/rules/policy.js";
import { createTweiSiteRouter, type TweiSiteRouter } from "../../src/site/createTweiSiteRouter.js";
import { eventIds } from "../../src/site/eventIds.js";
import { listen } from "../http/helpers/hostileStack.js";
import { startTcpProxy } from "../relayer/helpers/tcpProxy.js";
import { startTestChain, type TestChain } from "../relayer/helpers/testChain.js";
import { addSite, clientFor, startTestRelayer, tempDirs } from "../relayer/helpers/testRelayer.js";

/** A JSON answer, read loosely (the test checks fields it names). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Answer = Record<string, any>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const SITE_ID = 12;
const SLUG = "unknown-post";
const BEAT = { visible: true, focused: true, active: true };

// The site's side of `personhood_unknown`: the relayer's chain is cut (a TCP proxy) while an
// attested reader finishes a read, so the relayer cannot read their attestations and refuses the
// read as retryable. The site keeps the meter open and says the read is not sent; once the
// relayer's chain is back, the next heartbeat sends it again and it is paid in full.
describe("the site kit when the relayer cannot read a reader's attestations: the read is kept and sent again", function () {
  this.timeout(300_000);
  const dirs = tempDirs();
  let chain: TestChain;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let relayer: Awaited<ReturnType<typeof startTestRelayer>>;
  let kit: TweiSiteRouter;
  let http: Awaited<ReturnType<typeof listen>>;
  const reader = hardhatAccount(12);

  const call = async (path: string, options: { body?: unknown; cookie?: string } = {}) => {
    const response = await fetch(`${http.url}/twei/api${path}`, {
      method: options.body === undefined ? "GET" : "POST",
      headers: { "content-type": "application/json", ...(options.cookie ? { cookie: options.cookie } : {}) },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    return { status: response.status, body: (await response.json()) as Answer };
  };

  before(async function () {
    chain = await startTestChain();
    const dir = await dirs.make("personhood-unknown");
    const admin = chain.admin as unknown as DeployerClient;
    const { eas, personhoodSchema } = await deployEas({ publicClient: chain.publicClient, walletClient: admin });
    const attester = chain.walletOf(chain.user(9)) as unknown as DeployerClient;
    const policy: RulePolicy = {
      ...DEFAULT_POLICY,
      personhood: { eas, schema: personhoodSchema, attesters: [attester.account.address] },
    };
    const site = await addSite(chain, dir, SITE_ID, { policy });
    proxy = await startTcpProxy(chain.node.port);
    relayer = await startTestRelayer(chain, dir, { policy, rpcUrl: proxy.url, chainTimeoutMs: 1_000 });
    const twei = clientFor(chain, relayer.url, site);
    const author = chain.user(0).address;
    await chain.seed(SITE_ID, [{ account: author, kind: ActionKind.CommentRewards, units: 10 }]);
    await chain.approveLedger(chain.user(0));
    await twei.sendEvents([
      {
        eventId: "publish",
        type: "post_published",
        occurredAt: Math.floor(Date.now() / 1000),
        user: author,
        postId: SLUG,
        wordCount: 300,
      },
    ]);
    await attestPersonhood({
      publicClient: chain.publicClient,
      walletClient: attester,
      policy: policy.personhood!,
      recipient: reader.address,
    });
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    kit = createTweiSiteRouter(
      {
        siteName: "Unknown Desk",
        origin: `http://127.0.0.1:${port}`,
        articles: [
          { slug: SLUG, sitePostId: SLUG, title: "A post", author, date: "2026-12-07", text: "words ".repeat(300) },
        ],
        twei,
        siteId: SITE_ID,
        chainId: 31337,
        token: chain.deployed.token,
        ledger: chain.deployed.ledger,
        // The site reads the chain directly (it sees the attestation); only the relayer's chain is cut.
        publicClient: chain.publicClient,
        relayerUrl: relayer.url,
        indexerUrl: "http://127.0.0.1:9",
        policy,
        reportPriceWei: 0n,
        newcomerHold: false,
        reading: { heartbeatMs: 100, clockRate: 20, sweepEveryMs: 3_600_000 },
        databasePath: join(dir, "site.sqlite"),
        limits: { perIpPerSecond: 1_000, perUserPerSecond: 1_000 },
      },
      { widget: "/* widget */", onUnexpected: (e) => console.error(e) },
    );
    const app = express();
    app.use("/twei", kit.router);
    http = await listen(app, port);
  });

  after(async function () {
    await http?.stop();
    await kit?.close();
    await relayer?.stop();
    await proxy?.down();
    await chain?.stop();
    await dirs.removeAll();
  });

  it("keeps the meter open and answers not sent while the relayer says personhood_unknown, then sends the whole read", async function () {
    const { body } = await call("/siwe/message", { body: { address: reader.address } });
    const verified = await fetch(`${http.url}/twei/api/siwe/verify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: body.message, signature: await reader.signMessage({ message: body.message }) }),
    });
    expect(verified.status).to.equal(200);
    const cookie = verified.headers.get("set-cookie")!.split(";")[0]!;

    await proxy.down();
    let last: Answer = {};
    for (let i = 0; i < 400 && !last.complete; i++) {
      last = (await call(`/posts/${SLUG}/heartbeat`, { body: BEAT, cookie })).body;
      await sleep(100);
    }
    expect(last).to.deep.include({ complete: true, sent: false });
    const refused = await kit.ctx.store.sentEvent(eventIds.read(SLUG, reader.address));
    expect(refused).to.deep.include({ answer: "rejected", code: "personhood_unknown" });
    // The meter is still open: nothing was closed on a refusal a retry can undo.
    expect(await kit.ctx.store.idleMeters(Date.now() + 1, 0, 10, Date.now() + 1)).to.have.length(1);

    await proxy.up();
    let again: Answer = {};
    for (let i = 0; i < 100 && !again.sent; i++) {
      again = (await call(`/posts/${SLUG}/heartbeat`, { body: BEAT, cookie })).body;
      await sleep(200);
    }
    expect(again).to.deep.include({ complete: true, sent: true });
    expect(await kit.ctx.store.sentEvent(eventIds.read(SLUG, reader.address))).to.deep.include({ answer: "accepted" });
  });
});
