import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import type { Address } from "viem";
import { applyReaderBeat, readingOf, type Beat, type ReaderBeat } from "../../src/site/core/readingMeter.js";
import { openSiteStore } from "../../src/site/store/openSiteStore.js";
import type { BeatView, SiteStore, StoreBounds } from "../../src/site/store/siteStore.js";
import { STORES, testDatabase } from "../helpers/postgres.js";

const alice = "0x00000000000000000000000000000000000A11CE" as Address;
const bob = "0x0000000000000000000000000000000000000B0B" as Address;
const carol = "0x00000000000000000000000000000000000CA201" as Address;
const T = 1_800_000_000_000;
const present = { visible: true, focused: true, active: true };
const meterOptions = { heartbeatMs: 5_000, idleAfterMs: 60_000 };

/** One heartbeat of `reader` on `slug` at `at` from `ip`, applied by the meter's pure rules. */
const beatAt = (
  store: SiteStore,
  reader: Address,
  slug: string,
  at: number,
  options: { seconds?: number; beat?: Beat; ip?: string; apply?: (view: BeatView) => ReaderBeat | undefined } = {},
) =>
  store.beat(
    { reader, slug, ip: options.ip ?? "192.0.2.1", at, runningSince: at - 15_000 },
    options.apply ??
      ((view) => applyReaderBeat(view, slug, options.beat ?? present, at, options.seconds ?? 60, meterOptions)),
  );

// One contract, both engines: every test runs against SQLite and PostgreSQL, and "two site
// processes" are two stores opened on the same database.
for (const kind of STORES) {
  describe(`the site kit's store on ${kind}`, function () {
    this.timeout(120_000);
    let dir: string;
    let db: Awaited<ReturnType<typeof testDatabase>>;
    let n = 0;
    const opened: SiteStore[] = [];

    before(async function () {
      dir = await mkdtemp(join(tmpdir(), "twei-site-store-"));
      db = await testDatabase(kind, "site");
    });
    after(async function () {
      for (const store of opened) await store.close().catch(() => undefined);
      await db?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    /** A fresh database (a new file, or a new PostgreSQL database), opened `count` times. */
    async function fresh(
      count = 1,
      bounds?: StoreBounds,
    ): Promise<{ stores: SiteStore[]; reopen(): Promise<SiteStore> }> {
      n += 1;
      const target =
        kind === "sqlite"
          ? { path: join(dir, `site-${n}.sqlite`) }
          : { databaseUrl: await db!.server.createDatabase(`site_${n}`) };
      const open = async () => {
        const store = await openSiteStore({ ...target, ...(bounds ? { bounds } : {}) });
        opened.push(store);
        return store;
      };
      const stores: SiteStore[] = [];
      for (let i = 0; i < count; i++) stores.push(await open());
      return { stores, reopen: open };
    }

    it("takes a nonce once, even when two processes race for it, and never after it expired", async function () {
      const { stores } = await fresh(2);
      const [a, b] = stores as [SiteStore, SiteStore];
      await a.issueNonce({ nonce: "n1", address: alice, message: "m1", expiresAt: T + 60_000 });
      const takes = await Promise.all([...Array(6)].map((_, i) => (i % 2 ? a : b).takeNonce("n1", T)));
      expect(takes.filter(Boolean)).to.have.length(1);
      expect(takes.find(Boolean)).to.deep.equal({ nonce: "n1", address: alice, message: "m1", expiresAt: T + 60_000 });
      await a.issueNonce({ nonce: "n2", address: alice, message: "m2", expiresAt: T - 1 });
      expect(await b.takeNonce("n2", T)).to.equal(undefined);
      expect(await b.takeNonce("unknown", T)).to.equal(undefined);
    });

    it("keeps at most maxNonces (the oldest go) and sessions per address (the oldest go)", async function () {
      const { stores } = await fresh(1, { maxNonces: 3, maxSessionsPerAddress: 2, meterIdleMs: 1_000 });
      const store = stores[0]!;
      for (let i = 1; i <= 5; i++)
        await store.issueNonce({ nonce: `n${i}`, address: alice, message: `m${i}`, expiresAt: T + i });
      expect(await store.takeNonce("n1", T)).to.equal(undefined);
      expect(await store.takeNonce("n2", T)).to.equal(undefined);
      for (const i of [3, 4, 5]) expect((await store.takeNonce(`n${i}`, T))?.message).to.equal(`m${i}`);

      for (let i = 1; i <= 3; i++)
        await store.createSession({ idHash: `s${i}`, address: alice, createdAt: T + i, expiresAt: T + 10_000 });
      await store.createSession({ idHash: "bob", address: bob, createdAt: T, expiresAt: T + 10_000 });
      expect(await store.session("s1", T)).to.equal(undefined);
      expect((await store.session("s2", T))?.address).to.equal(alice);
      expect((await store.session("s3", T))?.address).to.equal(alice);
      expect((await store.session("bob", T))?.address).to.equal(bob);
    });

    it("ends sessions, refuses expired ones, and purges what expired or idled", async function () {
      const { stores } = await fresh(1, { maxNonces: 100, maxSessionsPerAddress: 5, meterIdleMs: 1_000 });
      const store = stores[0]!;
      await store.createSession({ idHash: "live", address: alice, createdAt: T, expiresAt: T + 1_000 });
      await store.createSession({ idHash: "old", address: bob, createdAt: T, expiresAt: T - 1 });
      await store.createSession({ idHash: "ended", address: bob, createdAt: T, expiresAt: T + 1_000 });
      await store.endSession("ended");
      expect((await store.session("live", T))?.address).to.equal(alice);
      expect(await store.session("old", T)).to.equal(undefined);
      expect(await store.session("ended", T)).to.equal(undefined);
      await store.issueNonce({ nonce: "stale", address: alice, message: "m", expiresAt: T - 1 });
      await beatAt(store, bob, "idle", T - 5_000);
      await beatAt(store, alice, "fresh", T);
      // A newcomer's reading day as old as an idle meter goes with it (the hold counts again).
      await store.noteReadingDay(carol, 1, T - 5_000);
      await store.noteReadingDay(alice, 2, T);
      // the nonce, the old session, the idle meter, its reader's clock and the old reading day
      expect(await store.purgeExpired(T)).to.equal(5);
      expect(await store.readingHistory(carol)).to.deep.equal({ days: 0, firstAt: null });
      expect(await store.readingHistory(alice)).to.deep.equal({ days: 1, firstAt: T });
      expect(await store.meter(alice, "idle")).to.equal(undefined);
      expect(await store.meter(alice, "fresh")).to.not.equal(undefined);
    });

    it("applies heartbeats one at a time: each apply sees what the previous one wrote, across processes", async function () {
      const { stores } = await fresh(2);
      const [a, b] = stores as [SiteStore, SiteStore];
      await beatAt(a, alice, "post", T, { seconds: 600 });
      // Eight beats at once from two processes, each crediting one more second: none is lost.
      const credit = ({ meter, clock }: BeatView): ReaderBeat => ({
        meter: { ...meter!, creditedMs: meter!.creditedMs + 1_000 },
        clock: clock!,
      });
      await Promise.all([...Array(8)].map((_, i) => beatAt(i % 2 ? a : b, alice, "post", T, { apply: credit })));
      expect(readingOf((await b.meter(alice, "post"))!).seconds).to.equal(8);
      expect(await a.meter(bob, "post")).to.equal(undefined);
    });

    it("keeps one clock per reader: four posts beating side by side from two processes earn the time once", async function () {
      const { stores } = await fresh(2);
      const [a, b] = stores as [SiteStore, SiteStore];
      const posts = ["p1", "p2", "p3", "p4"];
      // Four "tabs" of one wallet on four devices (four IPs), one per post, each beating every 5 s
      // for a minute, all at once.
      for (let t = 0; t <= 60_000; t += 5_000)
        await Promise.all(
          posts.map((slug, i) => beatAt(i % 2 ? a : b, alice, slug, T + t, { seconds: 600, ip: `192.0.2.${10 + i}` })),
        );
      let total = 0;
      for (const slug of posts) total += (await a.meter(alice, slug))!.creditedMs;
      expect(total).to.be.at.most(60_000);
      expect(total).to.be.at.least(55_000);
      // Another reader's clock is their own.
      await beatAt(b, bob, "p1", T);
      await beatAt(b, bob, "p1", T + 5_000);
      expect(readingOf((await a.meter(bob, "p1"))!).seconds).to.equal(5);
    });

    it("counts other readers beating from an IP, and never applies a beat to a closed meter", async function () {
      const { stores } = await fresh(2);
      const [a, b] = stores as [SiteStore, SiteStore];
      await beatAt(a, alice, "p", T, { ip: "198.51.100.7" });
      await beatAt(b, bob, "q", T + 1_000, { ip: "198.51.100.7" });
      const seen: number[] = [];
      const look = (view: BeatView) => {
        seen.push(view.othersRunningOnIp);
        return undefined;
      };
      const refused = await beatAt(a, carol, "p", T + 2_000, { ip: "198.51.100.7", apply: look });
      expect(refused.applied).to.equal(false);
      await beatAt(a, carol, "p", T + 20_000, { ip: "198.51.100.7", apply: look }); // their beats are over 15 s old
      await beatAt(a, alice, "p", T + 2_000, { ip: "198.51.100.7", apply: look }); // alice herself is not counted
      expect(seen).to.deep.equal([2, 0, 1]);
      expect(await a.meter(carol, "p")).to.equal(undefined);

      await beatAt(a, alice, "p", T + 5_000, { ip: "198.51.100.7" });
      await a.closeMeter(alice, "p", T + 6_000);
      const after = await beatAt(b, alice, "p", T + 10_000, { ip: "198.51.100.7" });
      expect(after).to.deep.include({ closed: true, applied: false });
      expect(readingOf(after.meter!).seconds).to.equal(5);
    });

    it("lists idle open meters above a fraction of their time to read, oldest first; closed ones never", async function () {
      const { stores } = await fresh(1);
      const store = stores[0]!;
      const read = async (reader: Address, slug: string, from: number, seconds: number) => {
        for (let t = 0; t <= seconds * 1_000; t += 5_000)
          await beatAt(store, reader, slug, from + t, { ip: "203.0.113.9" });
      };
      await read(alice, "half", T, 30); // 30 s of 60: 50 %
      await read(alice, "brief", T + 100_000, 5); // 5 s of 60: below 20 %
      await read(bob, "full", T - 100_000, 60); // complete, still open (its send was held)
      await read(carol, "late", T + 500_000, 30);
      const idle = await store.idleMeters(T + 400_000, 2_000, 10, T + 400_000);
      expect(idle.map((m) => [m.reader, m.slug])).to.deep.equal([
        [bob, "full"],
        [alice, "half"],
      ]);
      expect(idle[1]).to.deep.include({ ip: "203.0.113.9" });
      expect(readingOf(idle[1]!.meter).seconds).to.equal(30);
      expect((await store.idleMeters(T + 400_000, 2_000, 1, T + 400_000)).map((m) => m.slug)).to.deep.equal(["full"]);
      await store.closeMeter(bob, "full", T + 400_000);
      expect((await store.idleMeters(T + 400_000, 2_000, 10, T + 400_000)).map((m) => m.slug)).to.deep.equal(["half"]);
      expect((await store.idleMeters(T + 400_000, 500, 10, T + 400_000)).map((m) => m.slug)).to.deep.equal([
        "half",
        "brief",
      ]);
    });

    it("leaves a held meter out of the idle list until its hold is over, so held reads never crowd the sweep", async function () {
      const { stores } = await fresh(2);
      const [a, b] = stores as [SiteStore, SiteStore];
      for (let t = 0; t <= 30_000; t += 5_000) await beatAt(a, alice, "held", T + t);
      for (let t = 0; t <= 30_000; t += 5_000) await beatAt(a, bob, "other", T + 50_000 + t);
      const idle = async (now: number) => (await b.idleMeters(T + 400_000, 2_000, 1, now)).map((m) => m.reader);
      expect(await idle(T + 400_000)).to.deep.equal([alice]);
      // Held until T + 1_000_000: the sweep's one candidate is the next meter, seen by another process too.
      await a.holdMeter(alice, "held", T + 1_000_000);
      expect(await idle(T + 400_000)).to.deep.equal([bob]);
      expect(await idle(T + 1_000_000)).to.deep.equal([alice]);
      // A closed meter is never held again (nothing to send).
      await a.closeMeter(bob, "other", T + 400_000);
      await a.holdMeter(bob, "other", T + 2_000_000);
      expect(await b.idleMeters(T + 400_000, 2_000, 10, T + 1_000_000)).to.have.length(1);
    });

    it("counts a reader's reading days once per UTC day, across processes, with the first time kept", async function () {
      const { stores, reopen } = await fresh(2);
      const [a, b] = stores as [SiteStore, SiteStore];
      expect(await a.readingHistory(alice)).to.deep.equal({ days: 0, firstAt: null });
      const day = Math.floor(T / 86_400_000);
      await Promise.all([a.noteReadingDay(alice, day, T), b.noteReadingDay(alice, day, T + 5_000)]);
      await a.noteReadingDay(alice, day, T + 9_000);
      expect(await b.readingHistory(alice)).to.deep.equal({ days: 1, firstAt: T });
      await b.noteReadingDay(alice, day + 1, T + 86_400_000);
      await a.noteReadingDay(bob, day + 1, T + 86_400_000);
      expect(await (await reopen()).readingHistory(alice)).to.deep.equal({ days: 2, firstAt: T });
      expect(await a.readingHistory(bob)).to.deep.equal({ days: 1, firstAt: T + 86_400_000 });
    });

    it("takes per-IP allowances up to the limit in a window, even when processes race", async function () {
      const { stores } = await fresh(2);
      const [a, b] = stores as [SiteStore, SiteStore];
      const takes = await Promise.all(
        [...Array(10)].map((_, i) => (i % 2 ? a : b).takeIpAllowance("192.0.2.5", "read", T, 3)),
      );
      expect(takes.filter(Boolean)).to.have.length(3);
      expect(await a.takeIpAllowance("192.0.2.5", "read", T + 3_600_000, 3)).to.equal(true); // the next window
      expect(await a.takeIpAllowance("192.0.2.5", "new_account", T, 3)).to.equal(true); // another kind
      expect(await a.takeIpAllowance("192.0.2.6", "read", T, 3)).to.equal(true); // another IP
      expect(await a.takeIpAllowance("192.0.2.7", "read", T, 0)).to.equal(false);
    });

    it("admits known accounts always and new ones up to the IP's allowance for the day", async function () {
      const { stores } = await fresh(2);
      const [a, b] = stores as [SiteStore, SiteStore];
      const fresh50 = [...Array(12)].map((_, i) => `0x${(i + 1).toString(16).padStart(40, "0")}` as Address);
      const admitted = await Promise.all(
        fresh50.map((address, i) => (i % 2 ? a : b).admitAccount(address, "192.0.2.8", T, 5, T)),
      );
      expect(admitted.filter(Boolean)).to.have.length(5);
      const known = fresh50[admitted.indexOf(true)]!;
      expect(await b.admitAccount(known, "192.0.2.8", T, 5, T + 1)).to.equal(true); // known: always
      expect(await b.admitAccount(fresh50[admitted.indexOf(false)]!, "192.0.2.8", T, 5, T + 1)).to.equal(false);
      expect(await b.admitAccount(fresh50[admitted.indexOf(false)]!, "192.0.2.9", T, 5, T + 1)).to.equal(true);
      expect(await a.admitAccount(alice, "192.0.2.8", T + 86_400_000, 5, T + 86_400_000)).to.equal(true); // next day
    });

    it("claims an event id once across processes; a rejected or stale claim may be taken again, an accepted one never", async function () {
      const { stores } = await fresh(2);
      const [a, b] = stores as [SiteStore, SiteStore];
      const claim = {
        eventId: "vote:p:alice",
        user: alice,
        kind: "vote" as const,
        slug: "p",
        detail: "plus",
        claimedAt: T,
      };
      const wins = await Promise.all([...Array(6)].map((_, i) => (i % 2 ? a : b).claimEvent(claim, T - 30_000)));
      expect(wins.filter(Boolean)).to.have.length(1);
      expect(await a.sentEvent(claim.eventId)).to.equal(undefined); // in flight: no answer yet

      await a.recordAnswer(claim.eventId, {
        answer: "rejected",
        sentAt: T + 1,
        code: "daily_budget_spent",
        message: "no",
      });
      expect(await b.sentEvent(claim.eventId)).to.deep.equal({
        eventId: claim.eventId,
        sentAt: T + 1,
        answer: "rejected",
        detail: "plus",
        code: "daily_budget_spent",
        message: "no",
      });
      expect(await b.claimEvent({ ...claim, claimedAt: T + 2 }, T - 30_000)).to.equal(true);
      expect(await a.claimEvent({ ...claim, claimedAt: T + 3 }, T - 30_000)).to.equal(false); // held, not stale
      expect(await a.claimEvent({ ...claim, claimedAt: T + 40_000 }, T + 10)).to.equal(true); // stale: taken over
      await a.recordAnswer(claim.eventId, { answer: "accepted", sentAt: T + 40_001 });
      expect(await b.claimEvent({ ...claim, claimedAt: T + 99_000 }, T + 99_000)).to.equal(false);
      expect((await b.sentEvent(claim.eventId))?.answer).to.equal("accepted");

      const other = { ...claim, eventId: "vote:q:alice", slug: "q" };
      expect(await a.claimEvent(other, 0)).to.equal(true);
      await a.releaseClaim(other.eventId); // the relayer was unreachable: nothing was sent
      expect(await b.claimEvent(other, 0)).to.equal(true);
    });

    it("lists a user's answered events and counts accepted pluses and likes within a day", async function () {
      const { stores } = await fresh(1);
      const store = stores[0]!;
      const send = async (
        eventId: string,
        slug: string,
        detail: string,
        answer: "accepted" | "rejected",
        at: number,
      ) => {
        expect(await store.claimEvent({ eventId, user: alice, kind: "vote", slug, detail, claimedAt: at }, 0)).to.equal(
          true,
        );
        await store.recordAnswer(eventId, { answer, sentAt: at });
      };
      await send("v1", "p1", "plus", "accepted", T);
      await send("v2", "p2", "plus", "accepted", T + 10);
      await send("v3", "p3", "minus", "accepted", T + 20);
      await send("v4", "p4", "plus", "rejected", T + 30);
      await send("v5", "p5", "plus", "accepted", T + 86_400_000);
      expect(await store.acceptedPluses(alice, T, T + 86_400_000)).to.equal(2);
      expect(await store.acceptedPluses(bob, T, T + 86_400_000)).to.equal(0);
      // The daily like budget's count: accepted likes of the day only (a dislike or a refused like is not one).
      const react = async (eventId: string, detail: string, answer: "accepted" | "rejected", at: number) => {
        await store.claimEvent({ eventId, user: alice, kind: "reaction", slug: "p1", detail, claimedAt: at }, 0);
        await store.recordAnswer(eventId, { answer, sentAt: at });
      };
      await react("l1", "like", "accepted", T + 1);
      await react("l2", "like", "accepted", T + 2);
      await react("l3", "dislike", "accepted", T + 3);
      await react("l4", "like", "rejected", T + 4);
      await react("l5", "like", "accepted", T - 1);
      expect(await store.acceptedLikes(alice, T, T + 86_400_000)).to.equal(2);
      expect(await store.acceptedLikes(bob, T, T + 86_400_000)).to.equal(0);
      expect(
        await store.claimEvent({ eventId: "r1", user: alice, kind: "report", slug: "p1", claimedAt: T }, 0),
      ).to.equal(true);
      await store.recordAnswer("r1", { answer: "accepted", sentAt: T + 2 });
      expect(
        await store.claimEvent({ eventId: "r0", user: alice, kind: "report", slug: "p1", claimedAt: T }, 0),
      ).to.equal(true);
      await store.recordAnswer("r0", { answer: "accepted", sentAt: T + 1 });
      expect((await store.sentEvents(alice, "report", "p1")).map((e) => e.eventId)).to.deep.equal(["r0", "r1"]);
      expect(await store.sentEvents(bob, "report", "p1")).to.deep.equal([]);
    });

    it("claims a reader's one attestation once across processes; a stale claim may be taken over, an attested one never", async function () {
      const { stores } = await fresh(2);
      const [a, b] = stores as [SiteStore, SiteStore];
      const wins = await Promise.all(
        [...Array(6)].map((_, i) => (i % 2 ? a : b).claimAttestation(alice, T, T - 60_000)),
      );
      expect(wins.filter(Boolean)).to.have.length(1);
      expect(await b.attestation(alice)).to.equal(undefined); // in flight: no UID yet
      expect(await a.claimAttestation(alice, T + 1, T - 60_000)).to.equal(false); // held, not stale
      expect(await a.claimAttestation(alice, T + 70_000, T + 10)).to.equal(true); // stale: taken over
      const uid = `0x${"ab".repeat(32)}` as const;
      await a.recordAttestation(alice, uid, T + 70_001);
      expect(await b.attestation(alice)).to.deep.equal({ address: alice, uid, attestedAt: T + 70_001 });
      expect(await b.claimAttestation(alice, T + 999_999, T + 999_999)).to.equal(false);
      await b.releaseAttestation(alice); // an attested reader's record stays
      expect((await a.attestation(alice))?.uid).to.equal(uid);
      expect(await a.claimAttestation(bob, T, 0)).to.equal(true);
      await a.releaseAttestation(bob); // the transaction failed: a retry may claim it
      expect(await b.claimAttestation(bob, T + 1, 0)).to.equal(true);
    });

    it("keeps comments: seeds once, hidden and held ones shown to their author only, one reaction per user", async function () {
      const { stores } = await fresh(2);
      const [a, b] = stores as [SiteStore, SiteStore];
      const seed = {
        commentId: "c1",
        slug: "p",
        author: bob,
        text: "first",
        createdAt: 1,
        status: "visible" as const,
        likes: 2,
      };
      expect(await a.insertComment(seed)).to.equal(true);
      expect(await b.insertComment(seed)).to.equal(false);
      await a.insertComment({ commentId: "c2", slug: "p", author: alice, text: "held", createdAt: T, status: "held" });
      await a.insertComment({
        commentId: "c3",
        slug: "p",
        author: alice,
        text: "gone",
        createdAt: T + 1,
        status: "visible",
      });
      await a.insertComment({
        commentId: "c4",
        slug: "other",
        author: alice,
        text: "elsewhere",
        createdAt: T,
        status: "visible",
      });
      expect(await b.setCommentStatus("c3", "hidden")).to.equal(true);
      expect(await b.setCommentStatus("nope", "hidden")).to.equal(false);
      expect((await b.comments("p")).map((c) => c.commentId)).to.deep.equal(["c1"]);
      expect((await b.comments("p", { viewer: bob })).map((c) => c.commentId)).to.deep.equal(["c1"]);
      expect((await b.comments("p", { viewer: alice })).map((c) => [c.commentId, c.status])).to.deep.equal([
        ["c1", "visible"],
        ["c2", "held"],
        ["c3", "hidden"],
      ]);
      expect((await a.heldComments(T + 1, 10)).map((c) => c.commentId)).to.deep.equal(["c2"]);
      expect(await a.heldComments(T, 10)).to.deep.equal([]);

      const reactions = await Promise.all([...Array(6)].map((_, i) => (i % 2 ? a : b).react("c1", alice, "like", T)));
      expect(reactions.filter(Boolean)).to.have.length(1);
      expect(await a.react("c1", alice, "dislike", T)).to.equal(false);
      expect(await a.react("c1", bob, "dislike", T)).to.equal(true);
      await a.setCommentEvent("c1", "comment:c1");
      expect(await b.comment("c1")).to.deep.equal({ ...seed, likes: 3, dislikes: 1, eventId: "comment:c1" });
    });

    it("keeps everything across a restart (the store closed and opened again)", async function () {
      const { stores, reopen } = await fresh(1);
      const first = stores[0]!;
      await first.issueNonce({ nonce: "n", address: alice, message: "m", expiresAt: T + 1_000 });
      await first.createSession({ idHash: "s", address: alice, createdAt: T, expiresAt: T + 1_000 });
      await beatAt(first, alice, "p", T);
      await beatAt(first, alice, "p", T + 5_000);
      await first.claimEvent({ eventId: "e", user: alice, kind: "read", slug: "p", claimedAt: T }, 0);
      await first.recordAnswer("e", { answer: "accepted", sentAt: T });
      await first.insertComment({
        commentId: "c",
        slug: "p",
        author: alice,
        text: "kept",
        createdAt: T,
        status: "visible",
      });
      await first.close();
      const second = await reopen();
      expect((await second.takeNonce("n", T))?.message).to.equal("m");
      expect((await second.session("s", T))?.address).to.equal(alice);
      expect(readingOf((await second.meter(alice, "p"))!).seconds).to.equal(5);
      expect((await second.sentEvent("e"))?.answer).to.equal("accepted");
      expect((await second.comments("p")).map((c) => c.text)).to.deep.equal(["kept"]);
      await second.ping();
    });
  });
}
