import { expect } from "chai";
import { describe, it } from "mocha";
import { getAddress, parseUnits, type Address, type Hex } from "viem";
import { ActionKind } from "../../src/core/kinds.js";
import { earnedForLevel } from "../../src/core/levels.js";
import { postIdFor } from "../../src/core/postId.js";
import { amountFor, DEFAULT_RULE_AMOUNTS } from "../../src/core/ruleSet.js";
import { siteEventSchema, type SiteEventInput } from "../../src/evidence/siteEvent.js";
import { capEarnings } from "../../src/rules/capEarnings.js";
import { evaluateEvent, type RuleOutcome } from "../../src/rules/evaluateEvent.js";
import { ledgerRefusal } from "../../src/rules/ledgerRefusal.js";
import { createMemoryRulesState } from "../../src/rules/memoryRulesState.js";
import {
  dailyEarningLimit,
  DEFAULT_POLICY,
  farmRulesOf,
  POLICY_V2,
  utcDayOf,
  type RulePolicy,
} from "../../src/rules/policy.js";
import { keys } from "../../src/rules/rulesState.js";

// Whole outcomes (actions, effects, notes, what was left out), not only their kinds: the relayer
// stores the effects and the evidence carries the notes, so each part is the rules' answer.
const SITE = 3;
const DAY = 19_675;
const AT = DAY * 86_400 + 3_600;
const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Address;
const author = addr(0xa1);
const reader = addr(0xb2);
const veteran = addr(0xe5);
const twei = (value: string) => parseUnits(value, 18);
const A = DEFAULT_RULE_AMOUNTS;
const POST = postIdFor(SITE, "post-1");

function world(policy: RulePolicy, funds: Record<Address, bigint> = {}, attested: Record<Address, Hex> = {}) {
  const memory = createMemoryRulesState({
    defaultFunds: twei("100"),
    funds: new Map(Object.entries(funds) as [Address, bigint][]),
    earned: new Map([[veteran, twei("72")]]),
  });
  const state = { ...memory, attestation: (account: Address) => attested[account] };
  let n = 0;
  const run = (input: { type: SiteEventInput["type"]; user: Address; [field: string]: unknown }): RuleOutcome => {
    const event = siteEventSchema.parse({ eventId: `o-${n++}`, occurredAt: AT, postId: "post-1", ...input });
    const outcome = evaluateEvent({ siteId: SITE, event, policy, amounts: A, state });
    if (outcome.accepted) memory.apply(outcome, A);
    return outcome;
  };
  run({ type: "post_published", user: author, wordCount: 200 });
  return { state, run };
}

const act = (account: Address, kind: ActionKind, units = 1, postId = POST) => ({ account, kind, units, postId });

describe("rules: whole outcomes", function () {
  it("a post's publication: its tribute, its registration and the post, nothing else", function () {
    const w = world(POLICY_V2);
    expect(w.run({ type: "post_published", user: author, postId: "post-2", wordCount: 10 })).to.deep.equal({
      accepted: true,
      actions: [act(author, ActionKind.PostPublishTribute, 1, postIdFor(SITE, "post-2"))],
      registers: { postId: postIdFor(SITE, "post-2"), author },
      effects: { markers: [], counters: [], post: { postId: "post-2", author, wordCount: 10 } },
      notes: [],
    });
  });

  it("pays a read on the chain's id of a post no earlier event named (the id is derived, not remembered)", function () {
    const fresh = `fresh-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const w = world(POLICY_V2);
    const published = w.run({ type: "post_published", user: author, postId: fresh, wordCount: 200 });
    expect(published.accepted && published.registers?.postId).to.equal(postIdFor(SITE, fresh));
    const read = w.run({ type: "post_read", user: reader, postId: fresh, secondsRead: 60 });
    expect(read.accepted && read.actions).to.deep.equal([
      act(reader, ActionKind.ReadToEarn, 10_000, postIdFor(SITE, fresh)),
    ]);
  });

  it("a read, a plus, a report and a like by the post's author, under version 2", function () {
    const w = world(POLICY_V2);
    expect(w.run({ type: "post_read", user: reader, secondsRead: 30 })).to.deep.equal({
      accepted: true,
      actions: [act(reader, ActionKind.ReadToEarn, 5_000)],
      effects: { markers: [keys.read("post-1", reader)], counters: [] },
      notes: [],
    });
    expect(w.run({ type: "post_plus", user: reader })).to.deep.equal({
      accepted: true,
      actions: [act(author, ActionKind.EarnedForPluses)],
      effects: { markers: [keys.vote("post-1", reader)], counters: [keys.plusesOfUserOnDay(reader, DAY)] },
      notes: [],
    });
    expect(w.run({ type: "report_purchased", user: reader })).to.deep.equal({
      accepted: true,
      actions: [act(reader, ActionKind.PnLReports)],
      effects: { markers: [], counters: [] },
      notes: [],
    });
    w.run({ type: "comment_created", user: reader, commentId: "c1", length: 5 });
    expect(w.run({ type: "comment_liked", user: author, commentId: "c1" })).to.deep.equal({
      accepted: true,
      actions: [act(author, ActionKind.LikesOwn), act(reader, ActionKind.LikesCommenter)],
      effects: { markers: [keys.reaction("c1", author)], counters: [] },
      notes: ["no Likes/Dislikes Author: the reaction is the post author's own"],
    });
  });

  it("a comment at exactly the least length earns its reward, and tallies it under version 3", function () {
    const w = world(DEFAULT_POLICY);
    const reward = amountFor(A, ActionKind.CommentRewards, 1);
    expect(w.run({ type: "comment_created", user: veteran, commentId: "c1", length: 20 })).to.deep.equal({
      accepted: true,
      actions: [act(veteran, ActionKind.CommentRewards), act(veteran, ActionKind.CommentTributes)],
      effects: {
        markers: [],
        counters: [keys.commentRewardsOfUser("post-1", veteran), keys.commentRewardsOfPost("post-1")],
        tallies: [{ key: keys.earnedOnDay(veteran, DAY), amount: reward }],
        comment: { commentId: "c1", author: veteran, postId: "post-1" },
      },
      notes: [],
    });
    expect(w.run({ type: "comment_created", user: veteran, commentId: "c2", length: 19 })).to.deep.include({
      actions: [act(veteran, ActionKind.CommentTributes)],
      notes: ["no Comment Rewards: shorter than 20 characters"],
    });
  });

  it("a plus from a voter who never read the post pays nobody under version 3, and says what it left out", function () {
    const w = world(DEFAULT_POLICY);
    const note = `vote_not_earning: the vote pays nobody: ${reader} was not paid for reading post post-1`;
    expect(w.run({ type: "post_plus", user: reader })).to.deep.equal({
      accepted: true,
      actions: [],
      effects: { markers: [keys.vote("post-1", reader)], counters: [keys.plusesOfUserOnDay(reader, DAY)], tallies: [] },
      notes: [note],
      leftOut: [{ action: act(author, ActionKind.EarnedForPluses), note }],
    });
    // A minus only burns: nothing to leave out, no note.
    expect(w.run({ type: "post_minus", user: veteran })).to.deep.equal({
      accepted: true,
      actions: [act(veteran, ActionKind.SpentForMinuses)],
      effects: { markers: [keys.vote("post-1", veteran)], counters: [], tallies: [] },
      notes: [],
    });
  });

  it("a read of 1 basis point earns when the policy's minimum allows it; a read of none never does", function () {
    const w = world({ ...POLICY_V2, minReadBps: 0 });
    // 12,000 words at 200 a minute: 3,600 s to read, 1 s of it 2.7 bps; 18,000 words: 5,400 s, 1 s 1.8 bps.
    w.run({ type: "post_published", user: author, postId: "long", wordCount: 12_000 });
    expect(w.run({ type: "post_read", user: reader, postId: "long", secondsRead: 0 })).to.deep.include({
      accepted: false,
      code: "read_too_short",
    });
    const two = w.run({ type: "post_read", user: reader, postId: "long", secondsRead: 1 });
    expect(two.accepted && two.actions[0]?.units).to.equal(2);
    w.run({ type: "post_published", user: author, postId: "longer", wordCount: 18_000 });
    const one = w.run({ type: "post_read", user: veteran, postId: "longer", secondsRead: 1 });
    expect(one.accepted && one.actions[0]?.units).to.equal(1);
  });

  it("checks only the acting user's own spend: a disliker with exactly Dislikes Own is accepted, one wei less is not", function () {
    const own = amountFor(A, ActionKind.DislikesOwn, 1);
    const w = world(POLICY_V2, { [reader]: own, [veteran]: own - 1n });
    w.run({ type: "comment_created", user: author, commentId: "c1", length: 5 });
    expect(w.run({ type: "comment_disliked", user: reader, commentId: "c1" }).accepted).to.equal(true);
    expect(w.run({ type: "comment_disliked", user: veteran, commentId: "c1" })).to.deep.include({
      accepted: false,
      code: "insufficient_funds",
    });
  });

  it("does not read the funds of a user whose event only mints", function () {
    const w = world(POLICY_V2);
    const blind = { ...w.state, spendable: () => undefined };
    const event = siteEventSchema.parse({
      eventId: "x",
      occurredAt: AT,
      postId: "post-1",
      type: "post_plus",
      user: reader,
    });
    expect(evaluateEvent({ siteId: SITE, event, policy: POLICY_V2, amounts: A, state: blind }).accepted).to.equal(true);
  });
});

describe("rules: proof of personhood, whole outcomes", function () {
  const personhood: RulePolicy = {
    ...DEFAULT_POLICY,
    personhood: { eas: addr(0xe0), schema: `0x${"5c".repeat(32)}`, attesters: [addr(0xe1)] },
  };
  const UID = `0x${"ab".repeat(32)}` as Hex;
  const why = (user: Address) =>
    `${getAddress(user)} holds no valid personhood attestation (EAS schema 0x${"5c".repeat(32)} by an attester the site names)`;

  it("keeps an unattested veteran's comment tribute, leaves out its reward, its counters and its tally", function () {
    const w = world(personhood);
    expect(w.run({ type: "comment_created", user: veteran, commentId: "c1", length: 40 })).to.deep.equal({
      accepted: true,
      actions: [act(veteran, ActionKind.CommentTributes)],
      effects: {
        markers: [],
        counters: [],
        tallies: [],
        comment: { commentId: "c1", author: veteran, postId: "post-1" },
      },
      notes: [`no Comment Rewards: ${why(veteran)}`],
      leftOut: [
        {
          action: act(veteran, ActionKind.CommentRewards),
          note: `personhood_required: no Comment Rewards: ${why(veteran)}`,
        },
      ],
    });
  });

  it("names the attestation of an attested veteran's comment, and asks none for an event that only burns", function () {
    const w = world(personhood, {}, { [veteran]: UID });
    const rewarded = w.run({ type: "comment_created", user: veteran, commentId: "c1", length: 40 });
    expect(rewarded.accepted && [rewarded.attestation, rewarded.actions.length]).to.deep.equal([UID, 2]);
    const minus = w.run({ type: "post_minus", user: reader });
    expect(minus.accepted && minus).not.to.have.property("attestation");
    expect(minus.accepted && minus.actions).to.deep.equal([act(reader, ActionKind.SpentForMinuses)]);
  });
});

describe("rules: the farming limits' arithmetic", function () {
  const rules = farmRulesOf(DEFAULT_POLICY)!;

  it("refuses a version-3 policy that lacks any one farming field", function () {
    for (const field of ["voteToEarnMinLevel", "maxLikesPerUserPerDay", "earningRamp", "maxReadsEarnedPerUserPerDay"]) {
      const policy = { ...DEFAULT_POLICY, [field]: undefined } as RulePolicy;
      expect(() => farmRulesOf(policy), field).to.throw(RangeError, /needs voteToEarnMinLevel/);
    }
  });

  it("takes the per-user cap when a ramp step allows as much as it", function () {
    const equal = { ...rules, earningRamp: [{ belowLevel: 5, maxReadsPerDay: 200 }] };
    expect(dailyEarningLimit(equal, 1, A)).to.deep.equal({ max: 200n * A[0]!, rule: "daily_earning_cap" });
    expect(dailyEarningLimit(rules, 1, A)).to.deep.equal({ max: 8n * A[0]!, rule: "new_account_ramp" });
    expect(utcDayOf(86_399)).to.equal(0);
    expect(utcDayOf(86_400)).to.equal(1);
  });

  it("sums two mints of one account in one event, trims a read to the basis points left, and passes burns as they are", function () {
    const state = createMemoryRulesState({});
    const day = 7;
    // Level 1: 8 full reads a day. 7.5 earned already: room for half a read.
    const earnedSoFar = 7n * A[0]! + A[0]! / 2n;
    const tallied = {
      earned: state.earned,
      tally: (key: string) => (key === keys.earnedOnDay(reader, day) ? earnedSoFar : 0n),
    };
    const fit = capEarnings({
      actions: [
        act(reader, ActionKind.SpentForMinuses),
        act(reader, ActionKind.LikesOwn),
        act(reader, ActionKind.ReadToEarn, 10_000),
      ],
      rules,
      day,
      amounts: A,
      state: tallied,
    });
    const likes = amountFor(A, ActionKind.LikesOwn, 1);
    const bps = Number(((A[0]! / 2n - likes) * 10_000n) / A[0]!);
    expect(fit.actions).to.deep.equal([
      act(reader, ActionKind.SpentForMinuses),
      act(reader, ActionKind.LikesOwn),
      act(reader, ActionKind.ReadToEarn, bps),
    ]);
    expect(fit.tallies).to.deep.equal([
      { key: keys.earnedOnDay(reader, day), amount: likes + amountFor(A, ActionKind.ReadToEarn, bps) },
    ]);
    expect(fit.notes).to.have.length(1);
    expect(fit.leftOut).to.deep.equal([{ action: act(reader, ActionKind.ReadToEarn, 10_000), note: fit.notes[0] }]);
  });

  it("trims a read to exactly 1 basis point when that is all that fits, leaves it out below, and tallies no zero", function () {
    const day = 7;
    const at = (earned: bigint) =>
      capEarnings({
        actions: [act(reader, ActionKind.ReadToEarn, 10_000)],
        rules,
        day,
        amounts: A,
        state: { earned: () => 0n, tally: () => earned },
      });
    const oneBps = A[0]! / 10_000n;
    expect(at(8n * A[0]! - oneBps).actions).to.deep.equal([act(reader, ActionKind.ReadToEarn, 1)]);
    expect(at(8n * A[0]! - oneBps + 1n).actions).to.deep.equal([]);
    expect(at(8n * A[0]! + 1n).actions).to.deep.equal([]); // past the limit: no room, not a negative one
    const free = A.map((amount, kind) => (kind === ActionKind.LikesOwn ? 0n : amount));
    const zero = capEarnings({
      actions: [act(reader, ActionKind.LikesOwn)],
      rules,
      day,
      amounts: free,
      state: { earned: () => 0n, tally: () => 0n },
    });
    expect([zero.actions.length, zero.tallies]).to.deep.equal([1, []]);
    const noReadPrice = A.map((amount, kind) => (kind === ActionKind.ReadToEarn ? 0n : amount));
    const full = capEarnings({
      actions: [act(reader, ActionKind.ReadToEarn, 10_000), act(reader, ActionKind.LikesOwn)],
      rules,
      day,
      amounts: noReadPrice,
      state: { earned: () => earnedForLevel(1), tally: () => 0n },
    });
    // A rule set that prices reads at 0 gives a limit of 0: every mint that costs anything is left out.
    expect(full.actions).to.deep.equal([act(reader, ActionKind.ReadToEarn, 10_000)]);
  });
});

describe("rules: ledgerRefusal and the keys the stores persist", function () {
  const bounds = [10_000, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];

  it("finds a registering event's own post without asking the chain, and names a disabled kind and fractional units", function () {
    const refusal = (actions: ReturnType<typeof act>[], maxUnits = bounds) =>
      ledgerRefusal({ actions, registers: { postId: 9n, author }, maxUnits, authorOf: () => undefined });
    expect(refusal([act(author, ActionKind.PostPublishTribute, 1, 9n)])).to.equal(undefined);
    expect(refusal([act(author, ActionKind.PostPublishTribute, 1, 8n)])).to.match(/not registered/);
    expect(refusal([act(reader, ActionKind.ReadToEarn, 1.5, 9n)])).to.match(/has 1.5 units/);
    expect(
      refusal(
        [act(reader, ActionKind.LikesOwn, 1, 9n)],
        bounds.map((b, k) => (k === 3 ? 0 : b)),
      ),
    ).to.match(/disables/);
  });

  it("spells each key as the relayer's databases hold it", function () {
    const user = "0x00000000000000000000000000000000000000Ab" as Address;
    expect(keys.earnedOnDay(user, 5)).to.equal("earn:5:0x00000000000000000000000000000000000000ab");
    expect(keys.commentRewardsOfPost("p")).to.equal("crew:p");
    expect(keys.likesOfUserOnDay(user, 5)).to.equal(`like:5:${user}`);
  });

  it("a memory state knows no earnings, no funds and no post until it is told", function () {
    const state = createMemoryRulesState();
    expect([state.earned(reader), state.spendable(reader), state.post("p")]).to.deep.equal([0n, undefined, undefined]);
    state.apply({ accepted: true, actions: [], effects: { markers: ["m"], counters: [] }, notes: [] }, A);
    expect([state.has("m"), state.post("p")]).to.deep.equal([true, undefined]);
  });
});
