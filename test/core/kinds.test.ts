import { expect } from "chai";
import fc from "fast-check";
import { describe, it } from "mocha";
import { parseUnits } from "viem";
import { ActionKind, BPS, FIRST_BURN_KIND, KIND_COUNT, KINDS, isActionKind, kindInfo } from "../../src/core/kinds.js";
import { earnedForLevel, levelFor } from "../../src/core/levels.js";
import { postIdFor } from "../../src/core/postId.js";
import {
  DEFAULT_BURN_CAP,
  DEFAULT_EMISSION_CAP,
  DEFAULT_EPOCH_SECONDS,
  DEFAULT_UNIT_BOUNDS,
  amountFor,
} from "../../src/core/ruleSet.js";

const twei = (value: string) => parseUnits(value, 18);

describe("action kinds: ids, report lines and directions", function () {
  it("lists the 13 kinds by id: the first seven mint, the last six burn, four go to or from the post's author", function () {
    expect(KIND_COUNT).to.equal(13);
    expect(FIRST_BURN_KIND).to.equal(7);
    expect(BPS).to.equal(10_000);
    expect(KINDS.map((k) => [k.kind, k.label, k.section, k.direction, k.toAuthor])).to.deep.equal([
      [0, "Read-to-Earn", "earned", "mint", false],
      [1, "Earned for Pluses", "profit", "mint", true],
      [2, "Comment Rewards", "profit", "mint", false],
      [3, "Likes Own", "profit", "mint", false],
      [4, "Likes Commenter", "profit", "mint", false],
      [5, "Likes Author", "profit", "mint", true],
      [6, "Dislikes Author", "profit", "mint", true],
      [7, "Spent for Minuses", "loss", "burn", false],
      [8, "Comment Tributes", "loss", "burn", false],
      [9, "Dislikes Own", "loss", "burn", false],
      [10, "Dislikes Commenter", "loss", "burn", false],
      [11, "Post Publish Tribute", "loss", "burn", true],
      [12, "PnL Reports", "loss", "burn", false],
    ]);
    expect(Object.values(ActionKind)).to.deep.equal(KINDS.map((k) => k.kind));
  });

  it("knows exactly the integers 0..12 as kinds, and names an unknown kind", function () {
    for (const value of [0, 6, 7, 12]) expect(isActionKind(value), String(value)).to.equal(true);
    for (const value of [-1, 13, 1.5, Number.NaN]) expect(isActionKind(value), String(value)).to.equal(false);
    expect(kindInfo(ActionKind.PnLReports).label).to.equal("PnL Reports");
    expect(() => kindInfo(13 as ActionKind)).to.throw(RangeError, /unknown action kind 13/);
  });
});

describe("the level curve", function () {
  it("puts level 2 at 0.5 Twei and level 3 at 2 Twei earned, and no sooner", function () {
    expect(earnedForLevel(1)).to.equal(0n);
    expect(earnedForLevel(2)).to.equal(twei("0.5"));
    expect(earnedForLevel(3)).to.equal(twei("2"));
    expect(levelFor(1n)).to.equal(1);
    expect(levelFor(twei("0.5") - 1n)).to.equal(1);
    expect(levelFor(twei("0.5"))).to.equal(2);
    expect(levelFor(twei("1"))).to.equal(2);
    expect(levelFor(twei("1.5"))).to.equal(2);
    expect(levelFor(twei("2"))).to.equal(3);
  });

  it("gives every amount earned the level whose threshold it reaches and the next one's it does not", function () {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), (earned) => {
        const level = levelFor(earned);
        return earnedForLevel(level) <= earned && earned < earnedForLevel(level + 1);
      }),
    );
  });

  it("refuses a level that is not a positive integer and a negative amount earned", function () {
    expect(() => earnedForLevel(0)).to.throw(RangeError, /level 0 is not a positive integer/);
    expect(() => earnedForLevel(1.5)).to.throw(RangeError, /level 1.5/);
    expect(() => levelFor(-1n)).to.throw(RangeError, /negative/);
  });
});

describe("post ids and the default rule set's bounds", function () {
  it("derives a post id as the first 8 bytes of keccak256(uint32 siteId, sitePostId)", function () {
    // keccak256(0x00000001 ‖ "critical-minerals-2026") = 0x077a59a6bf92779e…
    expect(postIdFor(1, "critical-minerals-2026")).to.equal(0x077a59a6bf92779en);
  });

  it("bounds Read-to-Earn at 10,000 basis points and every other kind at one unit an action; caps a day at 1,000,000 Twei each way", function () {
    expect(DEFAULT_UNIT_BOUNDS).to.deep.equal([BPS, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(DEFAULT_EMISSION_CAP).to.equal(twei("1000000"));
    expect(DEFAULT_BURN_CAP).to.equal(twei("1000000"));
    expect(DEFAULT_EPOCH_SECONDS).to.equal(86_400n);
  });

  it("amountFor refuses a rule set of 14 amounts and a kind past the last", function () {
    const amounts = (length: number) => Array.from({ length }, () => 1n);
    expect(() => amountFor(amounts(14), ActionKind.LikesOwn, 1)).to.throw(RangeError, /13 amounts/);
    expect(() => amountFor(amounts(13), 13 as ActionKind, 1)).to.throw(RangeError, /unknown action kind 13/);
  });
});
