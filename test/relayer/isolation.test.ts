import { expect } from "chai";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "mocha";
import { parseUnits, zeroAddress, type Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { ActionKind } from "../../src/core/kinds.js";
import { postIdFor } from "../../src/core/postId.js";
import { chainPostIdKey } from "../../src/relayer/storage/sqliteDatabase.js";
import { captureLog } from "./helpers/captureLog.js";
import { publishEvent, queueUnchecked, readEvent } from "./helpers/siteEvents.js";
import { startTestChain, type TestChain } from "./helpers/testChain.js";
import { addSite, clientFor, startTestRelayer, type TestSite } from "./helpers/testRelayer.js";
import { handReady, testStores, pgQuery, type TestStore } from "./helpers/testStores.js";
import { startWebhookSink } from "./helpers/webhookSink.js";
import { STORES } from "../helpers/postgres.js";

const twei = (value: string) => parseUnits(value, 18);
const fresh = (): Address => privateKeyToAccount(generatePrivateKey()).address;

const publish = publishEvent;
const read = readEvent;

for (const store of STORES)
  describe(`relayer isolation on ${store}: one bad event, site or batch never stops anyone else's settlement`, function () {
    let chain: TestChain;
    const stores = testStores(store);

    before(async function () {
      chain = await startTestChain();
      await stores.start();
    });
    after(async function () {
      await chain?.stop();
      await stores.stop();
    });

    /** Two sites, `first` and `first + 1`, each with an author who can afford two publications. */
    async function twoSites(testStore: TestStore, first: number, options: { webhookUrl?: string } = {}) {
      const sites: { site: TestSite; author: Address }[] = [];
      for (const [i, siteId] of [first, first + 1].entries()) {
        const author = chain.user(i + first - 40);
        const site = await addSite(chain, testStore.dataDir, siteId, { ...options, ...testStore.config });
        await chain.seed(siteId, [{ account: author.address, kind: ActionKind.CommentRewards, units: 6 }]);
        await chain.approveLedger(author);
        sites.push({ site, author: author.address });
      }
      return sites as [{ site: TestSite; author: Address }, { site: TestSite; author: Address }];
    }

    it("refuses the zero address at the door, and fails one that reached the queue while its batch and the other site settle in the same pass", async function () {
      const testStore = await stores.fresh("zero");
      const { dataDir, byHand } = testStore;
      const hooks = await startWebhookSink();
      const [{ site: a, author: authorA }, { site: b, author: authorB }] = await twoSites(testStore, 40, {
        webhookUrl: hooks.url,
      });
      let relayer = await startTestRelayer(chain, dataDir, byHand({}));
      await handReady(relayer);
      const readers = [fresh(), fresh()];
      try {
        const client = clientFor(chain, relayer.url, a);
        const answer = await client.sendEvents([
          publish("pub", authorA, "p"),
          read("r0", readers[0] as Address, "p"),
          read("zero-now", zeroAddress, "p"),
        ]);
        expect(answer.results[2]).to.deep.include({ status: "rejected", code: "zero_address" });
        await relayer.stop();
        // An older relayer let this one in.
        await queueUnchecked(testStore, 40, read("zero-then", zeroAddress, "p"), 7n);
        relayer = await startTestRelayer(chain, dataDir, byHand({}));
        await handReady(relayer);
        const clientA = clientFor(chain, relayer.url, a);
        const clientB = clientFor(chain, relayer.url, b);
        await clientA.sendEvents([read("r1", readers[1] as Address, "p")]);
        await clientB.sendEvents([publish("pub", authorB, "q"), read("r0", readers[0] as Address, "q")]);

        await relayer.batcher.tick();

        const bad = await clientA.event("zero-then");
        expect(bad.status).to.equal("failed");
        expect(bad.failure).to.deep.equal({
          code: "ledger_zero_address",
          message: "the ledger refuses this event: TweiLedgerZeroAddress()",
        });
        for (const eventId of ["pub", "r0", "r1"]) expect((await clientA.event(eventId)).status).to.equal("settled");
        for (const eventId of ["pub", "r0"]) expect((await clientB.event(eventId)).status).to.equal("settled");
        expect(await chain.balanceOf(readers[0] as Address)).to.equal(twei("2"));
        expect(await chain.balanceOf(readers[1] as Address)).to.equal(twei("1"));
        const metrics = await (await fetch(`${relayer.url}/metrics`)).text();
        expect(metrics).to.match(/twei_relayer_events_failed_total\{code="ledger_zero_address"\} 1/);
        // The site hears of it: a final rejection.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        expect(hooks.of("event.failed")).to.deep.equal([
          {
            type: "event.failed",
            siteId: 40,
            eventId: "zero-then",
            code: "ledger_zero_address",
            message: "the ledger refuses this event: TweiLedgerZeroAddress()",
          },
        ]);
        // Nothing is left to settle, and the next pass sends nothing.
        await relayer.batcher.tick();
        expect((await relayer.store.openBatches()).length).to.equal(0);
      } finally {
        await relayer.stop();
        await hooks.close();
      }
    });

    it("holds a deactivated site's events, settles the other site meanwhile, says so once, and sends them once the site is active again", async function () {
      const testStore = await stores.fresh("held");
      const { dataDir, byHand } = testStore;
      const [{ site: a, author: authorA }, { site: b, author: authorB }] = await twoSites(testStore, 42);
      const capture = captureLog();
      const relayer = await startTestRelayer(chain, dataDir, byHand({ logger: capture.log, siteCacheMs: 0 }));
      await handReady(relayer);
      const reader = fresh();
      try {
        const clientA = clientFor(chain, relayer.url, a);
        const clientB = clientFor(chain, relayer.url, b);
        await clientA.sendEvents([publish("pub", authorA, "p"), read("r", reader, "p")]);
        await clientB.sendEvents([publish("pub", authorB, "q"), read("r", reader, "q")]);
        await chain.setSiteActive(42, false);

        for (let pass = 0; pass < 4; pass++) await relayer.batcher.tick();

        for (const eventId of ["pub", "r"]) {
          const event = await clientA.event(eventId);
          expect(event.status).to.equal("held");
          expect(event.held).to.deep.include({
            reason: "the site is deactivated on the ledger; it goes out once active again",
          });
          expect((await clientB.event(eventId)).status).to.equal("settled");
        }
        const metrics = await (await fetch(`${relayer.url}/metrics`)).text();
        expect(metrics).to.match(/twei_relayer_events_held 2/);
        expect(
          capture.said("the site is deactivated on the ledger; its events are held until it is active again"),
        ).to.equal(1);
        expect(capture.lines.filter((line) => Number(line.level) >= 40).map((line) => line.msg)).to.deep.equal([
          "the site is deactivated on the ledger; its events are held until it is active again",
        ]);

        await chain.setSiteActive(42, true);
        await relayer.batcher.tick();
        for (const eventId of ["pub", "r"]) expect((await clientA.event(eventId)).status).to.equal("settled");
        expect(await chain.balanceOf(reader)).to.equal(twei("2"));
      } finally {
        await relayer.stop();
      }
    });

    it("refuses a post id the ledger holds already, and fails a publication whose id was taken after it was accepted, with everything said on that post, while the rest settles in the same pass", async function () {
      const testStore = await stores.fresh("taken");
      const { dataDir, byHand } = testStore;
      const [{ site: a, author }, { site: b, author: authorB }] = await twoSites(testStore, 44);
      const relayer = await startTestRelayer(chain, dataDir, byHand({}));
      await handReady(relayer);
      const [r1, r2] = [fresh(), fresh()];
      try {
        const clientA = clientFor(chain, relayer.url, a);
        const clientB = clientFor(chain, relayer.url, b);
        // Taken on-chain before it is published: refused at the door.
        await chain.registerPost(44, postIdFor(44, "taken"), fresh());
        const refused = await clientA
          .sendEvents([publish("early", author, "taken")])
          .catch((error: { problem: { results: unknown[] } }) => error.problem);
        expect((refused as { results: { code: string }[] }).results[0]?.code).to.equal("post_id_taken");
        // Held by another post of this relayer (what a ground 64-bit collision between two sites looks like).
        const ground =
          "INSERT INTO posts (site_id, post_id, author, word_count, chain_post_id) VALUES (45, 'ground', ?, 1, ?)";
        const groundValues = [fresh().toLowerCase(), chainPostIdKey(postIdFor(44, "collides"))];
        if (testStore.databaseUrl)
          await pgQuery(testStore.databaseUrl, ground.replace("?, 1, ?", "$1, 1, $2"), groundValues);
        else {
          const db = new DatabaseSync(join(dataDir, "relayer.sqlite"));
          db.prepare(ground).run(...groundValues);
          db.close();
        }
        const collided = await clientA
          .sendEvents([publish("collide", author, "collides")])
          .catch((error: { problem: { results: unknown[] } }) => error.problem);
        expect((collided as { results: { code: string }[] }).results[0]?.code).to.equal("post_id_taken");

        await clientA.sendEvents([
          publish("pub-1", author, "p1"),
          read("read-1", r1, "p1"),
          {
            eventId: "comment-1",
            type: "comment_created",
            occurredAt: 3,
            user: author,
            postId: "p1",
            commentId: "c1",
            length: 40,
          },
          publish("pub-2", author, "p2"),
          read("read-2", r2, "p2"),
        ]);
        await clientB.sendEvents([publish("pub", authorB, "q"), read("r", r1, "q")]);
        // Taken between acceptance and settlement (a post of another kind, or a ground collision).
        await chain.registerPost(44, postIdFor(44, "p1"), fresh());

        await relayer.batcher.tick();

        expect((await clientA.event("pub-1")).failure).to.deep.include({ code: "ledger_post_already_registered" });
        for (const eventId of ["read-1", "comment-1"]) {
          const event = await clientA.event(eventId);
          expect(event.status).to.equal("failed");
          expect(event.failure).to.deep.include({ code: "dependency_failed" });
        }
        for (const eventId of ["pub-2", "read-2"]) expect((await clientA.event(eventId)).status).to.equal("settled");
        for (const eventId of ["pub", "r"]) expect((await clientB.event(eventId)).status).to.equal("settled");
        expect(await chain.balanceOf(r1)).to.equal(twei("1")); // site B's read only
        expect(await chain.balanceOf(r2)).to.equal(twei("1"));

        // The failed post is gone from the relayer's view: what is said on it now is refused.
        const after = await clientA
          .sendEvents([read("read-1-again", r1, "p1"), publish("pub-1-again", author, "p1")])
          .catch((error: { problem: unknown }) => error.problem);
        expect((after as { results: { code: string }[] }).results.map((result) => result.code)).to.deep.equal([
          "unknown_post",
          "post_id_taken",
        ]);
        // …and no pending spend of the author's is left reserved by the failed events.
        const user = await clientA.user(author);
        expect(user.pendingSpends).to.equal("0");
      } finally {
        await relayer.stop();
      }
    });

    it("sends every site's batch in the same pass, side by side: one site's transaction waiting for its block holds up no other", async function () {
      const testStore = await stores.fresh("independent");
      const { dataDir, byHand } = testStore;
      const [{ site: a, author: authorA }, { site: b, author: authorB }] = await twoSites(testStore, 46);
      const relayer = await startTestRelayer(chain, dataDir, byHand({}));
      await handReady(relayer);
      try {
        const clientA = clientFor(chain, relayer.url, a);
        const clientB = clientFor(chain, relayer.url, b);
        await clientA.sendEvents([publish("pub", authorA, "p")]);
        await clientB.sendEvents([publish("pub", authorB, "q")]);
        await chain.rpc("evm_setAutomine", [false]);
        const pass = relayer.batcher.tick();
        const sent = async () =>
          (await relayer.store.openBatches()).filter((batch) => batch.attempts.some((attempt) => attempt.txHash))
            .length;
        for (let i = 0; i < 50 && (await sent()) < 2; i++) await new Promise((resolve) => setTimeout(resolve, 100));
        expect(await sent()).to.equal(2);
        await chain.rpc("evm_mine");
        await chain.rpc("evm_setAutomine", [true]);
        await pass;
        await relayer.batcher.tick();
        expect((await clientA.event("pub")).status).to.equal("settled");
        expect((await clientB.event("pub")).status).to.equal("settled");
      } finally {
        await chain.rpc("evm_setAutomine", [true]);
        await relayer.stop();
      }
    });
  });
