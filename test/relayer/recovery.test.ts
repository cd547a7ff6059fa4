import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import { getAddress, parseUnits, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { balanceSlotOf } from "../../src/chain/settlementAccessList.js";
import { ActionKind } from "../../src/core/kinds.js";
import type { SiteEventInput } from "../../src/evidence/siteEvent.js";
import { startRelayerProcess, writeTestDeployment } from "./helpers/relayerProcess.js";
import { startTcpProxy } from "./helpers/tcpProxy.js";
import { startTestChain, type TestChain } from "./helpers/testChain.js";
import { addSite, clientFor, startTestRelayer, tempDirs, waitFor } from "./helpers/testRelayer.js";
import { handReady, testStores } from "./helpers/testStores.js";
import { STORES } from "../helpers/postgres.js";

const twei = (value: string) => parseUnits(value, 18);

/** Every batch the relayer settled (ids below 2^63; the test's own seed batches use ids above). */
async function relayerBatches(chain: TestChain) {
  const logs = await chain.publicClient.getContractEvents({
    address: chain.deployed.ledger,
    abi: tweiLedgerAbi,
    eventName: "BatchSettled",
    fromBlock: 0n,
  });
  return logs.filter((log) => (log.args.batchId ?? 0n) < 2n ** 63n);
}

const rpc = (chain: TestChain, method: string, params: unknown[] = []) =>
  chain.publicClient.request({ method, params } as never);

function readsOf(prefix: string, readers: readonly Address[], postId: string): SiteEventInput[] {
  return readers.map((user, i) => ({
    eventId: `${prefix}-${i}`,
    type: "post_read",
    occurredAt: 100 + i,
    user,
    postId,
    secondsRead: 10_000,
  }));
}

for (const store of STORES)
  describe(`relayer recovery on ${store} (settlement across crashes and outages)`, function () {
    let chain: TestChain;
    const stores = testStores(store);
    const dirs = tempDirs();
    const dir = dirs.make;

    before(async function () {
      chain = await startTestChain();
      await stores.start();
    });
    after(async function () {
      await chain?.stop();
      await stores.stop();
      await dirs.removeAll();
    });

    it("accepts events while the chain is down and settles them by itself once it is back", async function () {
      const { dataDir, config } = await stores.fresh("chain-down");
      const site = await addSite(chain, dataDir, 21, config);
      const proxy = await startTcpProxy(chain.node.port);
      const relayer = await startTestRelayer(chain, dataDir, {
        ...config,
        rpcUrl: proxy.url,
        siteCacheMs: 0,
        chainTimeoutMs: 1_000,
      });
      try {
        const client = clientFor(chain, relayer.url, site);
        const author = chain.user(5);
        await chain.seed(21, [{ account: author.address, kind: ActionKind.CommentRewards, units: 5 }]);
        await chain.approveLedger(author);
        await client.sendEvents([
          { eventId: "pub", type: "post_published", occurredAt: 1, user: author.address, postId: "p", wordCount: 100 },
        ]);
        await waitFor("publication settled", async () =>
          (await client.event("pub")).status === "settled" ? true : undefined,
        );

        await proxy.down();
        const readers = [chain.user(6).address, chain.user(7).address];
        const answer = await client.sendEvents([
          ...readsOf("down", readers, "p"),
          // A spend needs the user's funds from the chain: refused, retryable, while it is down.
          { eventId: "buy", type: "report_purchased", occurredAt: 5, user: chain.user(4).address, postId: "p" },
        ]);
        expect(answer.results.map((r) => r.status)).to.deep.equal(["accepted", "accepted", "rejected"]);
        expect(answer.results[2]).to.deep.include({ code: "funds_unknown" });
        const ready = await fetch(`${relayer.url}/readyz`);
        expect(ready.status).to.equal(503);
        await new Promise((resolve) => setTimeout(resolve, 800)); // settlement passes fail meanwhile
        expect((await client.event("down-0")).status).to.not.equal("settled");

        await proxy.up();
        await waitFor("reads settled after the outage", async () =>
          (await client.event("down-1")).status === "settled" ? true : undefined,
        );
        for (const reader of readers) expect(await chain.balanceOf(reader)).to.equal(twei("1"));
      } finally {
        await relayer.stop();
        await proxy.down();
      }
    });

    it("splits a batch over the site's emission cap, and settles the rest in the next epoch", async function () {
      const { dataDir, config, byHand } = await stores.fresh("cap");
      const site = await addSite(chain, dataDir, 22, config);
      const author = chain.user(8);
      await chain.approveLedger(author);
      // Publishing is a burn: the author gets 6 Twei first; then the site may mint 2.5 Twei
      // more this epoch, and each full read mints 1 Twei.
      await chain.seed(22, [{ account: author.address, kind: ActionKind.CommentRewards, units: 3 }]);
      await chain.setSiteCap(22, twei("8.5"));
      const relayer = await startTestRelayer(chain, dataDir, byHand({}));
      await handReady(relayer);
      try {
        const client = clientFor(chain, relayer.url, site);
        const readers = [chain.user(9).address, chain.user(10).address, chain.user(11).address];
        const answer = await client.sendEvents([
          { eventId: "pub", type: "post_published", occurredAt: 1, user: author.address, postId: "p", wordCount: 100 },
          ...readsOf("cap", readers, "p"),
        ]);
        expect(answer.counts.accepted).to.equal(4);
        await relayer.batcher.tick(); // cuts what fits: the post and two reads
        const settledNow = await Promise.all(readers.map((_, i) => client.event(`cap-${i}`)));
        // The third read would overrun the cap: it waits, and says so.
        expect(settledNow.map((e) => e.status)).to.deep.equal(["settled", "settled", "waiting_for_cap"]);
        await relayer.batcher.tick();
        expect((await client.event("cap-2")).status).to.equal("waiting_for_cap");
        expect((await client.event("cap-2")).waitingForCap).to.include({ cap: "site_mint" });

        const epochLength = await chain.publicClient.readContract({
          address: chain.deployed.ledger,
          abi: tweiLedgerAbi,
          functionName: "epochLength",
        });
        await rpc(chain, "evm_increaseTime", [Number(epochLength)]);
        await rpc(chain, "evm_mine");
        await relayer.batcher.tick();
        expect((await client.event("cap-2")).status).to.equal("settled");
        for (const reader of readers) expect(await chain.balanceOf(reader)).to.equal(twei("1"));
      } finally {
        await relayer.stop();
      }
    });

    it("sizes batches by estimated gas to stay under the gas cap", async function () {
      const { dataDir, config, byHand } = await stores.fresh("gas");
      const site = await addSite(chain, dataDir, 25, config);
      const author = chain.user(1);
      await chain.seed(25, [{ account: author.address, kind: ActionKind.CommentRewards, units: 3 }]);
      await chain.approveLedger(author);
      const gasCap = 600_000n;
      const relayer = await startTestRelayer(chain, dataDir, byHand({ batcher: { gasCap } }));
      await handReady(relayer);
      try {
        const client = clientFor(chain, relayer.url, site);
        const readers = Array.from({ length: 24 }, () => privateKeyToAccount(generatePrivateKey()).address);
        const answer = await client.sendEvents([
          { eventId: "pub", type: "post_published", occurredAt: 1, user: author.address, postId: "p", wordCount: 100 },
          ...readsOf("gas", readers, "p"),
        ]);
        expect(answer.counts.accepted).to.equal(25);
        await relayer.batcher.tick();
        const events = await Promise.all(readers.map((_, i) => client.event(`gas-${i}`)));
        expect(new Set(events.map((e) => e.status))).to.deep.equal(new Set(["settled"]));
        const batchIds = [...new Set(events.map((e) => e.batchId as string))];
        expect(batchIds.length).to.be.greaterThan(1);
        for (const batchId of batchIds) {
          const batch = await client.batch(batchId);
          expect(BigInt(batch.gasUsed as string) <= gasCap).to.equal(true);
        }
        // Each settlement lists the token's balance slots of the accounts it credits (EIP-2930).
        const listed = new Set<string>();
        for (const { txHash } of events) {
          const tx = await chain.publicClient.getTransaction({ hash: txHash as Hex });
          expect(tx.accessList?.map((entry) => getAddress(entry.address))).to.deep.equal([
            getAddress(chain.deployed.token),
          ]);
          for (const slot of tx.accessList?.[0]?.storageKeys ?? []) listed.add(slot);
        }
        for (const reader of readers) expect(listed.has(balanceSlotOf(reader))).to.equal(true);
        for (const reader of readers) expect(await chain.balanceOf(reader)).to.equal(twei("1"));
      } finally {
        await relayer.stop();
      }
    });

    it("replaces a stuck transaction with a higher fee on the same nonce, and settles once", async function () {
      const { dataDir, config } = await stores.fresh("stuck");
      const site = await addSite(chain, dataDir, 26, config);
      const author = chain.user(0);
      await chain.seed(26, [{ account: author.address, kind: ActionKind.CommentRewards, units: 3 }]);
      await chain.approveLedger(author);
      const reader = privateKeyToAccount(generatePrivateKey()).address;
      const batchesBefore = (await relayerBatches(chain)).length;
      await rpc(chain, "evm_setAutomine", [false]);
      const relayer = await startTestRelayer(chain, dataDir, {
        ...config,
        batcher: { intervalMs: 100, stuckAfterMs: 400, minEvents: 1, maxWaitMs: 0 },
      });
      try {
        const client = clientFor(chain, relayer.url, site);
        await client.sendEvents([
          { eventId: "pub", type: "post_published", occurredAt: 1, user: author.address, postId: "p", wordCount: 100 },
          ...readsOf("stuck", [reader], "p"),
        ]);
        const batchId = BigInt(
          (await waitFor("batched", async () => (await client.event("stuck-0")).batchId ?? undefined)) as string,
        );
        const attempts = await waitFor("a replacement", async () => {
          const batch = await relayer.store.batch(batchId);
          return batch && batch.attempts.filter((a) => a.txHash).length >= 2 ? batch.attempts : undefined;
        });
        expect(new Set(attempts.map((a) => a.nonce)).size).to.equal(1);
        expect((attempts[1]?.maxFeePerGas ?? 0n) > (attempts[0]?.maxFeePerGas ?? 0n)).to.equal(true);
        await rpc(chain, "evm_setAutomine", [true]);
        await rpc(chain, "evm_mine");
        await waitFor("settled", async () => ((await client.event("stuck-0")).status === "settled" ? true : undefined));
        expect(await chain.balanceOf(reader)).to.equal(twei("1"));
        expect((await relayerBatches(chain)).length - batchesBefore).to.equal(1);
      } finally {
        await rpc(chain, "evm_setAutomine", [true]);
        await relayer.stop();
      }
    });

    for (const fate of ["mined while the relayer is down", "dropped from the mempool"] as const)
      it(`survives kill -9 between sending a batch and its receipt (transaction ${fate}): nothing lost, nothing paid twice`, async function () {
        const siteId = fate === "mined while the relayer is down" ? 23 : 24;
        const root = await dir("kill-root");
        const { dataDir, config, env } = await stores.fresh("kill-data");
        await writeTestDeployment(chain, root);
        const site = await addSite(chain, dataDir, siteId, config);
        const author = chain.user(12);
        await chain.seed(siteId, [{ account: author.address, kind: ActionKind.CommentRewards, units: 5 }]);
        await chain.approveLedger(author);
        const readers = [chain.user(13).address, chain.user(14).address, chain.user(15).address];
        const before = await Promise.all(readers.map((reader) => chain.balanceOf(reader)));
        const batchesBefore = (await relayerBatches(chain)).length;

        await rpc(chain, "evm_setAutomine", [false]);
        let relayer = await startRelayerProcess(chain, root, dataDir, env);
        try {
          const client = clientFor(chain, relayer.url, site);
          const answer = await client.sendEvents([
            {
              eventId: "pub",
              type: "post_published",
              occurredAt: 1,
              user: author.address,
              postId: "p",
              wordCount: 100,
            },
            ...readsOf("kill", readers, "p"),
          ]);
          expect(answer.counts.accepted).to.equal(4);
          const sent = await waitFor("the batch's transaction sent", async () => {
            const event = await client.event("kill-2");
            return event.status === "batched" && event.txHash ? event : undefined;
          });
          await relayer.kill9();
          if (fate === "mined while the relayer is down") await rpc(chain, "evm_mine");
          else await rpc(chain, "hardhat_dropTransaction", [sent.txHash]);
          await rpc(chain, "evm_setAutomine", [true]);

          relayer = await startRelayerProcess(chain, root, dataDir, env);
          const restarted = clientFor(chain, relayer.url, site);
          const settled = await waitFor("settled after the restart", async () => {
            const event = await restarted.event("kill-2");
            return event.status === "settled" ? event : undefined;
          });
          expect(settled.batchId).to.equal(sent.batchId);
          // A replay of the same events after the restart is only duplicates.
          const replay = await restarted.sendEvents(readsOf("kill", readers, "p"));
          expect(replay.counts.duplicate).to.equal(3);
          await new Promise((resolve) => setTimeout(resolve, 600)); // give a double payout the chance to happen

          const after = await Promise.all(readers.map((reader) => chain.balanceOf(reader)));
          expect(after.map((value, i) => value - (before[i] ?? 0n))).to.deep.equal(readers.map(() => twei("1")));
          const batches = await relayerBatches(chain);
          expect(batches.length - batchesBefore).to.equal(1);
        } finally {
          await rpc(chain, "evm_setAutomine", [true]);
          await relayer.stop();
        }
      });
  });
