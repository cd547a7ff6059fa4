import { expect } from "chai";
import express from "express";
import type { Address, LocalAccount } from "viem";
import { freePort } from "../../../src/devnet/startHardhatNode.js";
import { DEFAULT_POLICY } from "../../../src/rules/policy.js";
import type { TweiClient } from "../../../src/sdk/createTweiClient.js";
import { createTweiSiteRouter, type TweiSiteRouter } from "../../../src/site/createTweiSiteRouter.js";
import type { SiteConfig } from "../../../src/site/siteConfig.js";
import { listen } from "../../http/helpers/hostileStack.js";
import type { TestChain } from "../../relayer/helpers/testChain.js";

/** A JSON answer, read loosely (a test checks the fields it names). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KitAnswer = Record<string, any>;

/** The site kit mounted in a plain Express app, with a JSON caller and SIWE sign-in for tests. */
export interface KitSite {
  readonly url: string;
  readonly kit: TweiSiteRouter;
  /** GET (no body) or POST (a body) to the kit's API, with a session cookie if given. */
  call(path: string, options?: { body?: unknown; cookie?: string }): Promise<{ status: number; body: KitAnswer }>;
  /** Signs `account` in with SIWE: its session cookie. */
  signIn(account: LocalAccount): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts the site kit on a test chain and relayer: one article of 300 words (64 s to read), no
 * indexer, the clock sped 20×, the kit's sweep left to the test (`sweepIdleReads`), generous
 * request rates; `overrides` replace any of it (a policy, the newcomer hold, a store).
 *
 * @example
 * const site = await startKitSite({ chain, twei, relayerUrl, siteId: 11, slug: "post", author, databasePath })
 * const cookie = await site.signIn(hardhatAccount(12))
 */
export async function startKitSite(parameters: {
  readonly chain: TestChain;
  readonly twei: TweiClient;
  readonly relayerUrl: string;
  readonly siteId: number;
  readonly slug: string;
  readonly author: Address;
  readonly databasePath: string;
  readonly overrides?: Partial<SiteConfig>;
}): Promise<KitSite> {
  const { chain, slug } = parameters;
  const port = await freePort();
  const config: SiteConfig = {
    siteName: "Test Desk",
    origin: `http://127.0.0.1:${port}`,
    articles: [
      {
        slug,
        sitePostId: slug,
        title: "A post",
        author: parameters.author,
        date: "2026-12-07",
        text: "words ".repeat(300),
      },
    ],
    twei: parameters.twei,
    siteId: parameters.siteId,
    chainId: 31337,
    token: chain.deployed.token,
    ledger: chain.deployed.ledger,
    publicClient: chain.publicClient,
    relayerUrl: parameters.relayerUrl,
    indexerUrl: "http://127.0.0.1:9",
    policy: DEFAULT_POLICY,
    reportPriceWei: 0n,
    reading: { heartbeatMs: 100, clockRate: 20, sweepEveryMs: 3_600_000 },
    databasePath: parameters.databasePath,
    limits: { perIpPerSecond: 1_000, perUserPerSecond: 1_000 },
    ...parameters.overrides,
  };
  const kit = createTweiSiteRouter(config, { widget: "/* widget */", onUnexpected: (e) => console.error(e) });
  const http = await listen(express().use("/twei", kit.router), port);
  const call: KitSite["call"] = async (path, options = {}) => {
    const response = await fetch(`${http.url}/twei/api${path}`, {
      method: options.body === undefined ? "GET" : "POST",
      headers: { "content-type": "application/json", ...(options.cookie ? { cookie: options.cookie } : {}) },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    return { status: response.status, body: (await response.json()) as KitAnswer };
  };
  return {
    url: http.url,
    kit,
    call,
    async signIn(account) {
      const { body } = await call("/siwe/message", { body: { address: account.address } });
      const response = await fetch(`${http.url}/twei/api/siwe/verify`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          message: body.message,
          signature: await account.signMessage({ message: body.message }),
        }),
      });
      expect(response.status).to.equal(200);
      return response.headers.get("set-cookie")!.split(";")[0]!;
    },
    async stop() {
      await http.stop();
      await kit.close();
    },
  };
}
