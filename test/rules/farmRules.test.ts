import { expect } from "chai";
import fc from "fast-check";
import { describe, it } from "mocha";
import { parseUnits, type Address } from "viem";
import { ActionKind, FIRST_BURN_KIND } from "../../src/core/kinds.js";
import { earnedForLevel, levelFor } from "../../src/core/levels.js";
import { amountFor, DEFAULT_RULE_AMOUNTS } from "../../src/core/ruleSet.js";
import { siteEventSchema, type SiteEventInput } from "../../src/evidence/siteEvent.js";
import { evaluateEvent, type RuleAccepted, type RuleOutcome } from "../../src/rules/evaluateEvent.js";
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

// The rules of policy version 3 that price out farming (issue 22): votes earn only from readers
// at a level, a daily like budget, the new-account ramp and the per-user daily earning cap.
const SITE = 3;
const DAY = 1_700_000_000 - (1_700_000_000 % 86_400) + 3_600;
const twei = (value: string) => parseUnits(value, 18);
const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Address;
const author = addr(0xa1);
const commenter = addr(0xc3);
const farm = farmRulesOf(DEFAULT_POLICY)!;
const A = DEFAULT_RULE_AMOUNTS;

let ids = 0;
function world(earned: Record<Address, bigint> = {}, policy: RulePolicy = DEFAULT_POLICY) {
  const state = createMemoryRulesState({
    defaultFunds: twei("1000"),
    earned: new Map(Object.entries(earned) as [Address, bigint][]),
  });
  const run = (input: {
    type: SiteEventInput["type"];
    user: Address;
    postId?: string;
    occurredAt?: number;
    [field: string]: unknown;
  }): RuleOutcome => {
    const event = siteEventSchema.parse({ eventId: `e-${ids++}`, occurredAt: DAY, postId: "post-1", ...input });
    const outcome = evaluateEvent({ siteId: SITE, event, policy, amounts: DEFAULT_RULE_AMOUNTS, state });
    if (outcome.accepted) state.apply(outcome, DEFAULT_RULE_AMOUNTS);
    return outcome;
  };
  const accepted = (outcome: RuleOutcome): RuleAccepted => {
    if (!outcome.accepted) throw new Error(`rejected: ${outcome.code} ${outcome.message}`);
    return outcome;
  };
  const code = (outcome: RuleOutcome) => (outcome.accepted ? "accepted" : outcome.code);
  const kinds = (outcome: RuleOutcome) => accepted(outcome).actions.map((a) => [a.kind, a.account]);
  const minted = (outcome: RuleOutcome) =>
    accepted(outcome)
      .actions.filter((a) => a.kind < FIRST_BURN_KIND)
      .reduce((sum, a) => sum + amountFor(DEFAULT_RULE_AMOUNTS, a.kind, a.units), 0n);
  const publish = (postId = "post-1", wordCount = 200) =>
    accepted(run({ type: "post_published", user: author, postId, wordCount }));
  // 200 words: 60 s to read.
  const read = (user: Address, postId = "post-1", secondsRead = 60, occurredAt = DAY) =>
    run({ type: "post_read", user, postId, secondsRead, occurredAt });
  const comment = (commentId = "c1", user = commenter, postId = "post-1") =>
    accepted(run({ type: "comment_created", user, postId, commentId, length: 5 }));
  const like = (user: Address, commentId = "c1", postId = "post-1", occurredAt = DAY) =>
    run({ type: "comment_liked", user, postId, commentId, occurredAt });
  return { state, run, accepted, code, kinds, minted, publish, read, comment, like };
}

const level2 = earnedForLevel(2);

describe("rules: farming (policy version 3)", function () {
  describe("votes earn only from a reader of the post at the policy's level", function () {
    it("pays nobody for the likes of 20 fresh wallets that never read the post (the issue's farm)", function () {
      const w = world();
      w.publish();
      for (let c = 0; c < 9; c++) w.comment(`c${c}`, addr(0x100 + c));
      let paid = 0n;
      for (let i = 0; i < 20; i++)
        for (let c = 0; c < 9; c++) {
          const outcome = w.accepted(w.like(addr(0x200 + i), `c${c}`));
          expect(outcome.actions).to.deep.equal([]);
          expect(outcome.notes[0]).to.match(/^vote_not_earning: .* was not paid for reading post post-1/);
          paid += w.minted(outcome);
        }
      expect(paid).to.equal(0n);
    });
    it("pays nobody for a reader's like below voteToEarnMinLevel, and pays once the reader is at it", function () {
      const fresh = addr(0x301);
      const known = addr(0x302);
      const w = world({ [known]: level2 });
      w.publish();
      w.comment();
      w.accepted(w.read(fresh));
      w.accepted(w.read(known));
      const low = w.accepted(w.like(fresh));
      expect(low.actions).to.deep.equal([]);
      expect(low.notes).to.deep.equal([`vote_not_earning: the vote pays nobody: level 1 is below 2`]);
      expect(w.kinds(w.like(known))).to.deep.equal([
        [ActionKind.LikesOwn, known],
        [ActionKind.LikesCommenter, commenter],
        [ActionKind.LikesAuthor, author],
      ]);
    });
    it("records a plus that pays nobody (it still spends the daily plus budget)", function () {
      const voter = addr(0x303);
      const w = world({ [voter]: level2 });
      w.publish();
      const outcome = w.accepted(w.run({ type: "post_plus", user: voter }));
      expect(outcome.actions).to.deep.equal([]);
      expect(outcome.notes[0]).to.match(/^vote_not_earning:/);
      expect(outcome.effects.markers).to.deep.equal([keys.vote("post-1", voter)]);
      expect(w.state.count(keys.plusesOfUserOnDay(voter, utcDayOf(DAY)))).to.equal(1);
      expect(w.code(w.run({ type: "post_plus", user: voter }))).to.equal("already_voted");
    });
    it("pays the author for a plus from a reader at the level", function () {
      const voter = addr(0x304);
      const w = world({ [voter]: level2 });
      w.publish();
      w.accepted(w.read(voter, "post-1", 12)); // 20 % of 60 s: the minimum that counts
      expect(w.kinds(w.run({ type: "post_plus", user: voter }))).to.deep.equal([[ActionKind.EarnedForPluses, author]]);
    });
    it("keeps the burns a vote costs: a minus and a dislike still charge their voter (and the commenter)", function () {
      const voter = addr(0x305);
      const w = world();
      w.publish();
      w.comment();
      const minus = w.accepted(w.run({ type: "post_minus", user: voter }));
      expect(w.kinds(minus)).to.deep.equal([[ActionKind.SpentForMinuses, voter]]);
      expect(minus.notes).to.deep.equal([]); // nothing left out: a minus mints nothing
      const dislike = w.accepted(w.run({ type: "comment_disliked", user: voter, commentId: "c1" }));
      expect(w.kinds(dislike)).to.deep.equal([
        [ActionKind.DislikesOwn, voter],
        [ActionKind.DislikesCommenter, commenter],
      ]);
      expect(dislike.notes[0]).to.match(/^vote_not_earning:/);
    });
    it("counts the post's author as a reader of their own post (they cannot send post_read for it)", function () {
      const w = world({ [author]: level2 });
      w.publish();
      w.comment();
      expect(w.kinds(w.like(author))).to.deep.equal([
        [ActionKind.LikesOwn, author],
        [ActionKind.LikesCommenter, commenter],
      ]);
    });
    it("does not count a read the rules rejected (too short) as reading the post", function () {
      const voter = addr(0x306);
      const w = world({ [voter]: level2 });
      w.publish();
      w.comment();
      expect(w.code(w.read(voter, "post-1", 11))).to.equal("read_too_short");
      expect(w.accepted(w.like(voter)).actions).to.deep.equal([]);
    });
  });

  describe("the daily like budget", function () {
    it("rejects a user's like past maxLikesPerUserPerDay on one UTC day, and accepts it the next day", function () {
      const liker = addr(0x401);
      const w = world({ [liker]: level2 });
      w.publish();
      for (let c = 0; c <= farm.maxLikesPerUserPerDay; c++) w.comment(`c${c}`, addr(0x500 + c));
      for (let c = 0; c < farm.maxLikesPerUserPerDay; c++) w.accepted(w.like(liker, `c${c}`));
      const over = w.like(liker, `c${farm.maxLikesPerUserPerDay}`);
      expect(w.code(over)).to.equal("daily_like_budget_spent");
      expect(w.code(w.like(liker, `c${farm.maxLikesPerUserPerDay}`, "post-1", DAY + 86_400))).to.equal("accepted");
      // Dislikes are not likes: their own burn prices them.
      expect(w.code(w.run({ type: "comment_disliked", user: addr(0x402), commentId: "c0" }))).to.equal("accepted");
    });
  });

  describe("the new-account ramp and the per-user daily earning cap", function () {
    it("caps a level-1 account at 8 Twei a day: the 8th full read is trimmed, the 9th rejected, the next day pays", function () {
      const fresh = addr(0x601);
      const w = world();
      for (let p = 0; p < 10; p++) w.publish(`p${p}`);
      for (let p = 0; p < 7; p++) expect(w.minted(w.read(fresh, `p${p}`))).to.equal(twei("1"));
      // 7 earned, 1 left: a full read fits exactly; then a half read.
      w.accepted(w.read(fresh, "p7", 30)); // 0.5
      const trimmed = w.accepted(w.read(fresh, "p8"));
      expect(trimmed.actions[0]?.units).to.equal(5_000);
      expect(trimmed.notes).to.deep.equal([
        `new_account_ramp: Read-to-Earn trimmed from 10000 to 5000 bps: ${fresh} earned 7.5 of its 8 Twei for this UTC day`,
      ]);
      const rejected = w.read(fresh, "p9");
      expect(w.code(rejected)).to.equal("new_account_ramp");
      expect(w.state.tally(keys.earnedOnDay(fresh, utcDayOf(DAY)))).to.equal(twei("8"));
      expect(w.minted(w.read(fresh, "p9", 60, DAY + 86_400))).to.equal(twei("1"));
    });
    it("raises the limit with the level: 25 Twei below level 13, then the per-user cap of 200", function () {
      expect(dailyEarningLimit(farm, 1, A)).to.deep.equal({ max: twei("8"), rule: "new_account_ramp" });
      expect(dailyEarningLimit(farm, 4, A)).to.deep.equal({ max: twei("8"), rule: "new_account_ramp" });
      expect(dailyEarningLimit(farm, 5, A)).to.deep.equal({ max: twei("25"), rule: "new_account_ramp" });
      expect(dailyEarningLimit(farm, 12, A)).to.deep.equal({ max: twei("25"), rule: "new_account_ramp" });
      expect(dailyEarningLimit(farm, 13, A)).to.deep.equal({ max: twei("200"), rule: "daily_earning_cap" });
      expect(dailyEarningLimit(farm, 99, A)).to.deep.equal({ max: twei("200"), rule: "daily_earning_cap" });
    });
    it("counts the limits in full reads' worth of the rule set: a launch rule set paying 100 Twei a read allows 800", function () {
      const launch = DEFAULT_RULE_AMOUNTS.map((amount, kind) =>
        kind === ActionKind.ReadToEarn ? twei("100") : amount,
      );
      expect(dailyEarningLimit(farm, 1, launch)).to.deep.equal({ max: twei("800"), rule: "new_account_ramp" });
    });
    it("leaves out an author's Earned for Pluses past the per-user cap, with the rule's name; the plus stays recorded", function () {
      const veteranAuthor = addr(0xa2);
      const w = world({ [veteranAuthor]: earnedForLevel(30) });
      w.accepted(w.run({ type: "post_published", user: veteranAuthor, postId: "big", wordCount: 200 }));
      // 400 pluses of 0.5 Twei fill the 200 Twei cap; the 401st pays nobody.
      const voters = Array.from({ length: 401 }, (_, i) => addr(0x10_000 + i));
      const w2 = world({ [veteranAuthor]: earnedForLevel(30), ...Object.fromEntries(voters.map((v) => [v, level2])) });
      w2.accepted(w2.run({ type: "post_published", user: veteranAuthor, postId: "big", wordCount: 200 }));
      let last: RuleAccepted | undefined;
      for (const voter of voters) {
        w2.accepted(w2.read(voter, "big"));
        last = w2.accepted(w2.run({ type: "post_plus", user: voter, postId: "big" }));
      }
      expect(last?.actions).to.deep.equal([]);
      expect(last?.notes).to.deep.equal([
        `daily_earning_cap: no Earned for Pluses: ${veteranAuthor} earned 200 of its 200 Twei for this UTC day`,
      ]);
      expect(last?.effects.markers).to.deep.equal([keys.vote("big", voters.at(-1)!)]);
      expect(w2.state.tally(keys.earnedOnDay(veteranAuthor, utcDayOf(DAY)))).to.equal(twei("200"));
      expect(w.state.tally(keys.earnedOnDay(veteranAuthor, utcDayOf(DAY)))).to.equal(0n);
    });
    it("holds a like ring's leader to the ramp: 150 reading likers pay it 8 Twei on day one, not 75", function () {
      const leader = addr(0xb1);
      const likers = Array.from({ length: 150 }, (_, i) => addr(0x20_000 + i));
      const w = world(Object.fromEntries(likers.map((v) => [v, level2])));
      w.publish();
      w.comment("lead", leader);
      let toLeader = 0n;
      for (const liker of likers) {
        w.accepted(w.read(liker));
        const outcome = w.accepted(w.like(liker, "lead"));
        for (const a of outcome.actions)
          if (a.account === leader) toLeader += amountFor(DEFAULT_RULE_AMOUNTS, a.kind, a.units);
      }
      expect(toLeader).to.equal(twei("8"));
      expect(levelFor(toLeader)).to.equal(5); // level 13 needs 72 Twei: days of the ramp, not 90 s
    });
    it("leaves out Comment Rewards that do not fit (and does not count the reward as paid)", function () {
      const veteran = addr(0xe5);
      const w = world({ [veteran]: earnedForLevel(13) }, { ...DEFAULT_POLICY, maxReadsEarnedPerUserPerDay: 3 });
      for (let p = 0; p < 2; p++) w.publish(`p${p}`);
      for (let p = 0; p < 2; p++) w.accepted(w.read(veteran, `p${p}`));
      // 2 of 3 Twei earned today: a 2 Twei Comment Reward does not fit.
      const outcome = w.accepted(
        w.run({ type: "comment_created", user: veteran, postId: "p1", commentId: "long", length: 40 }),
      );
      expect(w.kinds(outcome)).to.deep.equal([[ActionKind.CommentTributes, veteran]]);
      expect(outcome.notes).to.deep.equal([
        `daily_earning_cap: no Comment Rewards: ${veteran} earned 2 of its 3 Twei for this UTC day`,
      ]);
      expect(outcome.effects.counters).to.deep.equal([]);
    });
  });

  describe("an honest reader's day", function () {
    it("is never trimmed: five full reads, three pluses and a dozen likes, even at level 2", function () {
      const reader = addr(0x701);
      const w = world({ [reader]: level2 });
      for (let p = 0; p < 5; p++) w.publish(`p${p}`);
      for (let c = 0; c < 12; c++) w.comment(`c${c}`, addr(0x800 + c), `p${c % 5}`);
      const outcomes = [
        ...[0, 1, 2, 3, 4].map((p) => w.read(reader, `p${p}`)),
        ...[0, 1, 2].map((p) => w.run({ type: "post_plus", user: reader, postId: `p${p}` })),
        ...Array.from({ length: 12 }, (_, c) => w.like(reader, `c${c}`, `p${c % 5}`)),
      ].map(w.accepted);
      expect(outcomes.flatMap((o) => o.notes)).to.deep.equal([]);
      expect(w.state.tally(keys.earnedOnDay(reader, utcDayOf(DAY)))).to.equal(twei("6.2"));
    });
    it("for a brand-new reader: the reads are paid in full (only the votes wait for level 2)", function () {
      const reader = addr(0x702);
      const w = world();
      for (let p = 0; p < 5; p++) w.publish(`p${p}`);
      for (let p = 0; p < 5; p++) expect(w.accepted(w.read(reader, `p${p}`)).notes).to.deep.equal([]);
    });
  });

  describe("older versions", function () {
    it("replay exactly as before: a version-2 policy has no farming rules and no tallies", function () {
      expect(farmRulesOf(POLICY_V2)).to.equal(undefined);
      const w = world({}, POLICY_V2);
      w.publish();
      w.comment();
      const like = w.accepted(w.like(addr(0x901)));
      expect(like.actions).to.have.length(3);
      expect(like.effects).to.deep.equal({ markers: [keys.reaction("c1", addr(0x901))], counters: [] });
      expect(w.accepted(w.read(addr(0x901))).effects.tallies).to.equal(undefined);
    });
    it("refuse a version-3 policy without its farming fields", function () {
      expect(() => farmRulesOf({ ...POLICY_V2, version: 3 })).to.throw(RangeError, /voteToEarnMinLevel/);
    });
  });

  describe("properties", function () {
    const users = Array.from({ length: 6 }, (_, i) => addr(0x1000 + i));
    const eventArb = fc.record({
      type: fc.constantFrom(
        "post_read",
        "post_plus",
        "post_minus",
        "comment_created",
        "comment_liked",
        "comment_disliked",
      ),
      user: fc.nat(users.length - 1),
      post: fc.nat(2),
      comment: fc.nat(3),
      seconds: fc.nat(90),
      day: fc.nat(1),
    });
    const earnedArb = fc.array(fc.constantFrom(0, 1, 2, 5, 13, 30), {
      minLength: users.length,
      maxLength: users.length,
    });

    it("no account earns more on a UTC day than its level's limit, and no vote pays without an accepted read", function () {
      fc.assert(
        fc.property(earnedArb, fc.array(eventArb, { maxLength: 120 }), (levels, steps) => {
          const earned = Object.fromEntries(
            users.map((u, i) => [u, levels[i]! === 0 ? 0n : earnedForLevel(levels[i]!)]),
          );
          const w = world({ ...earned, [author]: earnedForLevel(13) });
          for (let p = 0; p < 3; p++) w.publish(`p${p}`, 100);
          for (let c = 0; c < 4; c++) w.comment(`c${c}`, users[c]!, `p${c % 3}`);
          const paid = new Map<string, bigint>();
          for (const step of steps) {
            const user = users[step.user]!;
            const postId =
              step.type.startsWith("comment_") && step.type !== "comment_created"
                ? `p${step.comment % 3}`
                : `p${step.post}`;
            const outcome = w.run({
              type: step.type,
              user,
              postId,
              occurredAt: DAY + step.day * 86_400,
              ...(step.type === "post_read" ? { secondsRead: step.seconds } : {}),
              ...(step.type === "comment_created" ? { commentId: `n${ids}`, length: 30 } : {}),
              ...(step.type === "comment_liked" || step.type === "comment_disliked"
                ? { commentId: `c${step.comment}` }
                : {}),
            });
            if (!outcome.accepted) continue;
            const isVote = step.type !== "post_read" && step.type !== "comment_created";
            const mints = outcome.actions.filter((a) => a.kind < FIRST_BURN_KIND);
            if (isVote && mints.length > 0) {
              expect(w.state.has(keys.read(postId, user)), "a vote paid without a read").to.equal(true);
              expect(levelFor(earned[user] ?? 0n)).to.be.at.least(farm.voteToEarnMinLevel);
            }
            for (const a of mints) {
              const key = `${a.account}:${step.day}`;
              paid.set(key, (paid.get(key) ?? 0n) + amountFor(DEFAULT_RULE_AMOUNTS, a.kind, a.units));
            }
          }
          for (const [key, amount] of paid) {
            const account = key.split(":")[0] as Address;
            const level = levelFor(account === author ? earnedForLevel(13) : (earned[account] ?? 0n));
            expect(amount <= dailyEarningLimit(farm, level, A).max, `${key} earned ${amount}`).to.equal(true);
          }
        }),
        { numRuns: 150 },
      );
    });
    it("a version-2 policy never leaves out or trims a mint (its outcomes carry no farming notes)", function () {
      fc.assert(
        fc.property(fc.array(eventArb, { maxLength: 60 }), (steps) => {
          const w = world({}, POLICY_V2);
          for (let p = 0; p < 3; p++) w.publish(`p${p}`, 100);
          for (let c = 0; c < 4; c++) w.comment(`c${c}`, users[c]!, `p${c % 3}`);
          for (const step of steps) {
            const outcome = w.run({
              type: step.type === "comment_created" ? "post_read" : step.type,
              user: users[step.user]!,
              postId: step.type.startsWith("comment_") ? `p${step.comment % 3}` : `p${step.post}`,
              occurredAt: DAY + step.day * 86_400,
              ...(step.type === "post_read" || step.type === "comment_created" ? { secondsRead: step.seconds } : {}),
              ...(step.type === "comment_liked" || step.type === "comment_disliked"
                ? { commentId: `c${step.comment}` }
                : {}),
            });
            if (!outcome.accepted) continue;
            expect(
              outcome.notes.filter((n) => /^(vote_not_earning|new_account_ramp|daily_earning_cap):/.test(n)),
            ).to.deep.equal([]);
            expect(outcome.effects.tallies).to.equal(undefined);
          }
        }),
        { numRuns: 100 },
      );
    });
  });
});
