import { expect } from "chai";
import { createEventStatus } from "../../src/site/eventStatus.js";
import { after, before, describe, it } from "mocha";
import { parseUnits, type Address } from "viem";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { waitForSuccess } from "../../src/chain/waitForSuccess.js";
import type { DecodedRevert } from "../../src/chain/decodeRevert.js";
import { ActionKind } from "../../src/core/kinds.js";
import { classifyRevert } from "../../src/relayer/settlement/classifyRevert.js";
import { STORES } from "../helpers/postgres.js";
import { publishEvent, readEvent } from "./helpers/siteEvents.js";
import { startTestChain, type TestChain } from "./helpers/testChain.js";
import { addSite, clientFor, startTestRelayer, waitFor } from "./helpers/testRelayer.js";
import { startWebhookSink } from "./helpers/webhookSink.js";
import { handReady, testStores } from "./helpers/testStores.js";

const twei = (value: string) => parseUnits(value, 18);

describe("classifyRevert: every cap is a wait", function () {
  it("classes the ledger's four cap errors (mints and burns, overall and the site's) as `cap`, never `poison`", function () {
    const revert = (name: string): DecodedRevert => ({ name, args: [], data: "0x00000000" });
    for (const name of [
      "TweiLedgerEmissionCapExceeded",
      "TweiLedgerSiteEmissionCapExceeded",
      "TweiLedgerBurnCapExceeded",
      "TweiLedgerSiteBurnCapExceeded",
    ])
      expect(classifyRevert(revert(name)).kind, name).to.equal("cap");
  });
});

for (const store of STORES)
  describe(`relayer on ${store}: a batch over the site's burn cap waits for room, its events are never failed`, function () {
    this.timeout(120_000);
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

    it("settles what fits under the burn cap, keeps the crossing publication (and the read that needs its post) pending, and settles them once there is room", async function () {
      const SITE = 31;
      const { dataDir, config, byHand } = await stores.fresh("burncap");
      const site = await addSite(chain, dataDir, SITE, config);
      const author = chain.user(2);
      const reader = chain.user(3).address;
      // 20 Twei to pay two publications (5 Twei each); then the site may burn 7 Twei an epoch.
      await chain.seed(SITE, [{ account: author.address, kind: ActionKind.CommentRewards, units: 10 }]);
      await chain.approveLedger(author);
      await waitForSuccess(
        chain.publicClient,
        await chain.admin.writeContract({
          address: chain.deployed.ledger,
          abi: tweiLedgerAbi,
          functionName: "scheduleSiteCaps",
          args: [SITE, twei("1000"), twei("7")],
          chain: chain.chain,
        }),
      );
      const relayer = await startTestRelayer(chain, dataDir, byHand({}));
      await handReady(relayer);
      try {
        const client = clientFor(chain, relayer.url, site);
        const answer = await client.sendEvents([
          publishEvent("pub-1", author.address, "p1"),
          publishEvent("pub-2", author.address, "p2"),
          readEvent("read-2", reader, "p2"),
        ]);
        expect(answer.counts.accepted).to.equal(3);

        await relayer.batcher.tick(); // the first publication fits; the second would cross the burn cap
        const statuses = async () =>
          (await Promise.all(["pub-1", "pub-2", "read-2"].map((id) => client.event(id)))).map((e) => [
            e.status,
            (e.failure as { code?: string } | null)?.code,
          ]);
        expect(await statuses()).to.deep.equal([
          ["settled", undefined],
          ["waiting_for_cap", undefined],
          ["waiting_for_cap", undefined],
        ]);
        await relayer.batcher.tick(); // still the same epoch: they wait
        expect((await statuses()).slice(1)).to.deep.equal([
          ["waiting_for_cap", undefined],
          ["waiting_for_cap", undefined],
        ]);
        expect((await client.event("pub-2")).waitingForCap?.cap).to.equal("site_burn");

        // Two epochs on, the sliding window holds nothing of the first burn: room again.
        const epochLength = await chain.publicClient.readContract({
          address: chain.deployed.ledger,
          abi: tweiLedgerAbi,
          functionName: "epochLength",
        });
        await chain.rpc("evm_increaseTime", [Number(epochLength) * 2]);
        await chain.rpc("evm_mine");
        await relayer.batcher.tick();
        expect(await statuses()).to.deep.equal([
          ["settled", undefined],
          ["settled", undefined],
          ["settled", undefined],
        ]);
        expect(await chain.balanceOf(reader)).to.equal(twei("1"));
        expect(await chain.balanceOf(author.address)).to.equal(twei("10"));
      } finally {
        await relayer.stop();
      }
    });

    it("a site waiting for the overall mint cap says `waiting_for_cap` (API and webhook, when room returns), keeps saying it after a restart, and settles at the next pass once scheduleEmissionCaps raises the cap, without a restart", async function () {
      const SITE = 32;
      const { dataDir, config, byHand } = await stores.fresh("mintcap");
      const hooks = await startWebhookSink();
      const site = await addSite(chain, dataDir, SITE, { webhookUrl: hooks.url, ...config });
      const author = chain.user(4);
      const readers = [5, 6, 7, 8].map((i) => chain.user(i).address);
      await chain.seed(SITE, [{ account: author.address, kind: ActionKind.CommentRewards, units: 10 }]);
      await chain.approveLedger(author);
      const ledger = { address: chain.deployed.ledger, abi: tweiLedgerAbi } as const;
      const setOverallCaps = async (mintCap: bigint) =>
        waitForSuccess(
          chain.publicClient,
          await chain.admin.writeContract({
            ...ledger,
            functionName: "scheduleEmissionCaps",
            args: [mintCap, twei("1000000")],
            chain: chain.chain,
          }),
        );
      const settings = byHand({ webhooks: { intervalMs: 50, backoffMs: 50 } });
      let relayer = await startTestRelayer(chain, dataDir, settings);
      await handReady(relayer);
      try {
        let client = clientFor(chain, relayer.url, site);
        const published = await client.sendEvents([publishEvent("pub", author.address, "p")]);
        expect(published.counts.accepted).to.equal(1);
        expect(published.waitingForCap).to.equal(null);
        await relayer.batcher.tick();
        expect((await client.event("pub")).status).to.equal("settled");

        // Room for one read (1 Twei) and a half under the overall cap (the change delay is 0 here).
        const usage = await chain.publicClient.readContract({ ...ledger, functionName: "epochUsage" });
        const { mintCap } = await chain.publicClient.readContract({ ...ledger, functionName: "emissionCaps" });
        const used = mintCap - usage.mintRoom;
        await setOverallCaps(used + twei("1.5"));
        const answer = await client.sendEvents(readers.slice(0, 3).map((r, i) => readEvent(`read-${i}`, r, "p")));
        expect(answer.counts.accepted).to.equal(3);
        await relayer.batcher.tick();
        const statusOf = async (eventId: string) => (await client.event(eventId)).status;
        expect(await Promise.all(["read-0", "read-1", "read-2"].map(statusOf))).to.deep.equal([
          "settled",
          "waiting_for_cap",
          "waiting_for_cap",
        ]);
        const waiting = await client.event("read-1");
        expect(waiting.waitingForCap).to.include({ cap: "mint" });
        expect(waiting.waitingForCap?.reason).to.match(/TweiLedgerEmissionCapExceeded/);
        const { timestamp } = await chain.publicClient.getBlock();
        const roomAtUnix = waiting.waitingForCap?.roomAtUnix as number;
        // Nothing was minted in the previous epoch: room comes back with the next one, within two.
        expect(roomAtUnix).to.be.greaterThan(Number(timestamp));
        expect(roomAtUnix).to.be.at.most(Number(timestamp) + 2 * 86_400);
        expect(waiting.waitingForCap?.roomAt).to.equal(new Date(roomAtUnix * 1000).toISOString());
        // The site kit tells its reader what the wait is, and until when, instead of a bare "pending".
        const seen = await createEventStatus(client)({ eventId: "read-1", sentAt: 0, answer: "accepted" });
        expect(seen).to.deep.equal({
          state: "pending",
          code: "waiting_for_cap",
          message: `the site has used up its Twei budget on the ledger for now; it is recorded when there is room again, from ${new Date(roomAtUnix * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC`,
        });

        const told = await waitFor("the waiting_for_cap webhooks", async () => {
          const sent = hooks.of("event.waiting_for_cap");
          return sent.length >= 2 ? sent : undefined;
        });
        expect(told.map((payload) => payload.eventId)).to.have.members(["read-1", "read-2"]);
        expect(told[0]).to.deep.include({ status: "waiting_for_cap", siteId: SITE });
        expect(told[0]?.waitingForCap).to.deep.include({ cap: "mint", roomAtUnix });

        expect(await (await fetch(`${relayer.url}/metrics`)).text()).to.match(
          /twei_relayer_sites_waiting_for_cap\{cap="mint"\} 1/,
        );

        // Another pass: still no room; nothing told twice.
        await relayer.batcher.tick();
        expect(await statusOf("read-1")).to.equal("waiting_for_cap");

        // The wait is the store's: a restarted relayer (or another instance) says the same.
        await relayer.stop();
        relayer = await startTestRelayer(chain, dataDir, settings);
        await handReady(relayer);
        client = clientFor(chain, relayer.url, site);
        expect((await client.event("read-2")).waitingForCap).to.deep.include({ cap: "mint", roomAtUnix });
        // The site still waits: an event accepted now is told so at once.
        const accepted = await client.sendEvents([readEvent("read-3", readers[3] as Address, "p")]);
        expect(accepted.counts).to.deep.include({ accepted: 1 });
        expect(accepted.waitingForCap).to.deep.include({ cap: "mint", roomAtUnix });
        await relayer.batcher.tick();
        expect(await statusOf("read-3")).to.equal("waiting_for_cap");

        // The policy admin raises the cap: the next pass reads the room from the ledger and settles.
        await setOverallCaps(used + twei("100"));
        await relayer.batcher.tick();
        expect(await Promise.all(["read-1", "read-2", "read-3"].map(statusOf))).to.deep.equal([
          "settled",
          "settled",
          "settled",
        ]);
        expect((await client.event("read-1")).waitingForCap).to.equal(null);
        expect(await (await fetch(`${relayer.url}/metrics`)).text()).to.match(
          /twei_relayer_sites_waiting_for_cap\{cap="mint"\} 0/,
        );
        for (const reader of readers) expect(await chain.balanceOf(reader)).to.equal(twei("1"));
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(hooks.of("event.waiting_for_cap").map((payload) => payload.eventId)).to.have.members([
          "read-1",
          "read-2",
          "read-3",
        ]);
      } finally {
        await relayer.stop();
        await hooks.close();
        await setOverallCaps(twei("1000000"));
      }
    });
  });
