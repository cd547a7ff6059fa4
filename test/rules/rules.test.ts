import { expect } from "chai";
import { describe, it } from "mocha";
import { parseUnits, zeroAddress, type Address } from "viem";
import { ActionKind } from "../../src/core/kinds.js";
import { postIdFor } from "../../src/core/postId.js";
import { amountFor, DEFAULT_RULE_AMOUNTS } from "../../src/core/ruleSet.js";
import { siteEventSchema, type SiteEventInput } from "../../src/evidence/siteEvent.js";
import { evaluateEvent, type RuleAccepted, type RuleOutcome } from "../../src/rules/evaluateEvent.js";
import { createMemoryRulesState, type MemoryRulesState } from "../../src/rules/memoryRulesState.js";
import { DEFAULT_POLICY, POLICY_V2, secondsToRead, type RulePolicy } from "../../src/rules/policy.js";
import { countersOf, markersOf } from "../../src/rules/rulesState.js";

const SITE = 3;
const author = "0x00000000000000000000000000000000000000a1" as Address;
const reader = "0x00000000000000000000000000000000000000b2" as Address;
const commenter = "0x00000000000000000000000000000000000000c3" as Address;
const poor = "0x00000000000000000000000000000000000000d4" as Address;
const veteran = "0x00000000000000000000000000000000000000e5" as Address;
const twei = (value: string) => parseUnits(value, 18);
const POST = postIdFor(SITE, "post-1");

let counter = 0;
function world(funds: Record<string, bigint> = {}) {
  const state: MemoryRulesState = createMemoryRulesState({
    defaultFunds: twei("100"),
    funds: new Map(Object.entries({ [poor]: 0n, ...funds }) as [Address, bigint][]),
    earned: new Map([[veteran, twei("72")]]),
  });
  const run = (input: {
    type: SiteEventInput["type"];
    user: Address;
    postId: string;
    [field: string]: unknown;
  }): RuleOutcome => {
    const event = siteEventSchema.parse({ eventId: `e-${counter++}`, occurredAt: 1_700_000_000, ...input });
    const outcome = evaluateEvent({
      siteId: SITE,
      event,
      policy: POLICY_V2,
      amounts: DEFAULT_RULE_AMOUNTS,
      state,
    });
    if (outcome.accepted) state.apply(outcome, DEFAULT_RULE_AMOUNTS);
    return outcome;
  };
  const accepted = (outcome: RuleOutcome): RuleAccepted => {
    if (!outcome.accepted) throw new Error(`rejected: ${outcome.code} ${outcome.message}`);
    return outcome;
  };
  const kinds = (outcome: RuleOutcome) => accepted(outcome).actions.map((a) => [a.kind, a.account, a.units]);
  const code = (outcome: RuleOutcome) => (outcome.accepted ? "accepted" : outcome.code);
  const publish = (wordCount = 1_000) => run({ type: "post_published", user: author, postId: "post-1", wordCount });
  return { state, run, accepted, kinds, code, publish };
}

// The rules of version 2, which every later version keeps: a version-2 policy still gives exactly
// these outcomes (test/rules/farmRules.test.ts covers what version 3 adds).
describe("rules (policy version 2)", function () {
  describe("post published", function () {
    it("charges the Post Publish Tribute and registers the post and its author", function () {
      const w = world();
      const outcome = w.accepted(w.publish());
      expect(w.kinds(outcome)).to.deep.equal([[ActionKind.PostPublishTribute, author, 1]]);
      expect(outcome.registers).to.deep.equal({ postId: POST, author });
      expect(outcome.actions[0]?.postId).to.equal(POST);
    });
    it("is once per post", function () {
      const w = world();
      w.publish();
      expect(w.code(w.publish())).to.equal("post_exists");
    });
    it("is rejected when the author cannot pay the tribute", function () {
      const w = world({ [author]: twei("4.99") });
      expect(w.code(w.publish())).to.equal("insufficient_funds");
    });
  });

  describe("post read", function () {
    const read = (w: ReturnType<typeof world>, secondsRead: number, user = reader) =>
      w.run({ type: "post_read", user, postId: "post-1", secondsRead });

    it("takes the time to read from the word count (200 words a minute)", function () {
      expect(secondsToRead(POLICY_V2, 1_000)).to.equal(300);
      expect(secondsToRead(POLICY_V2, 1)).to.equal(1);
    });
    it("pays in proportion to the time read", function () {
      const w = world();
      w.publish(1_000);
      expect(w.kinds(read(w, 150))).to.deep.equal([[ActionKind.ReadToEarn, reader, 5_000]]);
    });
    it("rounds a fraction that is not a whole number of basis points down", function () {
      const w = world();
      w.publish(1_000); // 300 s to read: 100 s is 3,333.33… bps
      expect(w.kinds(read(w, 100))).to.deep.equal([[ActionKind.ReadToEarn, reader, 3_333]]);
    });
    it("caps the pay at the full amount", function () {
      const w = world();
      w.publish(1_000);
      expect(w.kinds(read(w, 3_000))).to.deep.equal([[ActionKind.ReadToEarn, reader, 10_000]]);
    });
    it("pays nothing below the minimum fraction, and pays exactly at it", function () {
      const w = world();
      w.publish(1_000);
      expect(w.code(read(w, 59))).to.equal("read_too_short");
      expect(w.kinds(read(w, 60))).to.deep.equal([[ActionKind.ReadToEarn, reader, 2_000]]);
    });
    it("is once per reader and post", function () {
      const w = world();
      w.publish();
      w.accepted(read(w, 300));
      expect(w.code(read(w, 300))).to.equal("already_read");
      expect(w.code(read(w, 300, commenter))).to.equal("accepted");
    });
    it("is not for the author", function () {
      const w = world();
      w.publish();
      expect(w.code(read(w, 300, author))).to.equal("self_read");
    });
    it("is rejected on a post the relayer does not know", function () {
      const w = world();
      expect(w.code(read(w, 300))).to.equal("unknown_post");
    });
    it("is rejected for the zero address, which nobody can act as (as is every event)", function () {
      const w = world();
      w.publish();
      expect(w.code(read(w, 300, zeroAddress))).to.equal("zero_address");
      expect(w.code(w.run({ type: "post_plus", user: zeroAddress, postId: "post-1" }))).to.equal("zero_address");
    });
  });

  describe("post plus and minus", function () {
    it("a plus pays the author Earned for Pluses, once per voter and post", function () {
      const w = world();
      w.publish();
      expect(w.kinds(w.run({ type: "post_plus", user: reader, postId: "post-1" }))).to.deep.equal([
        [ActionKind.EarnedForPluses, author, 1],
      ]);
      expect(w.code(w.run({ type: "post_plus", user: reader, postId: "post-1" }))).to.equal("already_voted");
      expect(w.code(w.run({ type: "post_minus", user: reader, postId: "post-1" }))).to.equal("already_voted");
    });
    it("a minus costs the voter Spent for Minuses", function () {
      const w = world();
      w.publish();
      expect(w.kinds(w.run({ type: "post_minus", user: reader, postId: "post-1" }))).to.deep.equal([
        [ActionKind.SpentForMinuses, reader, 1],
      ]);
    });
    it("a minus costing exactly what the voter can spend is accepted; then nothing is left for another", function () {
      const price = amountFor(DEFAULT_RULE_AMOUNTS, ActionKind.SpentForMinuses, 1);
      const w = world({ [reader]: price });
      w.publish();
      w.run({ type: "post_published", user: author, postId: "post-2", wordCount: 5 });
      expect(w.code(w.run({ type: "post_minus", user: reader, postId: "post-1" }))).to.equal("accepted");
      expect(w.code(w.run({ type: "post_minus", user: reader, postId: "post-2" }))).to.equal("insufficient_funds");
    });
    it("a minus costing one wei more than the voter can spend is rejected", function () {
      const w = world({ [reader]: amountFor(DEFAULT_RULE_AMOUNTS, ActionKind.SpentForMinuses, 1) - 1n });
      w.publish();
      expect(w.code(w.run({ type: "post_minus", user: reader, postId: "post-1" }))).to.equal("insufficient_funds");
    });
    it("the author cannot vote on their own post", function () {
      const w = world();
      w.publish();
      expect(w.code(w.run({ type: "post_plus", user: author, postId: "post-1" }))).to.equal("self_vote");
      expect(w.code(w.run({ type: "post_minus", user: author, postId: "post-1" }))).to.equal("self_vote");
    });
    it("a minus the voter cannot afford is rejected", function () {
      const w = world();
      w.publish();
      expect(w.code(w.run({ type: "post_minus", user: poor, postId: "post-1" }))).to.equal("insufficient_funds");
    });
    it("pluses have a daily budget per user across posts (policy v2); minuses do not count, the next UTC day starts afresh", function () {
      const w = world();
      const budget = POLICY_V2.maxPlusesPerUserPerDay;
      const posts = Array.from({ length: budget + 2 }, (_, i) => `post-${i + 1}`);
      for (const postId of posts) w.run({ type: "post_published", user: author, postId, wordCount: 100 });
      const day = 1_700_000_000 - (1_700_000_000 % 86_400);
      for (const postId of posts.slice(0, budget))
        expect(w.code(w.run({ type: "post_plus", user: reader, postId, occurredAt: day + 10 }))).to.equal("accepted");
      const over = w.run({ type: "post_plus", user: reader, postId: posts[budget]!, occurredAt: day + 86_399 });
      expect(w.code(over)).to.equal("daily_budget_spent");
      expect(
        w.code(w.run({ type: "post_minus", user: reader, postId: posts[budget]!, occurredAt: day + 86_399 })),
      ).to.equal("accepted");
      expect(
        w.code(w.run({ type: "post_plus", user: commenter, postId: posts[budget]!, occurredAt: day + 5 })),
      ).to.equal("accepted");
      expect(
        w.code(w.run({ type: "post_plus", user: reader, postId: posts[budget + 1]!, occurredAt: day + 86_400 })),
      ).to.equal("accepted");
    });
  });

  describe("comment created", function () {
    const comment = (w: ReturnType<typeof world>, user: Address, commentId: string, length = 50) =>
      w.run({ type: "comment_created", user, postId: "post-1", commentId, length });

    it("charges the Comment Tribute, with no reward below the minimum level", function () {
      const w = world();
      w.publish();
      const outcome = w.accepted(comment(w, commenter, "c1"));
      expect(w.kinds(outcome)).to.deep.equal([[ActionKind.CommentTributes, commenter, 1]]);
      expect(outcome.notes.join()).to.match(/level 1 is below 13/);
    });
    it("pays Comment Rewards from level 13 (72 Twei earned)", function () {
      const w = world();
      w.publish();
      expect(w.kinds(comment(w, veteran, "c1"))).to.deep.equal([
        [ActionKind.CommentRewards, veteran, 1],
        [ActionKind.CommentTributes, veteran, 1],
      ]);
    });
    it("pays no reward to a comment below the minimum length", function () {
      const w = world();
      w.publish();
      const outcome = w.accepted(comment(w, veteran, "c1", 19));
      expect(w.kinds(outcome)).to.deep.equal([[ActionKind.CommentTributes, veteran, 1]]);
      expect(outcome.notes.join()).to.match(/shorter than 20/);
    });
    it("caps the rewards per user and post", function () {
      const w = world();
      w.publish();
      w.accepted(comment(w, veteran, "c1"));
      const second = w.accepted(comment(w, veteran, "c2"));
      expect(w.kinds(second)).to.deep.equal([[ActionKind.CommentTributes, veteran, 1]]);
      expect(second.notes.join()).to.match(/per user and post/);
    });
    it("caps the rewards per post", function () {
      const w = world();
      w.publish();
      const veterans = Array.from(
        { length: POLICY_V2.maxCommentRewardsPerPost + 1 },
        (_, i) => `0x${(0xf000 + i).toString(16).padStart(40, "0")}` as Address,
      );
      const state = createMemoryRulesState({
        defaultFunds: twei("100"),
        earned: new Map(veterans.map((v) => [v, twei("72")])),
      });
      // Re-run on a state where all of them are veterans.
      const publish = evaluateEvent({
        siteId: SITE,
        event: siteEventSchema.parse({
          eventId: "p",
          type: "post_published",
          occurredAt: 1,
          user: author,
          postId: "post-1",
          wordCount: 10,
        }),
        policy: POLICY_V2,
        amounts: DEFAULT_RULE_AMOUNTS,
        state,
      });
      if (!publish.accepted) throw new Error("publish failed");
      state.apply(publish, DEFAULT_RULE_AMOUNTS);
      const rewarded = veterans.map((user, i) => {
        const outcome = evaluateEvent({
          siteId: SITE,
          event: siteEventSchema.parse({
            eventId: `c${i}`,
            type: "comment_created",
            occurredAt: 1,
            user,
            postId: "post-1",
            commentId: `c${i}`,
            length: 30,
          }),
          policy: POLICY_V2,
          amounts: DEFAULT_RULE_AMOUNTS,
          state,
        });
        if (!outcome.accepted) throw new Error(outcome.code);
        state.apply(outcome, DEFAULT_RULE_AMOUNTS);
        return outcome.actions.some((a) => a.kind === ActionKind.CommentRewards);
      });
      expect(rewarded.filter(Boolean)).to.have.length(POLICY_V2.maxCommentRewardsPerPost);
      expect(rewarded.at(-1)).to.equal(false);
    });
    it("is rejected when the commenter cannot pay the tribute, counting pending spends", function () {
      const w = world({ [commenter]: twei("0.3") });
      w.publish();
      expect(w.code(comment(w, commenter, "c1"))).to.equal("accepted"); // 0.2 of 0.3
      expect(w.code(comment(w, commenter, "c2"))).to.equal("insufficient_funds"); // 0.2 more than 0.1 left
    });
    it("is rejected when the commenter's funds cannot be read", function () {
      const state = createMemoryRulesState({});
      const event = siteEventSchema.parse({
        eventId: "x",
        type: "report_purchased",
        occurredAt: 1,
        user: reader,
        postId: "post-1",
      });
      const w = world();
      w.publish();
      const outcome = evaluateEvent({
        siteId: SITE,
        event,
        policy: POLICY_V2,
        amounts: DEFAULT_RULE_AMOUNTS,
        state: { ...state, post: w.state.post },
      });
      expect(outcome.accepted ? "accepted" : outcome.code).to.equal("funds_unknown");
    });
    it("is once per comment id", function () {
      const w = world();
      w.publish();
      comment(w, commenter, "c1");
      expect(w.code(comment(w, reader, "c1"))).to.equal("comment_exists");
    });
  });

  describe("comment liked and disliked", function () {
    const setup = () => {
      const w = world();
      w.publish();
      w.accepted(
        w.run({
          type: "comment_created",
          user: commenter,
          postId: "post-1",
          commentId: "c1",
          length: 30,
        }),
      );
      return w;
    };
    it("a like pays Likes Own, Likes Commenter and Likes Author", function () {
      const w = setup();
      expect(w.kinds(w.run({ type: "comment_liked", user: reader, postId: "post-1", commentId: "c1" }))).to.deep.equal([
        [ActionKind.LikesOwn, reader, 1],
        [ActionKind.LikesCommenter, commenter, 1],
        [ActionKind.LikesAuthor, author, 1],
      ]);
    });
    it("a dislike costs Dislikes Own and Dislikes Commenter and pays Dislikes Author", function () {
      const w = setup();
      expect(
        w.kinds(w.run({ type: "comment_disliked", user: reader, postId: "post-1", commentId: "c1" })),
      ).to.deep.equal([
        [ActionKind.DislikesOwn, reader, 1],
        [ActionKind.DislikesCommenter, commenter, 1],
        [ActionKind.DislikesAuthor, author, 1],
      ]);
    });
    it("is once per user and comment", function () {
      const w = setup();
      w.run({ type: "comment_liked", user: reader, postId: "post-1", commentId: "c1" });
      expect(w.code(w.run({ type: "comment_liked", user: reader, postId: "post-1", commentId: "c1" }))).to.equal(
        "already_reacted",
      );
      expect(w.code(w.run({ type: "comment_disliked", user: reader, postId: "post-1", commentId: "c1" }))).to.equal(
        "already_reacted",
      );
    });
    it("is not on one's own comment", function () {
      const w = setup();
      expect(w.code(w.run({ type: "comment_liked", user: commenter, postId: "post-1", commentId: "c1" }))).to.equal(
        "self_reaction",
      );
    });
    it("pays the post's author nothing for their own like", function () {
      const w = setup();
      const outcome = w.accepted(w.run({ type: "comment_liked", user: author, postId: "post-1", commentId: "c1" }));
      expect(outcome.actions.map((a) => a.kind)).to.deep.equal([ActionKind.LikesOwn, ActionKind.LikesCommenter]);
    });
    it("is rejected for an unknown comment or one on another post", function () {
      const w = setup();
      expect(w.code(w.run({ type: "comment_liked", user: reader, postId: "post-1", commentId: "nope" }))).to.equal(
        "unknown_comment",
      );
      w.run({ type: "post_published", user: author, postId: "post-2", wordCount: 5 });
      expect(w.code(w.run({ type: "comment_liked", user: reader, postId: "post-2", commentId: "c1" }))).to.equal(
        "comment_of_other_post",
      );
    });
    it("a dislike is accepted when the disliker can pay Dislikes Own though the commenter cannot pay the penalty (the ledger records a shortfall)", function () {
      const tribute = amountFor(DEFAULT_RULE_AMOUNTS, ActionKind.CommentTributes, 1);
      const w = world({ [commenter]: tribute });
      w.publish();
      w.accepted(w.run({ type: "comment_created", user: commenter, postId: "post-1", commentId: "c2", length: 30 }));
      expect(w.state.spendable(commenter)).to.equal(0n);
      expect(
        w.kinds(w.run({ type: "comment_disliked", user: reader, postId: "post-1", commentId: "c2" })),
      ).to.deep.equal([
        [ActionKind.DislikesOwn, reader, 1],
        [ActionKind.DislikesCommenter, commenter, 1],
        [ActionKind.DislikesAuthor, author, 1],
      ]);
    });
    it("a dislike the disliker cannot afford is rejected (the commenter's penalty is not checked)", function () {
      const w = setup();
      expect(w.code(w.run({ type: "comment_disliked", user: poor, postId: "post-1", commentId: "c1" }))).to.equal(
        "insufficient_funds",
      );
    });
  });

  describe("report purchased", function () {
    it("charges one PnL Report per purchase, the author included", function () {
      const w = world();
      w.publish();
      for (const user of [reader, reader, author])
        expect(w.kinds(w.run({ type: "report_purchased", user, postId: "post-1" }))).to.deep.equal([
          [ActionKind.PnLReports, user, 1],
        ]);
    });
    it("is rejected when the buyer cannot pay", function () {
      const w = world();
      w.publish();
      expect(w.code(w.run({ type: "report_purchased", user: poor, postId: "post-1" }))).to.equal("insufficient_funds");
    });
  });

  it("is deterministic: the same events give the same actions on a fresh state", function () {
    const script = (w: ReturnType<typeof world>) => [
      w.publish(),
      w.run({ type: "post_read", user: reader, postId: "post-1", secondsRead: 200 }),
      w.run({ type: "post_plus", user: reader, postId: "post-1" }),
    ];
    counter = 0;
    const first = script(world());
    counter = 0;
    expect(script(world())).to.deep.equal(first);
  });
});

// The relayer's stores load only the markers and counters markersOf/countersOf name for a batch
// of events before evaluating them (src/relayer/storage): the rules must read no other.
describe("rules: the state an event reads is the state the stores preload", function () {
  for (const policy of [POLICY_V2, DEFAULT_POLICY] as RulePolicy[])
    it(`reads only the markers and counters markersOf and countersOf name (policy version ${policy.version})`, function () {
      const state = createMemoryRulesState({ defaultFunds: twei("100"), earned: new Map([[veteran, twei("72")]]) });
      const read = { markers: new Set<string>(), counters: new Set<string>() };
      const watched = {
        ...state,
        has: (marker: string) => (read.markers.add(marker), state.has(marker)),
        count: (counter: string) => (read.counters.add(counter), state.count(counter)),
      };
      const events: SiteEventInput[] = [
        { type: "post_published", user: author, postId: "p", wordCount: 100 },
        { type: "post_read", user: veteran, postId: "p", secondsRead: 30 },
        { type: "post_read", user: reader, postId: "p", secondsRead: 30 },
        { type: "post_plus", user: veteran, postId: "p" },
        { type: "post_minus", user: reader, postId: "p" },
        { type: "comment_created", user: veteran, postId: "p", commentId: "c", length: 40 },
        { type: "comment_created", user: reader, postId: "p", commentId: "d", length: 40 },
        { type: "comment_liked", user: reader, postId: "p", commentId: "c" },
        { type: "comment_liked", user: author, postId: "p", commentId: "d" },
        { type: "comment_disliked", user: veteran, postId: "p", commentId: "d" },
        { type: "report_purchased", user: reader, postId: "p" },
      ].map((input, i) => ({ eventId: `m-${i}`, occurredAt: 1_700_000_000 + i, ...input }) as SiteEventInput);
      for (const input of events) {
        const event = siteEventSchema.parse(input);
        read.markers.clear();
        read.counters.clear();
        const outcome = evaluateEvent({ siteId: SITE, event, policy, amounts: DEFAULT_RULE_AMOUNTS, state: watched });
        expect(outcome.accepted, `${event.type} by ${event.user}`).to.equal(true);
        if (outcome.accepted) state.apply(outcome, DEFAULT_RULE_AMOUNTS);
        expect(markersOf(event), event.type).to.include.members([...read.markers]);
        expect(countersOf(event), event.type).to.include.members([...read.counters]);
      }
    });

  it("names no marker or counter for an event that reads none", function () {
    const published = { type: "post_published", user: author, postId: "p", occurredAt: 0 };
    expect(markersOf(published)).to.deep.equal([]);
    expect(countersOf(published)).to.deep.equal([]);
    expect(markersOf({ type: "report_purchased", user: author, postId: "p" })).to.deep.equal([]);
  });
});
