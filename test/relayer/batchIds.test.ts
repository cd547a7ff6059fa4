import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { ActionKind } from "../../src/core/kinds.js";
import type { SiteEventInput } from "../../src/evidence/siteEvent.js";
import { BATCH_ID_GAP } from "../../src/relayer/storage/nextBatchId.js";
import { startTestChain, type TestChain } from "./helpers/testChain.js";
import { addSite, clientFor, startTestRelayer, tempDirs, waitFor } from "./helpers/testRelayer.js";
import { testStores } from "./helpers/testStores.js";
import { STORES } from "../helpers/postgres.js";

// A stolen relayer key marks any batch id settled. Ids it could predict (the next ones after
// those seen on-chain) it could settle first, so the relayer's own batches would revert.
for (const store of STORES)
  describe(`relayer batch ids on ${store}`, function () {
    let chain: TestChain;
    const stores = testStores(store);
    const dirs = tempDirs();

    before(async function () {
      chain = await startTestChain();
      await stores.start();
    });
    after(async function () {
      await chain?.stop();
      await stores.stop();
      await dirs.removeAll();
    });

    it("grow by a random step, so the next id cannot be told from those settled", async function () {
      const { dataDir, config } = await stores.fresh("batch-ids");
      const site = await addSite(chain, dataDir, 41, config);
      const relayer = await startTestRelayer(chain, dataDir, config);
      try {
        const client = clientFor(chain, relayer.url, site);
        const author = chain.user(5);
        await chain.seed(41, [{ account: author.address, kind: ActionKind.CommentRewards, units: 5 }]);
        await chain.approveLedger(author);
        const events: SiteEventInput[] = [
          { eventId: "pub", type: "post_published", occurredAt: 1, user: author.address, postId: "p", wordCount: 100 },
          ...[6, 7, 8].map((user) => ({
            eventId: `read-${user}`,
            type: "post_read" as const,
            occurredAt: 2,
            user: chain.user(user).address,
            postId: "p",
            secondsRead: 10_000,
          })),
        ];
        for (const event of events) {
          await client.sendEvents([event]);
          await waitFor(`${event.eventId} settled`, async () =>
            (await client.event(event.eventId)).status === "settled" ? true : undefined,
          );
        }
        const logs = await chain.publicClient.getContractEvents({
          address: chain.deployed.ledger,
          abi: tweiLedgerAbi,
          eventName: "BatchSettled",
          args: { siteId: 41 },
          fromBlock: 0n,
        });
        const ids = logs.map((log) => log.args.batchId!).filter((id) => id < 2n ** 53n);
        expect(ids).to.have.length(4);
        for (let i = 1; i < ids.length; i++) {
          const step = ids[i]! - ids[i - 1]!;
          expect(step > 1n, `step ${step} after ${ids[i - 1]}`).to.equal(true); // 1 in 2^24 that a step is 1
          expect(step <= BigInt(BATCH_ID_GAP)).to.equal(true);
        }
      } finally {
        await relayer.stop();
      }
    });
  });
