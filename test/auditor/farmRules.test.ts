import { expect } from "chai";
import { after, afterEach, before, describe, it } from "mocha";
import type { Address } from "viem";
import type { Discrepancy } from "../../src/auditor/discrepancy.js";
import { ActionKind } from "../../src/core/kinds.js";
import type { AccountAction } from "../../src/core/packedActions.js";
import { postIdFor } from "../../src/core/postId.js";
import { DEFAULT_POLICY, type RulePolicy } from "../../src/rules/policy.js";
import { SITE_ID, startCraftedChain, type CraftedChain } from "./helpers/craftedChain.js";

// A tight version-3 policy, so that a few events reach each limit: a level-1 account earns one
// full read a day, any other two; one like a day; votes pay from level 2 readers.
const POLICY: RulePolicy = {
  ...DEFAULT_POLICY,
  maxLikesPerUserPerDay: 1,
  earningRamp: [{ belowLevel: 2, maxReadsPerDay: 1 }],
  maxReadsEarnedPerUserPerDay: 2,
};
const [P1, P2, P3] = ["post-1", "post-2", "post-3"];
const codes = (found: readonly Discrepancy[]) => [...new Set(found.map((d) => d.code))].sort();

/**
 * The farming rules of policy version 3 (issue 22), checked by the auditor on the evidence:
 * a chain that settles what each rule forbids is a discrepancy that names the rule.
 */
describe("auditor: the farming rules of policy version 3, replayed on the evidence", function () {
  this.timeout(180_000);
  let chain: CraftedChain;
  let restore: (() => Promise<void>) | undefined;
  const users: Address[] = [];
  const [author, r1, r2, r3, r4, r5] = [0, 1, 2, 3, 4, 5];
  const user = (i: number) => users[i] as Address;
  const act = (account: number, kind: ActionKind, postId: string, units = 1): AccountAction => ({
    account: user(account),
    kind,
    units,
    postId: postIdFor(SITE_ID, postId),
  });

  before(async function () {
    chain = await startCraftedChain({ policy: POLICY });
    for (let i = 0; i <= 5; i++) {
      users.push(chain.user(i).address);
      await chain.approveLedger(chain.user(i));
    }
    const e = chain.event;
    // 200 words: 60 s to read.
    await chain.settle([
      e("post_published", "publish-1", user(author), P1, { wordCount: 200 }),
      e("post_published", "publish-2", user(author), P2, { wordCount: 200 }),
      e("post_published", "publish-3", user(author), P3, { wordCount: 200 }),
      e("post_read", "read-r1", user(r1), P1, { secondsRead: 60 }),
      e("post_read", "read-r2", user(r2), P1, { secondsRead: 60 }),
      // 20 s of 60: 3,333 bps, 0.3333 Twei: r5 stays at level 1 (level 2 takes 0.5).
      e("post_read", "read-r5-third", user(r5), P1, { secondsRead: 20 }),
      e("comment_created", "comment-r3", user(r3), P1, { commentId: "c1", length: 40 }),
      e("comment_created", "comment-r2", user(r2), P1, { commentId: "c2", length: 40 }),
    ]);
    // r1 and r2 are level 2 now (1 Twei settled): their votes pay; r4 never read P1, so its like pays nobody.
    await chain.settle([
      e("comment_liked", "like-r1", user(r1), P1, { commentId: "c1" }),
      e("post_plus", "plus-r1", user(r1), P1),
      e("comment_liked", "like-r4", user(r4), P1, { commentId: "c1" }),
    ]);
    // A relayer whose record of settlements lagged saw r2 at level 1: its like paid nobody. The
    // replay sees level 2 and would pay it; the rules at a lower level agree with the chain.
    await chain.settle([e("comment_liked", "like-r2", user(r2), P1, { commentId: "c1" })], { relayerEarned: "none" });
  });

  after(async function () {
    await chain?.stop();
  });

  afterEach(async function () {
    await restore?.();
    restore = undefined;
  });

  const scratch = async () => {
    restore = await chain.snapshot();
  };

  it("the clean chain audits clean: a vote of a non-reader paid nobody, a lagging relayer's lower level is no discrepancy", async function () {
    const result = await chain.audit();
    expect(result.discrepancies).to.deep.equal([]);
    expect(result.summary.batches).to.equal(3);
    expect(result.summary.events).to.equal(12);
  });

  it("vote_not_earning: a like of a wallet that never read the post, paid anyway, is an unexplained action naming the rule", async function () {
    await scratch();
    const e = chain.event;
    const { batchId } = await chain.settle([e("comment_liked", "like-r3-c2", user(r3), P1, { commentId: "c2" })], {
      actions: [
        act(r3, ActionKind.LikesOwn, P1),
        act(r2, ActionKind.LikesCommenter, P1),
        act(author, ActionKind.LikesAuthor, P1),
      ],
    });
    const result = await chain.audit();
    expect(codes(result.discrepancies)).to.deep.equal(["unexplained_action"]);
    expect(result.discrepancies).to.have.length(3);
    for (const d of result.discrepancies) {
      expect(d.batchId).to.equal(batchId.toString());
      expect(d.what).to.include("event like-r3-c2").and.include("vote_not_earning");
    }
  });

  it("daily_like_budget_spent: a second like of one user on one UTC day is an event the rules reject", async function () {
    await scratch();
    const e = chain.event;
    const { batchId } = await chain.settle([e("comment_liked", "like-r1-c2", user(r1), P1, { commentId: "c2" })], {
      actions: [act(r1, ActionKind.LikesOwn, P1), act(r2, ActionKind.LikesCommenter, P1)],
    });
    const result = await chain.audit();
    const rejected = result.discrepancies.filter((d) => d.code === "rule_rejected_event");
    expect(rejected.map((d) => [d.batchId, d.where])).to.deep.equal([[batchId.toString(), "event like-r1-c2"]]);
    expect(rejected[0]?.what).to.include("daily_like_budget_spent");
  });

  it("new_account_ramp: a level-1 account paid past its ramp is rejected (nothing left) or named (trimmed)", async function () {
    await scratch();
    const e = chain.event;
    // r5 (level 1, 0.3333 of its 1 Twei today) reads P2 in full: the rules pay 6,667 bps, the
    // chain 10,000. Then P3: nothing is left today, the rules reject the read; the chain pays it.
    const { batchId } = await chain.settle(
      [
        e("post_read", "read-r5-p2", user(r5), P2, { secondsRead: 60 }),
        e("post_read", "read-r5-p3", user(r5), P3, { secondsRead: 60 }),
      ],
      { actions: [act(r5, ActionKind.ReadToEarn, P2, 10_000), act(r5, ActionKind.ReadToEarn, P3, 10_000)] },
    );
    const result = await chain.audit();
    expect(result.discrepancies.map((d) => [d.code, d.batchId, d.where])).to.deep.equal([
      ["rule_rejected_event", batchId.toString(), "event read-r5-p3"],
      ["unexplained_action", batchId.toString(), "action #0"],
      ["unexplained_action", batchId.toString(), "action #1"],
      ["missing_action", batchId.toString(), "event read-r5-p2"],
    ]);
    const [rejected, trimmed, , missing] = result.discrepancies;
    expect(rejected?.what).to.include("new_account_ramp: no Read-to-Earn");
    expect(trimmed?.what).to.include("event read-r5-p2: new_account_ramp: Read-to-Earn trimmed from 10000 to 6667 bps");
    expect(missing?.expected).to.include("Read-to-Earn ×6667");
  });

  it("daily_earning_cap: an account past the ramp paid past the per-user cap is named with the cap", async function () {
    await scratch();
    const e = chain.event;
    // r1 (level 2) earned 1.1 Twei today of its 2: a full read of P2 is trimmed to 9,000 bps.
    const { batchId } = await chain.settle([e("post_read", "read-r1-p2", user(r1), P2, { secondsRead: 60 })], {
      actions: [act(r1, ActionKind.ReadToEarn, P2, 10_000)],
    });
    const result = await chain.audit();
    expect(result.discrepancies.map((d) => [d.code, d.batchId])).to.deep.equal([
      ["unexplained_action", batchId.toString()],
      ["missing_action", batchId.toString()],
    ]);
    expect(result.discrepancies[0]?.what).to.include("daily_earning_cap: Read-to-Earn trimmed from 10000 to 9000 bps");
  });

  it("a relayer that paid a vote more than the rules at any level allow is not excused by the lower-level leeway", async function () {
    await scratch();
    const e = chain.event;
    // r3 never read P1 (it commented only): at no level does its like pay.
    const { batchId } = await chain.settle([e("comment_liked", "like-r3-c2", user(r3), P1, { commentId: "c2" })], {
      actions: [act(r3, ActionKind.LikesOwn, P1)],
      relayerEarned: "none",
    });
    const result = await chain.audit();
    expect(result.discrepancies.map((d) => [d.code, d.batchId])).to.deep.equal([
      ["unexplained_action", batchId.toString()],
    ]);
  });
});
