import { expect } from "chai";
import type { Server } from "node:http";
import { after, before, describe, it } from "mocha";
import { createPublicClient, http, type PublicClient } from "viem";
import { parseSiweMessage } from "viem/siwe";
import { hardhatAccount, startHardhatNode, type HardhatNode } from "../../src/devnet/startHardhatNode.js";
import { DEFAULT_POLICY } from "../../src/rules/policy.js";
import { createTweiClient } from "../../src/sdk/createTweiClient.js";
import { createSiteApp } from "../../src/site/createSite.js";
import type { SiteConfig } from "../../src/site/siteConfig.js";

const reader = hardhatAccount(12);

/** Serves the site app on a free loopback port. */
async function serve(config: SiteConfig) {
  const app = createSiteApp(config, "/* widget */", { onUnexpected: () => {} });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no TCP address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** POSTs JSON with a chosen Host header (what a phishing proxy forwards). */
const post = (url: string, body: unknown, host?: string) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(host ? { host } : {}) },
    body: JSON.stringify(body),
  });

describe("Sign-In with Ethereum against the site's canonical origin (issue 24, finding 3)", function () {
  this.timeout(120_000);
  let node: HardhatNode;
  let config: SiteConfig;

  before(async function () {
    node = await startHardhatNode();
    config = {
      siteName: "Origin Desk",
      origin: "https://news.example",
      databasePath: ":memory:",
      articles: [],
      // Sign-in never reaches the relayer: a closed port stands for it.
      twei: createTweiClient({
        url: "http://127.0.0.1:9",
        apiKey: "unused",
        siteId: 1,
        signer: hardhatAccount(19),
        chainId: 31337,
        ledger: "0x0000000000000000000000000000000000000001",
      }),
      siteId: 1,
      chainId: 31337,
      token: "0x0000000000000000000000000000000000000002",
      ledger: "0x0000000000000000000000000000000000000001",
      publicClient: createPublicClient({ transport: http(node.url) }) as PublicClient,
      relayerUrl: "http://127.0.0.1:9",
      indexerUrl: "http://127.0.0.1:9",
      policy: DEFAULT_POLICY,
      reportPriceWei: 0n,
      newcomerHold: false,
    };
  });
  after(async () => node?.stop());

  it("issues the message for the configured domain whatever Host the request names, and verifies it", async function () {
    const site = await serve(config);
    try {
      const answer = await post(`${site.url}/twei/api/siwe/message`, { address: reader.address }, "phish.example");
      expect(answer.status).to.equal(200);
      const { message } = (await answer.json()) as { message: string };
      const parsed = parseSiweMessage(message);
      expect(parsed.domain).to.equal("news.example");
      expect(parsed.uri).to.equal("https://news.example");
      const signature = await reader.signMessage({ message });
      const verified = await post(`${site.url}/twei/api/siwe/verify`, { message, signature }, "phish.example");
      expect(verified.status).to.equal(200);
      // Off loopback the session cookie is Secure.
      expect(verified.headers.get("set-cookie")).to.match(/twei_session=[^;]+;.*HttpOnly.*; Secure/);
    } finally {
      await site.stop();
    }
  });

  it("keeps the cookie without Secure on a loopback origin only", async function () {
    const site = await serve({ ...config, origin: "http://127.0.0.1:8080" });
    try {
      const { message } = (await (
        await post(`${site.url}/twei/api/siwe/message`, { address: reader.address })
      ).json()) as { message: string };
      expect(parseSiweMessage(message).domain).to.equal("127.0.0.1:8080");
      const verified = await post(`${site.url}/twei/api/siwe/verify`, {
        message,
        signature: await reader.signMessage({ message }),
      });
      expect(verified.status).to.equal(200);
      expect(verified.headers.get("set-cookie")).not.to.match(/Secure/);
    } finally {
      await site.stop();
    }
  });

  it("refuses at start-up a missing origin, one with a path, and plain http off a local chain", function () {
    expect(() => createSiteApp({ ...config, origin: "" }, "")).to.throw(/canonical origin/);
    expect(() => createSiteApp({ ...config, origin: "https://news.example/blog" }, "")).to.throw(/no path/);
    expect(() => createSiteApp({ ...config, origin: "http://news.example", chainId: 1 }, "")).to.throw(
      /must be https off a local development chain/,
    );
  });
});
