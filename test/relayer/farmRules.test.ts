import { expect } from "chai";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import { parseUnits, type Address, type Hex } from "viem";
import { ActionKind } from "../../src/core/kinds.js";
import { earnedForLevel } from "../../src/core/levels.js";
import { DEFAULT_RULE_AMOUNTS, amountFor } from "../../src/core/ruleSet.js";
import { hashEvents, hashSiteEvent } from "../../src/evidence/encodeSiteEvent.js";
import { siteEventSchema, type SiteEventInput } from "../../src/evidence/siteEvent.js";
import type { EnvelopeInput, EventFate, RelayerStore, StoreRulesView } from "../../src/relayer/storage/relayerStore.js";
import { evaluateEvent } from "../../src/rules/evaluateEvent.js";
import { DEFAULT_POLICY, utcDayOf, type RulePolicy } from "../../src/rules/policy.js";
import { keys } from "../../src/rules/rulesState.js";
import { STORES } from "../helpers/postgres.js";
import { pgQuery, testStores, type TestStore } from "./helpers/testStores.js";

// The rules of policy version 3 (issue 22) on the relayer's own rules state: every daily budget,
// tally and marker they read is the store's, across envelopes, on SQLite and PostgreSQL.
const SITE = 1;
const DAY = 1_700_006_400; // 01:00 UTC
const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Address;
const AUTHOR = addr(0xa1);
const COMMENTER = addr(0xc3);
const twei = (value: string) => parseUnits(value, 18);

let nonce = 0n;
const envelope = (inputs: SiteEventInput[]): EnvelopeInput => {
  const events = inputs.map((input) => siteEventSchema.parse(input));
  nonce++;
  return {
    siteId: SITE,
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
const evaluatorFor =
  (policy: RulePolicy) => (event: Parameters<typeof evaluateEvent>[0]["event"], view: StoreRulesView) =>
    evaluateEvent({
      siteId: SITE,
      event,
      policy,
      amounts: DEFAULT_RULE_AMOUNTS,
      state: { ...view, spendable: (account) => twei("1000") - view.pendingBurns(account) },
    });
const price = (action: { kind: number; units: number }) =>
  amountFor(DEFAULT_RULE_AMOUNTS, action.kind as never, action.units);

let ids = 0;
const id = () => `e${++ids}`;
const publish = (postId: string): SiteEventInput => ({
  eventId: id(),
  type: "post_published",
  user: AUTHOR,
  postId,
  occurredAt: DAY,
  wordCount: 200,
});
const read = (user: Address, postId: string, occurredAt = DAY): SiteEventInput => ({
  eventId: id(),
  type: "post_read",
  user,
  postId,
  occurredAt,
  secondsRead: 60,
});
const comment = (commentId: string, user = COMMENTER): SiteEventInput => ({
  eventId: id(),
  type: "comment_created",
  user,
  postId: "p0",
  occurredAt: DAY,
  commentId,
  length: 5,
});
const like = (user: Address, commentId: string): SiteEventInput => ({
  eventId: id(),
  type: "comment_liked",
  user,
  postId: "p0",
  occurredAt: DAY,
  commentId,
});
const plus = (user: Address, postId: string): SiteEventInput => ({
  eventId: id(),
  type: "post_plus",
  user,
  postId,
  occurredAt: DAY,
});

for (const kind of STORES)
  describe(`relayer rules state of policy version 3 on ${kind}`, function () {
    this.timeout(60_000);
    const stores = testStores(kind);
    before(() => stores.start());
    after(() => stores.stop());

    /** A fresh store with posts p0..p9 and comment c0, and `earned` written as settlement would. */
    async function world(label: string, earned: Record<Address, bigint> = {}, policy = DEFAULT_POLICY) {
      const testStore = await stores.fresh(label);
      let store = testStore.open();
      await store.pendingCount(); // the schema exists
      await setEarned(testStore, earned);
      let evaluate = evaluatorFor(policy);
      const send = async (...inputs: SiteEventInput[]): Promise<EventFate[]> =>
        store.acceptEnvelope(envelope(inputs), evaluate, price);
      await send(...Array.from({ length: 10 }, (_, p) => publish(`p${p}`)), comment("c0"));
      return {
        testStore,
        get store(): RelayerStore {
          return store;
        },
        send,
        async one(input: SiteEventInput): Promise<EventFate> {
          const [fate] = await send(input);
          return fate!;
        },
        async reopen(next = policy) {
          await store.close();
          store = testStore.open();
          evaluate = evaluatorFor(next);
        },
      };
    }

    async function setEarned(testStore: TestStore, earned: Record<Address, bigint>) {
      for (const [account, amount] of Object.entries(earned)) {
        if (testStore.databaseUrl)
          await pgQuery(testStore.databaseUrl, "INSERT INTO accounts (account, earned) VALUES ($1, $2)", [
            account,
            amount.toString(),
          ]);
        else {
          const db = new DatabaseSync(join(testStore.dataDir, "relayer.sqlite"));
          db.prepare("INSERT INTO accounts (account, earned) VALUES (?, ?)").run(account, amount.toString());
          db.close();
        }
      }
    }

    it("records the likes of fresh wallets that never read the post, paying nobody (with the note)", async function () {
      const w = await world("farm-likes");
      try {
        const fates = await w.send(...Array.from({ length: 20 }, (_, i) => like(addr(0x200 + i), "c0")));
        for (const fate of fates) {
          expect(fate).to.include({ status: "accepted", actions: 0 });
          expect(fate.status === "accepted" && fate.notes?.[0]).to.match(/^vote_not_earning: /);
        }
        expect((await w.store.accountTotals(COMMENTER)).pendingMints).to.equal(0n);
      } finally {
        await w.store.close();
      }
    });

    it("pays a like from a reader at the level, reading the read marker and level from the store in a later envelope", async function () {
      const reader = addr(0x301);
      const w = await world("reader-likes", { [reader]: earnedForLevel(2) });
      try {
        expect(await w.one(read(reader, "p0"))).to.include({ status: "accepted" });
        expect(await w.one(like(reader, "c0"))).to.deep.include({ status: "accepted", actions: 3 });
        // The author's level is read for their own limit: their Likes Author is paid.
        expect((await w.store.accountTotals(AUTHOR)).pendingMints).to.equal(
          amountFor(DEFAULT_RULE_AMOUNTS, ActionKind.LikesAuthor, 1),
        );
      } finally {
        await w.store.close();
      }
    });

    it("keeps the daily like and plus budgets across envelopes and a restart", async function () {
      const voter = addr(0x401);
      const w = await world("budgets", { [voter]: earnedForLevel(2) });
      try {
        const likes = DEFAULT_POLICY.maxLikesPerUserPerDay!;
        await w.send(...Array.from({ length: likes + 1 }, (_, c) => comment(`b${c}`, addr(0x500 + c))));
        for (let c = 0; c < likes; c++) expect(await w.one(like(voter, `b${c}`))).to.include({ status: "accepted" });
        await w.reopen();
        expect(await w.one(like(voter, `b${likes}`))).to.include({
          status: "rejected",
          code: "daily_like_budget_spent",
        });
        const pluses = DEFAULT_POLICY.maxPlusesPerUserPerDay;
        for (let p = 0; p < pluses; p++) expect(await w.one(plus(voter, `p${p}`))).to.include({ status: "accepted" });
        expect(await w.one(plus(voter, `p${pluses}`))).to.include({ status: "rejected", code: "daily_budget_spent" });
      } finally {
        await w.store.close();
      }
    });

    it("holds a fresh account to the ramp across envelopes (trimmed, then rejected), and a failed event gives its earnings back", async function () {
      const fresh = addr(0x601);
      const w = await world("ramp");
      try {
        for (let p = 0; p < 7; p++) expect(await w.one(read(fresh, `p${p}`))).to.include({ status: "accepted" });
        await w.reopen();
        const half = await w.one({ ...read(fresh, "p7"), secondsRead: 30 } as SiteEventInput);
        expect(half).to.include({ status: "accepted" });
        const trimmed = await w.one(read(fresh, "p8"));
        expect(trimmed.status === "accepted" && trimmed.notes).to.deep.equal([
          `new_account_ramp: Read-to-Earn trimmed from 10000 to 5000 bps: ${fresh} earned 7.5 of its 8 Twei for this UTC day`,
        ]);
        expect(await w.one(read(fresh, "p9"))).to.include({ status: "rejected", code: "new_account_ramp" });
        expect((await w.store.accountTotals(fresh)).pendingMints).to.equal(twei("8"));

        // The half read fails at settlement: its 0.5 Twei leave the day's tally.
        const stored = await w.store.event(SITE, half.eventId);
        // On PostgreSQL only the lease holder settles (and fails events).
        if (w.store.lease) expect(await w.store.lease.tryAcquire()).to.equal(true);
        await w.store.failEvents(SITE, [{ seq: stored!.seq, code: "test", message: "failed" }], () => null);
        const after = await w.one(read(fresh, "p9"));
        expect(after.status === "accepted" && after.notes).to.deep.equal([
          `new_account_ramp: Read-to-Earn trimmed from 10000 to 5000 bps: ${fresh} earned 7.5 of its 8 Twei for this UTC day`,
        ]);
        // Another UTC day starts a new tally.
        expect(await w.one(read(fresh, "p7", DAY + 86_400))).to.deep.include({ status: "accepted", actions: 1 });
        expect(keys.earnedOnDay(fresh, utcDayOf(DAY))).to.equal(`earn:${utcDayOf(DAY)}:${fresh}`);
      } finally {
        await w.store.close();
      }
    });

    it("holds a post's author to the per-user cap, reading the author's tally for another user's plus", async function () {
      const voters = Array.from({ length: 3 }, (_, i) => addr(0x700 + i));
      const policy: RulePolicy = { ...DEFAULT_POLICY, maxReadsEarnedPerUserPerDay: 1 };
      const w = await world(
        "author-cap",
        { [AUTHOR]: earnedForLevel(20), ...Object.fromEntries(voters.map((v) => [v, earnedForLevel(2)])) },
        policy,
      );
      try {
        for (const voter of voters) await w.one(read(voter, "p1"));
        // Two pluses of 0.5 Twei fill the author's 1 Twei; the third pays nobody.
        const fates = [];
        for (const voter of voters) fates.push(await w.one(plus(voter, "p1")));
        expect(fates.map((f) => f.status === "accepted" && f.actions)).to.deep.equal([1, 1, 0]);
        expect(fates[2]?.status === "accepted" && fates[2].notes).to.deep.equal([
          `daily_earning_cap: no Earned for Pluses: ${AUTHOR} earned 1 of its 1 Twei for this UTC day`,
        ]);
      } finally {
        await w.store.close();
      }
    });
  });
