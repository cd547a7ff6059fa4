import { expect } from "chai";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import type { Address } from "viem";
import { ActionKind } from "../../src/core/kinds.js";
import { hardhatAccount } from "../../src/devnet/startHardhatNode.js";
import { DEFAULT_NEWCOMER_HOLD, isNewcomer, utcDay, type NewcomerFacts } from "../../src/site/core/newcomerHold.js";
import type { TweiSiteRouter } from "../../src/site/createTweiSiteRouter.js";
import { eventIds } from "../../src/site/eventIds.js";
import { HELD_RECHECK_MS, sweepIdleReads } from "../../src/site/sweepIdleReads.js";
import { startTestChain, type TestChain } from "../relayer/helpers/testChain.js";
import { addSite, clientFor, startTestRelayer, tempDirs } from "../relayer/helpers/testRelayer.js";
import { startKitSite, type KitAnswer, type KitSite } from "./helpers/kitSite.js";

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 11, 7, 12);

describe("isNewcomer: who the newcomer hold keeps", function () {
  const facts = (over: Partial<NewcomerFacts> = {}): NewcomerFacts => ({
    level: 1,
    attested: false,
    readingDays: 1,
    firstReadAt: NOW - HOUR,
    ...over,
  });

  it("keeps an account that read on one day only, and one it never saw read", function () {
    expect(isNewcomer(DEFAULT_NEWCOMER_HOLD, facts(), NOW)).to.equal(true);
    expect(isNewcomer(DEFAULT_NEWCOMER_HOLD, facts({ readingDays: 0, firstReadAt: null }), NOW)).to.equal(true);
  });

  it("lets go of a reader who read on two UTC days, the first 20 h or more before", function () {
    expect(isNewcomer(DEFAULT_NEWCOMER_HOLD, facts({ readingDays: 2, firstReadAt: NOW - 20 * HOUR }), NOW)).to.equal(
      false,
    );
    // 23:50 and 00:10 are two UTC days twenty minutes apart: not yet.
    expect(
      isNewcomer(DEFAULT_NEWCOMER_HOLD, facts({ readingDays: 2, firstReadAt: NOW - 20 * HOUR + 1 }), NOW),
    ).to.equal(true);
    const threeDays = { readingDays: 3, liftLevel: 2 };
    expect(isNewcomer(threeDays, facts({ readingDays: 3, firstReadAt: NOW - 39 * HOUR }), NOW)).to.equal(true);
    expect(isNewcomer(threeDays, facts({ readingDays: 3, firstReadAt: NOW - 40 * HOUR }), NOW)).to.equal(false);
  });

  it("lets go of an account the chain paid up to the lift level, or a proved person, whatever its days", function () {
    expect(isNewcomer(DEFAULT_NEWCOMER_HOLD, facts({ level: 2, readingDays: 0, firstReadAt: null }), NOW)).to.equal(
      false,
    );
    expect(isNewcomer(DEFAULT_NEWCOMER_HOLD, facts({ level: null }), NOW)).to.equal(true);
    expect(isNewcomer(DEFAULT_NEWCOMER_HOLD, facts({ attested: true }), NOW)).to.equal(false);
  });

  it("keeps nobody without a hold, or with a hold of 0 days", function () {
    expect(isNewcomer(undefined, facts(), NOW)).to.equal(false);
    expect(isNewcomer({ readingDays: 0, liftLevel: 2 }, facts(), NOW)).to.equal(false);
  });

  it("counts UTC days", function () {
    expect(utcDay(Date.UTC(2026, 11, 7, 23, 59, 59, 999))).to.equal(utcDay(Date.UTC(2026, 11, 7)));
    expect(utcDay(Date.UTC(2026, 11, 8))).to.equal(utcDay(Date.UTC(2026, 11, 7)) + 1);
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const SITE_ID = 11;
const SLUG = "held-post";
const OTHER = "other-post";
const ONE_TWEI = 10n ** 18n;

// The hold over the real parts: a Hardhat node, the relayer, the kit mounted in an Express site
// with its SQLite store and the kit's default hold. "Yesterday's visit" is written into the
// site's own store (the real clock cannot pass a day): the row a beat on that day leaves.
describe("the site kit's newcomer hold: a new account's reads are kept, and paid in full when it comes back", function () {
  this.timeout(300_000);
  const dirs = tempDirs();
  let chain: TestChain;
  let relayer: Awaited<ReturnType<typeof startTestRelayer>>;
  let twei: ReturnType<typeof clientFor>;
  let site: KitSite;
  let kit: TweiSiteRouter;
  let author: Address;
  const call: KitSite["call"] = (path, options) => site.call(path, options);
  const account = async (address: Address): Promise<KitAnswer> =>
    (await fetch(`${relayer.url}/v1/users/${address}`)).json() as Promise<KitAnswer>;

  const signIn = (index: number) => site.signIn(hardhatAccount(index));

  /** Beats until the meter holds `fraction` of the time to read (1: complete); the last answer. */
  async function readUntil(cookie: string, fraction: number): Promise<KitAnswer> {
    const beat = { visible: true, focused: true, active: true };
    for (let i = 0; i < 400; i++) {
      const { status, body } = await call(`/posts/${SLUG}/heartbeat`, { body: beat, cookie });
      expect(status, JSON.stringify(body)).to.equal(200);
      if (body.complete || body.seconds >= fraction * body.secondsToRead) return body;
      await sleep(100);
    }
    throw new Error("the read never got there");
  }

  /** Waits until the relayer counts `wei` earned for `address`, pending or settled. */
  async function earned(address: Address, wei: bigint): Promise<void> {
    for (let i = 0; i < 120; i++) {
      const user = await account(address);
      if (BigInt(user.pendingEarnings) + BigInt(user.earned) === wei) return;
      await sleep(250);
    }
    expect.fail(`${address} never earned ${wei}: ${JSON.stringify(await account(address))}`);
  }

  before(async function () {
    chain = await startTestChain();
    const dir = await dirs.make("newcomer");
    const registered = await addSite(chain, dir, SITE_ID);
    relayer = await startTestRelayer(chain, dir, { verifyWorkers: 0 });
    twei = clientFor(chain, relayer.url, registered);
    // The author's earnings pay the two posts' publishing tribute.
    author = chain.user(0).address;
    await chain.seed(SITE_ID, [{ account: author, kind: ActionKind.CommentRewards, units: 10 }]);
    await chain.approveLedger(chain.user(0));
    const published = await twei.sendEvents(
      [SLUG, OTHER].map((postId) => ({
        eventId: `publish-${postId}`,
        type: "post_published" as const,
        occurredAt: Math.floor(Date.now() / 1000),
        user: author,
        postId,
        wordCount: 300,
      })),
    );
    expect(published.results.map((r) => r.status)).to.deep.equal(["accepted", "accepted"]);
    // The kit's default newcomer hold; its sweep runs when the test says (sweepIdleReads).
    site = await startKitSite({
      chain,
      twei,
      relayerUrl: relayer.url,
      siteId: SITE_ID,
      slug: SLUG,
      author,
      databasePath: join(dir, "site.sqlite"),
      overrides: { reading: { heartbeatMs: 100, clockRate: 20, partialAfterMs: 1_000, sweepEveryMs: 3_600_000 } },
    });
    kit = site.kit;
  });

  after(async function () {
    await site?.stop();
    await relayer?.stop();
    await chain?.stop();
    await dirs.removeAll();
  });

  it("holds a newcomer's finished read, says why, and sends it in full once they have read on another day", async function () {
    const reader = hardhatAccount(12).address;
    const cookie = await signIn(12);
    const last = await readUntil(cookie, 1);
    expect(last).to.deep.include({ complete: true, sent: false, held: "newcomer_hold" });
    const state = await call(`/posts/${SLUG}`, { cookie });
    expect(state.body.reader.newcomer).to.deep.equal({ readingDays: 1, readingDaysNeeded: 2 });
    expect(state.body.reader.read.status).to.equal(null);
    expect(await kit.ctx.store.sentEvent(eventIds.read(SLUG, reader))).to.equal(undefined);
    expect((await account(reader)).pendingEarnings).to.equal("0");

    // Yesterday's visit, 21 h ago; the site's answer about a held reader is kept 5 s.
    const now = Date.now();
    await kit.ctx.store.noteReadingDay(reader, utcDay(now) - 1, now - 21 * HOUR);
    await sleep(5_200);
    const back = await call(`/posts/${SLUG}/heartbeat`, {
      body: { visible: true, focused: true, active: true },
      cookie,
    });
    expect(back.body).to.deep.include({ complete: true, sent: true });
    expect(back.body.held).to.equal(undefined);
    expect(await kit.ctx.store.sentEvent(eventIds.read(SLUG, reader))).to.deep.include({ answer: "accepted" });
    await earned(reader, ONE_TWEI);
    expect((await call(`/posts/${SLUG}`, { cookie })).body.reader.newcomer).to.equal(null);
  });

  it("sends at once the read of a reader the chain already paid (level 2), whom the site never saw read", async function () {
    const reader = hardhatAccount(13).address;
    // Paid for a read of another post before (through the relayer: another site page, a past visit).
    const paid = await twei.sendEvents([
      {
        eventId: `earlier-read-${reader}`,
        type: "post_read",
        occurredAt: Math.floor(Date.now() / 1000),
        user: reader,
        postId: OTHER,
        secondsRead: 600,
      },
    ]);
    expect(paid.results[0]?.status).to.equal("accepted");
    for (let i = 0; i < 120 && (await account(reader)).level < 2; i++) await sleep(250);
    expect((await account(reader)).level).to.be.at.least(2);
    const cookie = await signIn(13);
    expect((await call(`/posts/${SLUG}`, { cookie })).body.reader.newcomer).to.equal(null);
    const last = await readUntil(cookie, 1);
    expect(last).to.deep.include({ complete: true, sent: true });
    await earned(reader, 2n * ONE_TWEI);
  });

  it("leaves a newcomer's idle read out of the sweep for ten minutes, then sends the time measured once the hold lifted", async function () {
    const reader = hardhatAccount(14).address;
    const cookie = await signIn(14);
    const left = await readUntil(cookie, 0.5);
    expect(left.complete).to.equal(false);
    await sleep(1_200); // idle longer than partialAfterMs

    const t = Date.now();
    expect(await sweepIdleReads(kit.ctx, t)).to.deep.equal({ sent: 0, deferred: 1 });
    // Left alone until its next look: a second sweep within ten minutes does not even ask.
    expect(await sweepIdleReads(kit.ctx, t + HELD_RECHECK_MS - 1)).to.deep.equal({ sent: 0, deferred: 0 });

    await kit.ctx.store.noteReadingDay(reader, utcDay(t) - 1, t - 21 * HOUR);
    await sleep(5_200);
    expect(await sweepIdleReads(kit.ctx, t + HELD_RECHECK_MS)).to.deep.equal({ sent: 1, deferred: 0 });
    const sent = await kit.ctx.store.sentEvent(eventIds.read(SLUG, reader));
    expect(sent).to.deep.include({ answer: "accepted" });
    const user = await account(reader);
    const paid = BigInt(user.pendingEarnings) + BigInt(user.earned);
    // A partial read: at least half of the amount, less than all of it.
    expect(paid >= ONE_TWEI / 2n && paid < ONE_TWEI, String(paid)).to.equal(true);
  });
});
