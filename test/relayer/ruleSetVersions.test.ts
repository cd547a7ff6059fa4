import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import { parseUnits, zeroAddress, type Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { ActionKind } from "../../src/core/kinds.js";
import { DEFAULT_RULE_AMOUNTS, DEFAULT_UNIT_BOUNDS, amountFor, type RuleAmounts } from "../../src/core/ruleSet.js";
import { hashEvents, hashSiteEvent } from "../../src/evidence/encodeSiteEvent.js";
import { siteEventSchema, type SiteEventInput } from "../../src/evidence/siteEvent.js";
import type { AccountAction } from "../../src/core/packedActions.js";
import type { GetRulesReturnType } from "../../src/relayer/api/getRules.js";
import type { EnvelopeInput, StoreRulesView } from "../../src/relayer/storage/relayerStore.js";
import { evaluateEvent } from "../../src/rules/evaluateEvent.js";
import { DEFAULT_POLICY } from "../../src/rules/policy.js";
import { STORES } from "../helpers/postgres.js";
import { captureLog } from "./helpers/captureLog.js";
import { publishEvent, queueUnchecked, readEvent } from "./helpers/siteEvents.js";
import { startTestChain, type TestChain } from "./helpers/testChain.js";
import { addSite, clientFor, startTestRelayer } from "./helpers/testRelayer.js";
import { handReady, testStores } from "./helpers/testStores.js";
import { startWebhookSink } from "./helpers/webhookSink.js";

const twei = (value: string) => parseUnits(value, 18);
const fresh = (): Address => privateKeyToAccount(generatePrivateKey()).address;
const scaled = (factor: bigint): RuleAmounts => DEFAULT_RULE_AMOUNTS.map((amount) => amount * factor);
const DELAY = 600;
const GRACE = 3_600;

const read = (eventId: string, user: Address) => readEvent(eventId, user, "p");
const buyReport = (eventId: string, user: Address, postId = "p"): SiteEventInput => ({
  eventId,
  type: "report_purchased",
  occurredAt: 3,
  user,
  postId,
});

for (const store of STORES) {
  describe(`relayer rule-set versions on ${store}: priced as announced, settled under the version accepted`, function () {
    let chain: TestChain;
    const stores = testStores(store);

    before(async function () {
      chain = await startTestChain({ changeDelay: DELAY, ruleSetGrace: GRACE });
      await stores.start();
    });
    after(async function () {
      await chain?.stop();
      await stores.stop();
    });

    const passTime = async (seconds: number) => {
      await chain.rpc("evm_increaseTime", [seconds]);
      await chain.rpc("evm_mine");
    };
    const schedule = async (amounts: RuleAmounts) => {
      const hash = await chain.admin.writeContract({
        address: chain.deployed.ledger,
        abi: tweiLedgerAbi,
        functionName: "scheduleRuleSet",
        args: [amounts, DEFAULT_UNIT_BOUNDS],
      } as never);
      await chain.publicClient.waitForTransactionReceipt({ hash });
    };
    const inForce = () =>
      chain.publicClient.readContract({
        address: chain.deployed.ledger,
        abi: tweiLedgerAbi,
        functionName: "versionsInForce",
      });
    /** The versions the relayer's settled batches for the site named, in block order (the seeder's ids start at 2^63). */
    const settledVersions = async (siteId: number) => {
      const logs = await chain.publicClient.getContractEvents({
        address: chain.deployed.ledger,
        abi: tweiLedgerAbi,
        eventName: "BatchSettled",
        args: { siteId },
        fromBlock: 0n,
      });
      return logs.filter((log) => (log.args.batchId ?? 0n) < 2n ** 63n).map((log) => log.args.ruleSetVersion);
    };

    it("shows an announced rule set before it takes effect, and settles events accepted before it at the prices they were accepted under", async function () {
      const testStore = await stores.fresh("announced");
      const hooks = await startWebhookSink();
      const site = await addSite(chain, testStore.dataDir, 50, { ...testStore.config, webhookUrl: hooks.url });
      const author = chain.user(10);
      await chain.seed(50, [{ account: author.address, kind: ActionKind.CommentRewards, units: 6 }]);
      await chain.approveLedger(author);
      const authorFunds = await chain.balanceOf(author.address);
      const relayer = await startTestRelayer(chain, testStore.dataDir, testStore.byHand({ ruleSetTtlMs: 0 }));
      await handReady(relayer);
      const readers = [fresh(), fresh(), fresh()] as const;
      try {
        const client = clientFor(chain, relayer.url, site);
        const rules = () => client.rules() as unknown as Promise<GetRulesReturnType>;
        const before = await rules();
        expect(before.current.version).to.equal(1);
        expect(before.scheduled).to.equal(null);
        expect(before.previous).to.equal(null);
        expect(before.ruleSetGrace).to.equal(GRACE);
        expect(before.current.kinds[ActionKind.ReadToEarn]).to.deep.include({
          label: "Read-to-Earn",
          amount: twei("1").toString(),
          maxUnits: 10_000,
        });

        await client.sendEvents([publishEvent("pub", author.address, "p"), read("r1", readers[0])]);
        await schedule(scaled(2n));
        const announcedAt = (await chain.publicClient.getBlock()).timestamp;

        // Announced: visible through the relayer, not yet in force; events are still priced under version 1.
        const announced = await rules();
        expect(announced.current.version).to.equal(1);
        expect(announced.scheduled).to.deep.include({
          version: 2,
          effectiveAt: (announcedAt + BigInt(DELAY)).toString(),
        });
        expect(announced.scheduled?.kinds[ActionKind.ReadToEarn]?.amount).to.equal(twei("2").toString());
        expect((await client.sendEvents([read("r2", readers[1])])).ruleSetVersion).to.equal(1);

        await passTime(DELAY + 1);
        const switched = await rules();
        expect(switched.current.version).to.equal(2);
        expect(switched.scheduled).to.equal(null);
        expect(switched.previous).to.deep.include({ version: 1 });
        expect(BigInt(switched.previous?.graceEndsAt ?? 0)).to.equal(announcedAt + BigInt(DELAY + GRACE));
        expect((await client.sendEvents([read("r3", readers[2])])).ruleSetVersion).to.equal(2);
        expect((await client.event("r2")).ruleSetVersion).to.equal(1);
        expect((await client.event("r3")).ruleSetVersion).to.equal(2);

        await relayer.batcher.tick();

        // One batch per version, oldest first: version 1 during its grace, then version 2.
        for (const eventId of ["pub", "r1", "r2", "r3"])
          expect((await client.event(eventId)).status).to.equal("settled");
        expect(await settledVersions(50)).to.deep.equal([1, 2]);
        expect(await chain.balanceOf(readers[0])).to.equal(twei("1"));
        expect(await chain.balanceOf(readers[1])).to.equal(twei("1"));
        expect(await chain.balanceOf(readers[2])).to.equal(twei("2"));
        expect(await chain.balanceOf(author.address)).to.equal(authorFunds - twei("5")); // published at version 1's price
        expect((await client.event("r1")).ruleSetVersion).to.equal(1);

        // The site hears each amount as settled, with the version it was priced under.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        const settled = new Map(hooks.of("event.settled").map((payload) => [payload.eventId, payload]));
        expect(settled.get("r2")).to.deep.include({ ruleSetVersion: 1 });
        expect((settled.get("r2")?.actions as { amount: string }[])[0]?.amount).to.equal(twei("1").toString());
        expect(settled.get("r3")).to.deep.include({ ruleSetVersion: 2 });
        expect((settled.get("r3")?.actions as { amount: string }[])[0]?.amount).to.equal(twei("2").toString());
      } finally {
        await relayer.stop();
        await hooks.close();
      }
    });

    it("prices pending events anew, reservations included, once the grace of the rule set they were accepted under has ended", async function () {
      const testStore = await stores.fresh("expired");
      const site = await addSite(chain, testStore.dataDir, 51, testStore.config);
      const author = chain.user(11);
      const buyer = chain.user(12);
      await chain.seed(51, [
        { account: author.address, kind: ActionKind.CommentRewards, units: 6 },
        { account: buyer.address, kind: ActionKind.CommentRewards, units: 5 },
      ]);
      await chain.approveLedger(author);
      await chain.approveLedger(buyer);
      const buyerFunds = await chain.balanceOf(buyer.address);
      const capture = captureLog();
      const relayer = await startTestRelayer(
        chain,
        testStore.dataDir,
        testStore.byHand({ ruleSetTtlMs: 0, logger: capture.log }),
      );
      await handReady(relayer);
      const reader = fresh();
      try {
        const client = clientFor(chain, relayer.url, site);
        await client.sendEvents([publishEvent("pub", author.address, "p")]);
        await relayer.batcher.tick();
        expect((await client.event("pub")).status).to.equal("settled");

        const [accepted] = await inForce();
        const factor = BigInt(accepted); // version n is the default amounts times n in this suite
        await client.sendEvents([read("r", reader), buyReport("buy", buyer.address)]);
        const user = async (account: Address) =>
          (await fetch(`${relayer.url}/v1/users/${account}`)).json() as Promise<Record<string, string>>;
        expect((await user(buyer.address)).pendingSpends).to.equal((twei("1") * factor).toString());

        // Announced, in force, and past its grace before the relayer cut them.
        await schedule(scaled(factor + 1n));
        await passTime(DELAY + GRACE + 1);
        const [current, previous] = await inForce();
        expect([current, previous]).to.deep.equal([accepted + 1, 0]);

        await relayer.batcher.tick();

        for (const eventId of ["r", "buy"]) {
          const event = await client.event(eventId);
          expect(event.status).to.equal("settled");
          expect(event.ruleSetVersion).to.equal(current);
        }
        expect((await settledVersions(51)).at(-1)).to.equal(current);
        expect(await chain.balanceOf(reader)).to.equal(twei("1") * (factor + 1n));
        expect(await chain.balanceOf(buyer.address)).to.equal(buyerFunds - twei("1") * (factor + 1n));
        // Its reservations were priced anew with it: nothing is left reserved once it settled.
        const after = await user(buyer.address);
        expect([after.pendingSpends, after.pendingEarnings]).to.deep.equal(["0", "0"]);
        expect(
          capture.said(
            "pending events priced anew: the rule set they were accepted under is no longer taken by the ledger",
          ),
        ).to.equal(1);
        const metrics = await (await fetch(`${relayer.url}/metrics`)).text();
        expect(metrics).to.match(/twei_relayer_events_repriced_total 2/);
      } finally {
        await relayer.stop();
      }
    });

    it("settles the events after a refused run of one version in their own batch, under their own version", async function () {
      const testStore = await stores.fresh("refused");
      const site = await addSite(chain, testStore.dataDir, 52, testStore.config);
      const author = chain.user(13);
      await chain.seed(52, [{ account: author.address, kind: ActionKind.CommentRewards, units: 6 }]);
      await chain.approveLedger(author);
      let relayer = await startTestRelayer(chain, testStore.dataDir, testStore.byHand({ ruleSetTtlMs: 0 }));
      await handReady(relayer);
      const reader = fresh();
      try {
        await clientFor(chain, relayer.url, site).sendEvents([publishEvent("pub", author.address, "p")]);
        await relayer.batcher.tick();
        const [before] = await inForce();
        // An older relayer let a read paid to the zero address in, priced under the version in force.
        await relayer.stop();
        await queueUnchecked(testStore, 52, read("zero", zeroAddress), 7n, before);
        await schedule(scaled(BigInt(before) + 1n));
        await passTime(DELAY + 1);
        relayer = await startTestRelayer(chain, testStore.dataDir, testStore.byHand({ ruleSetTtlMs: 0 }));
        await handReady(relayer);
        const client = clientFor(chain, relayer.url, site);
        expect((await client.sendEvents([read("r", reader)])).ruleSetVersion).to.equal(before + 1);

        await relayer.batcher.tick();

        expect((await client.event("zero")).failure).to.deep.include({ code: "ledger_zero_address" });
        const event = await client.event("r");
        expect([event.status, event.ruleSetVersion]).to.deep.equal(["settled", before + 1]);
        expect(await chain.balanceOf(reader)).to.equal(twei("1") * BigInt(before + 1));
        expect((await settledVersions(52)).at(-1)).to.equal(before + 1);
      } finally {
        await relayer.stop();
      }
    });

    it("reprices in the store: a spend check counts the new reservations at once", async function () {
      const testStore = await stores.fresh("reprice");
      const relayerStore = testStore.open();
      const BUYER = "0x00000000000000000000000000000000000000b2";
      const AUTHOR = "0x00000000000000000000000000000000000000a1";
      const funds = twei("1.2");
      const priceUnder = (amounts: RuleAmounts) => (action: AccountAction) =>
        amountFor(amounts, action.kind, action.units);
      const evaluateUnder =
        (amounts: RuleAmounts) => (event: Parameters<typeof evaluateEvent>[0]["event"], view: StoreRulesView) =>
          evaluateEvent({
            siteId: 1,
            event,
            policy: DEFAULT_POLICY,
            amounts,
            state: {
              ...view,
              earned: (account) => view.earned(account),
              spendable: (account) =>
                (account.toLowerCase() === BUYER ? funds : twei("1000")) - view.pendingBurns(account),
            },
          });
      const envelope = (nonce: bigint, version: number, inputs: SiteEventInput[]): EnvelopeInput => {
        const events = inputs.map((input) => siteEventSchema.parse(input));
        return {
          siteId: 1,
          nonce,
          eventsHash: hashEvents(events.map(hashSiteEvent)),
          digest: `0x${nonce.toString(16).padStart(64, "0")}`,
          signature: "0x00",
          receivedAt: Date.now(),
          acceptedAtBlock: 1n,
          ruleSetVersion: version,
          events: events.map((event) => ({ event, eventHash: hashSiteEvent(event) })),
        };
      };
      const cheaper: RuleAmounts = DEFAULT_RULE_AMOUNTS.map((amount) => amount / 2n);
      try {
        if (relayerStore.lease) expect(await relayerStore.lease.tryAcquire()).to.equal(true);
        const v1 = [evaluateUnder(DEFAULT_RULE_AMOUNTS), priceUnder(DEFAULT_RULE_AMOUNTS)] as const;
        const publish = {
          eventId: "pub",
          type: "post_published",
          occurredAt: 1,
          user: AUTHOR,
          postId: "p",
          wordCount: 300,
        } as const;
        await relayerStore.acceptEnvelope(envelope(1n, 1, [publish]), ...v1);
        const [first] = await relayerStore.acceptEnvelope(envelope(2n, 1, [buyReport("buy-1", BUYER)]), ...v1);
        expect(first?.status).to.equal("accepted");
        expect((await relayerStore.accountTotals(BUYER)).pendingBurns).to.equal(twei("1"));

        // Version 2 halves every price: the pending report now reserves 0.5 Twei.
        expect(await relayerStore.repriceEvents(1, 2, priceUnder(cheaper))).to.equal(2);
        expect(await relayerStore.repriceEvents(1, 2, priceUnder(cheaper))).to.equal(0);
        expect((await relayerStore.accountTotals(BUYER)).pendingBurns).to.equal(twei("0.5"));
        expect((await relayerStore.event(1, "buy-1"))?.ruleSetVersion).to.equal(2);

        // 1.2 Twei of funds less 0.5 reserved covers a second report at 0.5 (less 1 would not).
        const [second] = await relayerStore.acceptEnvelope(
          envelope(3n, 2, [buyReport("buy-2", BUYER)]),
          evaluateUnder(cheaper),
          priceUnder(cheaper),
        );
        expect(second?.status).to.equal("accepted");
        expect((await relayerStore.accountTotals(BUYER)).pendingBurns).to.equal(twei("1"));
        const [third] = await relayerStore.acceptEnvelope(
          envelope(4n, 2, [buyReport("buy-3", BUYER)]),
          evaluateUnder(cheaper),
          priceUnder(cheaper),
        );
        expect(third).to.include({ status: "rejected", code: "insufficient_funds" });
      } finally {
        await relayerStore.close();
      }
    });
  });
}
