import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "mocha";
import { ActionKind as K } from "../../src/core/kinds.js";
import { postIdFor } from "../../src/core/postId.js";
import { startHardhatNode, type HardhatNode } from "../../src/devnet/startHardhatNode.js";
import { createIndexer, type IndexerEvent } from "../../src/indexer/createIndexer.js";
import { buildPostReport } from "../../src/indexer/reports/buildPostReport.js";
import { canonicalReportJson } from "../../src/indexer/reports/canonicalReport.js";
import { createLogger } from "../../src/observability/logger.js";
import { action } from "../helpers/batches.js";
import { STORES } from "../helpers/postgres.js";
import { indexerTestStores } from "./helpers/indexerStores.js";
import { createChainScenario, expectedLines, SITE } from "./scenario.js";

const MAX_LOG_RANGE = 4n;

/**
 * A real HTTP proxy in front of the node that fails every third request (alternately a 503
 * and a dropped connection) and refuses eth_getLogs over more than MAX_LOG_RANGE blocks, as
 * hosted RPCs do.
 */
async function startFlakyProxy(target: string) {
  let requests = 0;
  const failures = { unavailable: 0, dropped: 0, rangeRefused: 0 };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const call = JSON.parse(body) as { id: number; method: string; params: { fromBlock: string; toBlock: string }[] };
    requests++;
    if (requests % 3 === 0) {
      if (requests % 2 === 0) {
        failures.unavailable++;
        res.writeHead(503).end("busy");
      } else {
        failures.dropped++;
        req.socket.destroy();
      }
      return;
    }
    const filter = call.params[0];
    if (call.method === "eth_getLogs" && filter && BigInt(filter.toBlock) - BigInt(filter.fromBlock) >= MAX_LOG_RANGE) {
      failures.rangeRefused++;
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          jsonrpc: "2.0",
          id: call.id,
          error: { code: -32005, message: `query exceeds max block range ${MAX_LOG_RANGE}` },
        }),
      );
      return;
    }
    const upstream = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body });
    res.writeHead(upstream.status, { "content-type": "application/json" }).end(await upstream.text());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    failures,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

for (const kind of STORES)
  describe(`indexer on ${kind} over an unreliable RPC`, function () {
    let node: HardhatNode;
    const stores = indexerTestStores(kind);
    let proxy: Awaited<ReturnType<typeof startFlakyProxy>>;

    before(async function () {
      node = await startHardhatNode();
      await stores.start();
      proxy = await startFlakyProxy(node.url);
    });

    after(async function () {
      await proxy?.close();
      await node?.stop();
      await stores.stop();
    });

    it("retries, splits refused block ranges and ends with the same reports as over a reliable RPC", async function () {
      const chain = await createChainScenario(node);
      const post = postIdFor(SITE, "flaky");
      const [author, reader, liker] = [3, 4, 6].map(chain.account) as [`0x${string}`, `0x${string}`, `0x${string}`];
      await chain.approve(3);
      await chain.settle([{ postId: post, author }], [action(author, K.PostPublishTribute, post)], [0]);
      for (let i = 0; i < 6; i++)
        await chain.settle([], [action(reader, K.ReadToEarn, post, 1_000 + i), action(liker, K.LikesOwn, post, i + 1)]);

      const events: IndexerEvent[] = [];
      const flaky = createIndexer({
        rpcUrl: proxy.url,
        deployment: chain.deployment,
        store: await (await stores.fresh("flaky")).open(),
        retry: { baseDelayMs: 5, maxDelayMs: 20, retries: 10 },
        // The retries are the point here; keep their warnings out of the test output.
        logger: createLogger({ name: "indexer", level: "silent" }),
        onEvent: (event) => events.push(event),
      });
      const reliable = createIndexer({
        rpcUrl: node.url,
        deployment: chain.deployment,
        store: await (await stores.fresh("reliable")).open(),
      });
      try {
        const reached = await flaky.syncOnce();
        await reliable.syncOnce();
        expect(reached?.number).to.equal(await chain.publicClient.getBlockNumber());
        expect(proxy.failures.unavailable + proxy.failures.dropped).to.be.greaterThan(3);
        expect(proxy.failures.rangeRefused).to.be.greaterThan(0);
        expect(events.some((e) => e.type === "range-resized")).to.equal(true);
        // Once the limit is known, the ranges stay within it instead of growing into it again.
        const refusedBefore = proxy.failures.rangeRefused;
        for (let i = 0; i < 6; i++) await chain.settle([], [action(liker, K.LikesOwn, post)]);
        await chain.publicClient.request({ method: "hardhat_mine", params: ["0x10"] } as never);
        await flaky.syncOnce();
        await reliable.syncOnce();
        expect(proxy.failures.rangeRefused).to.equal(refusedBefore);
        for (const account of [undefined, author, reader, liker]) {
          const got = await buildPostReport(flaky.store, { postId: post, account });
          const want = await buildPostReport(reliable.store, { postId: post, account });
          expect(canonicalReportJson(got)).to.equal(canonicalReportJson(want));
          expect(got.lines.map((l) => l.amount)).to.deep.equal(
            expectedLines(chain.settled, post, account).map((l) => l.paid),
          );
        }
        expect((await flaky.store.stats()).actions).to.equal(chain.settled.length);
      } finally {
        await flaky.close();
        await reliable.close();
      }
    });
  });
