import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import { parseUnits, serializeTransaction, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { ActionKind } from "../../src/core/kinds.js";
import type { SiteEventInput } from "../../src/evidence/siteEvent.js";
import { startTestChain, type TestChain } from "./helpers/testChain.js";
import { addSite, clientFor, startTestRelayer } from "./helpers/testRelayer.js";
import { handReady, testStores } from "./helpers/testStores.js";
import { STORES } from "../helpers/postgres.js";
import { startWebhookSink } from "./helpers/webhookSink.js";

const twei = (value: string) => parseUnits(value, 18);

/**
 * Real reorgs on two node implementations: anvil's `anvil_reorg` replaces the last blocks with
 * new (empty) ones; on Hardhat a snapshot taken before the batch is reverted to and the chain
 * mined on from there. Either way the settlement transaction is no longer in the chain.
 */
interface Reorger {
  /** Marks the point a later reorg rolls back to (Hardhat; anvil counts blocks). */
  mark(): Promise<void>;
  /** Replaces the chain from the batch's block on with `depth` new blocks. */
  reorg(depth: number): Promise<void>;
}

function reorgerFor(chain: TestChain): Reorger {
  let snapshot: unknown;
  return chain.node.kind === "anvil"
    ? {
        async mark() {},
        async reorg(depth) {
          await chain.rpc("anvil_reorg", [depth, []]);
        },
      }
    : {
        async mark() {
          snapshot = await chain.rpc("evm_snapshot");
        },
        async reorg(depth) {
          await chain.rpc("evm_revert", [snapshot]);
          for (let i = 0; i < depth; i++) await chain.rpc("evm_mine");
        },
      };
}

const mine = async (chain: TestChain, blocks: number) => {
  for (let i = 0; i < blocks; i++) await chain.rpc("evm_mine");
};

/** The BatchSettled logs of a batch id in the canonical chain. */
async function settlementsOf(chain: TestChain, batchId: bigint) {
  return chain.publicClient.getContractEvents({
    address: chain.deployed.ledger,
    abi: tweiLedgerAbi,
    eventName: "BatchSettled",
    args: { batchId },
    fromBlock: 0n,
  });
}

for (const store of STORES)
  for (const node of ["hardhat", "anvil"] as const)
    describe(`relayer finality on ${node} and ${store}: settled only at the depth, and a reorg never loses or doubles a payout`, function () {
      let chain: TestChain;
      const stores = testStores(store);

      before(async function () {
        chain = await startTestChain({ node });
        await stores.start();
      });
      after(async function () {
        await chain?.stop();
        await stores.stop();
      });

      /** A site with a funded author, a relayer that settles only when told (tick), and a webhook sink. */
      async function setUp(siteId: number, confirmations: number) {
        const { dataDir, config, byHand } = await stores.fresh(`finality-${node}`);
        const hooks = await startWebhookSink();
        const site = await addSite(chain, dataDir, siteId, { webhookUrl: hooks.url, ...config });
        const author = chain.user(siteId % 10);
        await chain.seed(siteId, [{ account: author.address, kind: ActionKind.CommentRewards, units: 3 }]);
        await chain.approveLedger(author);
        await mine(chain, 4); // the reorgs below replace only blocks from the batch's on
        const relayer = await startTestRelayer(
          chain,
          dataDir,
          byHand({
            batcher: { finality: { mode: "confirmations", confirmations }, stuckAfterMs: 1_000 },
            webhooks: { intervalMs: 50, backoffMs: 50 },
          }),
        );
        await handReady(relayer);
        const client = clientFor(chain, relayer.url, site);
        const reader = privateKeyToAccount(generatePrivateKey()).address;
        const events: SiteEventInput[] = [
          { eventId: "pub", type: "post_published", occurredAt: 1, user: author.address, postId: "p", wordCount: 100 },
          { eventId: "read", type: "post_read", occurredAt: 2, user: reader, postId: "p", secondsRead: 10_000 },
        ];
        return { relayer, client, hooks, author: author.address, reader, events };
      }

      const statusOf = async (client: ReturnType<typeof clientFor>, eventId: string) =>
        (await client.event(eventId)) as { status: string; batchId: string | null; txHash: Hex | null };

      it("a reorg within the confirmation depth never produces a settled status or a webhook; the batch is sent again under its id and settles once", async function () {
        const { relayer, client, hooks, author, reader, events } = await setUp(61, 3);
        try {
          const before = await chain.balanceOf(author);
          await client.sendEvents(events);
          const reorger = reorgerFor(chain);
          await reorger.mark();
          await relayer.batcher.tick();
          const first = await statusOf(client, "read");
          expect(first.status).to.equal("included");
          const batchId = BigInt(first.batchId as string);

          await reorger.reorg(1);
          expect(await settlementsOf(chain, batchId)).to.have.length(0);
          const seen = new Set<string>();
          for (let pass = 0; pass < 3; pass++) {
            await relayer.batcher.tick();
            seen.add((await statusOf(client, "read")).status);
          }
          expect(seen.has("settled")).to.equal(false);
          expect((await statusOf(client, "read")).status).to.equal("included");

          await mine(chain, 2);
          await relayer.batcher.tick();
          const final = await statusOf(client, "read");
          expect(final.status).to.equal("settled");
          expect(final.batchId).to.equal(batchId.toString());
          const settled = await settlementsOf(chain, batchId);
          expect(settled).to.have.length(1);
          expect(final.txHash).to.equal(settled[0]?.transactionHash);

          await new Promise((resolve) => setTimeout(resolve, 500));
          expect(hooks.of("event.settled").map((p) => [p.eventId, p.txHash])).to.deep.equal([
            ["pub", final.txHash],
            ["read", final.txHash],
          ]);
          expect(await chain.balanceOf(reader)).to.equal(twei("1"));
          expect(before - (await chain.balanceOf(author))).to.equal(twei("5"));
        } finally {
          await relayer.stop();
          await hooks.close();
        }
      });

      it("a reorg that moves the batch's transaction to another block is re-read there, and settles once at that block's depth", async function () {
        const { relayer, client, hooks, reader, events } = await setUp(63, 2);
        try {
          await client.sendEvents(events);
          const reorger = reorgerFor(chain);
          await reorger.mark();
          await relayer.batcher.tick();
          const included = await statusOf(client, "read");
          expect(included.status).to.equal("included");
          const tx = await chain.publicClient.getTransaction({ hash: included.txHash as Hex });
          const raw = serializeTransaction(
            {
              type: "eip1559",
              chainId: tx.chainId as number,
              nonce: tx.nonce,
              to: tx.to as Hex,
              data: tx.input,
              gas: tx.gas,
              maxFeePerGas: tx.maxFeePerGas as bigint,
              maxPriorityFeePerGas: tx.maxPriorityFeePerGas as bigint,
              accessList: tx.accessList ?? [],
              value: tx.value,
            },
            { r: tx.r, s: tx.s, yParity: tx.yParity as number },
          );
          // The block is replaced by an empty one, and the same transaction lands in the next.
          await reorger.reorg(1);
          await chain.rpc("eth_sendRawTransaction", [raw]);
          // anvil may answer before it has mined the block: wait for the receipt.
          const moved = await chain.publicClient.waitForTransactionReceipt({
            hash: included.txHash as Hex,
            pollingInterval: 50,
            timeout: 10_000,
          });
          expect(moved.blockHash).to.not.equal(tx.blockHash);

          await relayer.batcher.tick();
          const reread = await relayer.store.batch(BigInt(included.batchId as string));
          expect([reread?.status, reread?.blockHash, reread?.txHash]).to.deep.equal([
            "included",
            moved.blockHash,
            included.txHash,
          ]);
          await mine(chain, 1);
          await relayer.batcher.tick();
          expect((await statusOf(client, "read")).status).to.equal("settled");
          expect(await settlementsOf(chain, BigInt(included.batchId as string))).to.have.length(1);
          expect(await chain.balanceOf(reader)).to.equal(twei("1"));
          await new Promise((resolve) => setTimeout(resolve, 500));
          expect(hooks.of("event.settled").map((p) => p.blockNumber)).to.deep.equal([
            moved.blockNumber.toString(),
            moved.blockNumber.toString(),
          ]);
        } finally {
          await relayer.stop();
          await hooks.close();
        }
      });

      it("a reorg deeper than the confirmation depth removes a settled batch; the relayer sends it again and every accepted event is paid exactly once", async function () {
        const { relayer, client, hooks, author, reader, events } = await setUp(62, 2);
        try {
          const before = await chain.balanceOf(author);
          await client.sendEvents(events);
          const reorger = reorgerFor(chain);
          await reorger.mark();
          await relayer.batcher.tick();
          await mine(chain, 1);
          await relayer.batcher.tick();
          const settledOnce = await statusOf(client, "read");
          expect(settledOnce.status).to.equal("settled");
          const batchId = BigInt(settledOnce.batchId as string);
          expect(await chain.balanceOf(reader)).to.equal(twei("1"));

          // Three blocks replaced: the batch's and the two past it, beyond the depth of 2.
          await reorger.reorg(3);
          expect(await chain.balanceOf(reader)).to.equal(0n);
          await relayer.batcher.tick();
          const resent = await statusOf(client, "read");
          expect(["batched", "included"]).to.include(resent.status);
          for (let pass = 0; pass < 10 && (await statusOf(client, "read")).status !== "settled"; pass++) {
            await mine(chain, 1);
            await relayer.batcher.tick();
          }
          const final = await statusOf(client, "read");
          expect(final.status).to.equal("settled");
          expect(final.batchId).to.equal(batchId.toString());
          expect(await settlementsOf(chain, batchId)).to.have.length(1);
          expect(await chain.balanceOf(reader)).to.equal(twei("1"));
          expect(before - (await chain.balanceOf(author))).to.equal(twei("5"));

          await new Promise((resolve) => setTimeout(resolve, 500));
          const reorged = hooks.of("event.reorged");
          expect(reorged.map((p) => [p.eventId, p.removedTxHash])).to.deep.equal([
            ["pub", settledOnce.txHash],
            ["read", settledOnce.txHash],
          ]);
          expect(hooks.of("event.settled").map((p) => [p.eventId, p.txHash])).to.deep.equal([
            ["pub", settledOnce.txHash],
            ["read", settledOnce.txHash],
            ["pub", final.txHash],
            ["read", final.txHash],
          ]);
          const metrics = await (await fetch(`${relayer.url}/metrics`)).text();
          expect(metrics).to.match(/twei_relayer_reorgs_total\{depth="past_finality"\} 1/);
        } finally {
          await relayer.stop();
          await hooks.close();
        }
      });
    });
