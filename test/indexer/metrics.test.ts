import { expect } from "chai";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "mocha";
import { ActionKind as K } from "../../src/core/kinds.js";
import { postIdFor } from "../../src/core/postId.js";
import { startHardhatNode, type HardhatNode } from "../../src/devnet/startHardhatNode.js";
import { createIndexer } from "../../src/indexer/createIndexer.js";
import { createIndexerApp } from "../../src/indexer/http/createIndexerApp.js";
import { createLogger } from "../../src/observability/logger.js";
import { action } from "../helpers/batches.js";
import { STORES } from "../helpers/postgres.js";
import { indexerTestStores } from "./helpers/indexerStores.js";
import { createChainScenario, SITE } from "./scenario.js";

/** The value of one sample of a Prometheus text exposition, e.g. `twei_indexer_reorgs_total`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

for (const kind of STORES)
  describe(`indexer metrics on ${kind}`, function () {
    let node: HardhatNode;
    const stores = indexerTestStores(kind);
    let chain: Awaited<ReturnType<typeof createChainScenario>>;

    before(async function () {
      node = await startHardhatNode();
      await stores.start();
      chain = await createChainScenario(node);
    });

    after(async function () {
      await node?.stop();
      await stores.stop();
    });

    it("serves the indexed block, the counts and the reorgs on GET /metrics", async function () {
      const post = postIdFor(SITE, "metrics");
      const author = chain.account(3);
      await chain.approve(3);
      const indexer = createIndexer({
        rpcUrl: node.url,
        deployment: chain.deployment,
        store: await (await stores.fresh("metrics")).open(),
        logger: createLogger({ name: "indexer", level: "silent" }),
      });
      const server = createIndexerApp(indexer.store, { status: indexer.status, metrics: indexer.metrics }).listen(
        0,
        "127.0.0.1",
      );
      await new Promise((resolve) => server.once("listening", resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const scrape = async () => {
        const response = await fetch(`${base}/metrics`);
        expect(response.status).to.equal(200);
        expect(response.headers.get("content-type")).to.match(/^text\/plain/);
        return response.text();
      };
      try {
        await chain.settle(
          [{ postId: post, author }],
          [action(author, K.PostPublishTribute, post), action(chain.account(4), K.ReadToEarn, post, 1_000)],
          [0],
        );
        await indexer.syncOnce();
        const head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
        expect((await fetch(`${base}/v1/posts/${post}/report`)).status).to.equal(200);
        expect((await fetch(`${base}/v1/posts/not-a-number/report`)).status).to.equal(400);
        let text = await scrape();
        expect(sample(text, "twei_indexer_indexed_block")).to.equal(Number(head));
        expect(sample(text, "twei_indexer_chain_head_block")).to.equal(Number(head));
        expect(sample(text, "twei_indexer_lag_blocks")).to.equal(0);
        expect(sample(text, "twei_indexer_batches_total")).to.equal(1);
        expect(sample(text, "twei_indexer_actions_total")).to.equal(2);
        // At least the rule set and the batch (its BatchSettled, the mint and the shortfall).
        expect(sample(text, "twei_indexer_logs_total")).to.be.greaterThan(1);
        expect(sample(text, "twei_indexer_reorgs_total")).to.equal(0);
        expect(sample(text, 'twei_indexer_sync_duration_seconds_count{outcome="ok"}')).to.equal(1);
        expect(
          sample(text, 'twei_indexer_http_requests_total{route="/v1/posts/:postId/report",status="200"}'),
        ).to.equal(1);
        expect(
          sample(text, 'twei_indexer_http_requests_total{route="/v1/posts/:postId/report",status="400"}'),
        ).to.equal(1);
        expect(sample(text, 'twei_indexer_report_build_duration_seconds_count{report="post"}')).to.equal(1);

        // A reorg: the indexed tip is replaced by two other blocks with another batch.
        const snapshot = await chain.publicClient.request({ method: "evm_snapshot" } as never);
        await chain.settle([], [action(author, K.LikesOwn, post)]);
        await indexer.syncOnce();
        const replaced = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
        await chain.publicClient.request({ method: "evm_revert", params: [snapshot] } as never);
        chain.settled.splice(-1);
        await chain.publicClient.request({ method: "hardhat_mine", params: ["0x3"] } as never);
        await indexer.syncOnce();
        text = await scrape();
        expect(sample(text, "twei_indexer_reorgs_total")).to.equal(1);
        expect(sample(text, "twei_indexer_last_reorg_depth_blocks")).to.equal(Number(replaced - head));
        expect(sample(text, "twei_indexer_indexed_block")).to.equal(
          Number(await chain.publicClient.getBlockNumber({ cacheTime: 0 })),
        );
        // The replaced batch was counted once indexed; the rollback does not uncount it.
        expect(sample(text, "twei_indexer_batches_total")).to.equal(2);
        expect(sample(text, 'twei_indexer_sync_duration_seconds_count{outcome="ok"}')).to.equal(3);
      } finally {
        server.close();
        await indexer.close();
      }
    });
  });
