import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "mocha";
import { parseUnits, type Hex } from "viem";
import { DEFAULT_RULE_AMOUNTS, amountFor } from "../../src/core/ruleSet.js";
import { hashEvents, hashSiteEvent } from "../../src/evidence/encodeSiteEvent.js";
import { siteEventSchema, type SiteEventInput } from "../../src/evidence/siteEvent.js";
import { createSqliteStore } from "../../src/relayer/storage/sqliteStore.js";
import type { EnvelopeInput, StoreRulesView } from "../../src/relayer/storage/relayerStore.js";
import { evaluateEvent } from "../../src/rules/evaluateEvent.js";
import { DEFAULT_POLICY } from "../../src/rules/policy.js";

const AUTHOR = "0x00000000000000000000000000000000000000a1";
const BUYER = "0x00000000000000000000000000000000000000b2";
// The buyer can afford one report (1 Twei), not two.
const BUYER_FUNDS = parseUnits("1.5", 18);

const envelope = (nonce: bigint, inputs: SiteEventInput[]): EnvelopeInput => {
  const events = inputs.map((input) => siteEventSchema.parse(input));
  return {
    siteId: 1,
    nonce,
    eventsHash: hashEvents(events.map(hashSiteEvent)),
    digest: `0x${nonce.toString(16).padStart(64, "0")}` as Hex,
    signature: "0x00",
    receivedAt: Date.now(),
    acceptedAtBlock: 1n,
    ruleSetVersion: 1,
    events: events.map((event) => ({ event, eventHash: hashSiteEvent(event) })),
  };
};

const evaluate = (event: Parameters<typeof evaluateEvent>[0]["event"], view: StoreRulesView) =>
  evaluateEvent({
    siteId: 1,
    event,
    policy: DEFAULT_POLICY,
    amounts: DEFAULT_RULE_AMOUNTS,
    state: {
      ...view,
      earned: (account) => view.earned(account),
      spendable: (account) =>
        (account.toLowerCase() === BUYER ? BUYER_FUNDS : parseUnits("1000", 18)) - view.pendingBurns(account),
    },
  });
const price = (action: Parameters<typeof amountFor>[2] extends never ? never : { kind: number; units: number }) =>
  amountFor(DEFAULT_RULE_AMOUNTS, action.kind as never, action.units);

describe("relayer store: group commit", function () {
  it("writes envelopes that arrive together in one transaction, counting each one's spends for the next", async function () {
    const dir = await mkdtemp(join(tmpdir(), "twei-group-commit-"));
    const store = createSqliteStore({ path: join(dir, "relayer.sqlite") });
    try {
      const publish = { eventId: "publish", type: "post_published", occurredAt: 1, user: AUTHOR, postId: "p" } as const;
      const [published] = await store.acceptEnvelope(envelope(1n, [{ ...publish, wordCount: 300 }]), evaluate, price);
      expect(published?.status).to.equal("accepted");

      // Two envelopes in flight at once, each buying a report: the second must see the first's
      // reserved tribute although neither is committed when it is checked.
      const buy = (id: string): SiteEventInput => ({
        eventId: id,
        type: "report_purchased",
        occurredAt: 2,
        user: BUYER,
        postId: "p",
      });
      const [first, second] = await Promise.all([
        store.acceptEnvelope(envelope(2n, [buy("buy-1")]), evaluate, price),
        store.acceptEnvelope(envelope(3n, [buy("buy-2")]), evaluate, price),
      ]);
      expect([first?.[0]?.status, second?.[0]?.status]).to.deep.equal(["accepted", "rejected"]);
      expect(second?.[0]).to.include({ code: "insufficient_funds" });
      expect((await store.accountTotals(BUYER)).pendingBurns).to.equal(parseUnits("1", 18));

      // A failing envelope in the group (a reused nonce with other events) fails alone.
      const results = await Promise.allSettled([
        store.acceptEnvelope(envelope(2n, [buy("buy-3")]), evaluate, price),
        store.acceptEnvelope(
          envelope(4n, [{ ...publish, eventId: "publish-2", postId: "q", wordCount: 10 }]),
          evaluate,
          price,
        ),
      ]);
      expect(results[0].status).to.equal("rejected");
      expect(results[1].status === "fulfilled" && results[1].value[0]?.status).to.equal("accepted");
      expect(await store.event(1, "buy-3")).to.equal(undefined);
      expect((await store.event(1, "publish-2"))?.eventId).to.equal("publish-2");
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
  it("counts the spends of envelopes accepted earlier (written, not yet settled) in the next one's check", async function () {
    const dir = await mkdtemp(join(tmpdir(), "twei-reservations-"));
    const store = createSqliteStore({ path: join(dir, "relayer.sqlite") });
    try {
      const publish = { eventId: "publish", type: "post_published", occurredAt: 1, user: AUTHOR, postId: "p" } as const;
      await store.acceptEnvelope(envelope(1n, [{ ...publish, wordCount: 300 }]), evaluate, price);
      const buy = (id: string): SiteEventInput => ({
        eventId: id,
        type: "report_purchased",
        occurredAt: 2,
        user: BUYER,
        postId: "p",
      });
      // One after the other, each in its own transaction: the first's reservation is committed
      // when the second is checked, and the chain's balance does not show it yet.
      const [first] = await store.acceptEnvelope(envelope(2n, [buy("buy-1")]), evaluate, price);
      const [second] = await store.acceptEnvelope(envelope(3n, [buy("buy-2")]), evaluate, price);
      expect([first?.status, second?.status]).to.deep.equal(["accepted", "rejected"]);
      expect(second).to.include({ code: "insufficient_funds" });
      expect((await store.accountTotals(BUYER)).pendingBurns).to.equal(parseUnits("1", 18));
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
