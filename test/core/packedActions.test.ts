import { expect } from "chai";
import { describe, it } from "mocha";
import type { Address } from "viem";
import { ActionKind } from "../../src/core/kinds.js";
import { earnedForLevel, levelFor } from "../../src/core/levels.js";
import {
  PackedActionsError,
  decodePackedActions,
  encodePackedActions,
  groupByAccount,
  type AccountAction,
} from "../../src/core/packedActions.js";
import { postIdFor } from "../../src/core/postId.js";
import { labelledAddress } from "../../src/devnet/labelledAddress.js";
import { DEFAULT_RULE_AMOUNTS, amountFor } from "../../src/core/ruleSet.js";

const account = (i: number): Address => labelledAddress("account", i);

describe("packed actions", function () {
  it("decode what encode wrote: posts, accounts, kinds, units and post ids, in batch order", function () {
    const actions: AccountAction[] = [];
    for (let i = 0; i < 300; i++)
      actions.push({
        account: account(i % 37),
        kind: (i % 13) as ActionKind,
        units: i % 13 === 0 ? 1 + ((i * 97) % 10_000) : 1 + (i % 5),
        postId: BigInt(1 + (i % 9)) * 1_000_000_007n,
      });
    const posts = [{ postId: 5n, author: account(1) }];
    const groups = groupByAccount(actions);
    const decoded = decodePackedActions(encodePackedActions({ posts, groups }));
    expect(decoded.posts).to.deep.equal(posts);
    const flat = groups.flatMap((g) => g.actions.map((a) => ({ ...a, account: g.account })));
    expect(decoded.actions.map(({ actionIndex, ...rest }) => ({ ...rest, index: actionIndex }))).to.deep.equal(
      flat.map((a, index) => ({ account: a.account, kind: a.kind, units: a.units, postId: a.postId, index })),
    );
  });

  it("groups each account's mints before its burns, in one group however many it has", function () {
    const a = account(1);
    const b = account(2);
    const groups = groupByAccount([
      { account: a, kind: ActionKind.CommentTributes, units: 1, postId: 1n },
      { account: b, kind: ActionKind.LikesOwn, units: 1, postId: 1n },
      { account: a.toLowerCase() as Address, kind: ActionKind.CommentRewards, units: 1, postId: 1n },
    ]);
    expect(groups.map((g) => [g.account, g.actions.map((x) => x.kind)])).to.deep.equal([
      [a, [ActionKind.CommentRewards, ActionKind.CommentTributes]],
      [b, [ActionKind.LikesOwn]],
    ]);
    const many = Array.from({ length: 600 }, () => ({ account: a, kind: ActionKind.LikesOwn, units: 1, postId: 1n }));
    expect(groupByAccount(many).map((g) => g.actions.length)).to.deep.equal([600]);
  });

  it("refuses out-of-range units and more than 256 referenced posts", function () {
    const encode = (actions: AccountAction[]) => encodePackedActions({ posts: [], groups: groupByAccount(actions) });
    expect(() => encode([{ account: account(1), kind: ActionKind.ReadToEarn, units: 10_001, postId: 1n }])).to.throw(
      PackedActionsError,
      /units 10001 out of range 1..10000/,
    );
    expect(() => encode([{ account: account(1), kind: ActionKind.LikesOwn, units: 0, postId: 1n }])).to.throw(
      PackedActionsError,
      /units 0/,
    );
    const refs = Array.from({ length: 257 }, (_, i) => ({
      account: account(1),
      kind: ActionKind.LikesOwn,
      units: 1,
      postId: BigInt(i),
    }));
    expect(() => encode(refs)).to.throw(PackedActionsError, /refer to 257 posts/);
    expect(() => encode(refs.slice(0, 256))).not.to.throw();
  });

  it("names a truncated or overlong encoding", function () {
    const packed = encodePackedActions({
      posts: [],
      groups: groupByAccount([{ account: account(1), kind: ActionKind.LikesOwn, units: 1, postId: 1n }]),
    });
    expect(() => decodePackedActions(packed.slice(0, -2) as `0x${string}`)).to.throw(PackedActionsError, /end early/);
    expect(() => decodePackedActions(`${packed}00`)).to.throw(PackedActionsError, /run past/);
  });

  it("flags the last action of each group, and names a group that runs on past the end", function () {
    const packed = encodePackedActions({
      posts: [],
      groups: groupByAccount([
        { account: account(1), kind: ActionKind.LikesOwn, units: 1, postId: 1n },
        { account: account(1), kind: ActionKind.CommentRewards, units: 2, postId: 1n },
      ]),
    });
    // 0000 | 0001 <post id> | 0001 <account> 03 0001 00 | 82 0002 00
    expect(packed.slice(-16)).to.equal("0300010082000200");
    expect(() => decodePackedActions(`${packed.slice(0, -8)}02000200` as `0x${string}`)).to.throw(
      PackedActionsError,
      /end early/,
    );
  });
});

describe("packed actions: the exact layout and its bounds", function () {
  const hex = (value: bigint, bytes: number) => value.toString(16).padStart(bytes * 2, "0");
  const one = (action: Partial<AccountAction>) =>
    encodePackedActions({
      posts: [],
      groups: groupByAccount([{ account: account(1), kind: ActionKind.LikesOwn, units: 1, postId: 1n, ...action }]),
    });

  it("writes posts, references and groups byte for byte, flagging each group's last action", function () {
    const author = account(1);
    const voter = account(2);
    const packed = encodePackedActions({
      posts: [{ postId: 5n, author }],
      groups: groupByAccount([
        { account: voter, kind: ActionKind.CommentTributes, units: 1, postId: 9n },
        { account: voter, kind: ActionKind.LikesOwn, units: 258, postId: 5n },
        { account: author, kind: ActionKind.ReadToEarn, units: 10_000, postId: 9n },
      ]),
    });
    const address = (a: string) => a.slice(2).toLowerCase();
    expect(packed).to.equal(
      "0x" +
        ["0001", hex(5n, 8), address(author)].join("") +
        ["0002", hex(5n, 8), hex(9n, 8)].join("") +
        ["0002", address(voter), "03", "0102", "00", "88", "0001", "01"].join("") +
        [address(author), "80", "2710", "01"].join(""),
    );
  });

  it("takes units up to 10,000 for Read-to-Earn and 65,535 for other kinds, whole and from 1", function () {
    expect(() => one({ kind: ActionKind.ReadToEarn, units: 10_000 })).not.to.throw();
    expect(() => one({ kind: ActionKind.LikesOwn, units: 65_535 })).not.to.throw();
    expect(() => one({ kind: ActionKind.LikesOwn, units: 65_536 })).to.throw(
      PackedActionsError,
      /out of range 1..65535/,
    );
    expect(() => one({ kind: ActionKind.LikesOwn, units: 1.5 })).to.throw(PackedActionsError, /units 1.5/);
    expect(() => one({ kind: 13 as ActionKind })).to.throw(PackedActionsError, /unknown action kind 13/);
  });

  it("takes post ids 0..2**64-1, in registrations and in actions", function () {
    const register = (postId: bigint) => encodePackedActions({ posts: [{ postId, author: account(1) }], groups: [] });
    expect(() => one({ postId: 0n })).not.to.throw();
    expect(() => one({ postId: 2n ** 64n - 1n })).not.to.throw();
    expect(() => one({ postId: 2n ** 64n })).to.throw(PackedActionsError, /not a uint64/);
    expect(() => one({ postId: -1n })).to.throw(PackedActionsError, /not a uint64/);
    expect(() => register(0n)).not.to.throw();
    expect(() => register(2n ** 64n - 1n)).not.to.throw();
    expect(() => register(2n ** 64n)).to.throw(PackedActionsError, /not a uint64/);
    expect(() => register(-1n)).to.throw(PackedActionsError, /not a uint64/);
  });

  it("puts a Spent for Minuses after the mints of its account's group, whatever the order it came in", function () {
    const voter = account(1);
    const groups = groupByAccount([
      { account: voter, kind: ActionKind.SpentForMinuses, units: 1, postId: 1n },
      { account: voter, kind: ActionKind.DislikesAuthor, units: 1, postId: 1n },
    ]);
    expect(groups.map((g) => g.actions.map((a) => a.kind))).to.deep.equal([
      [ActionKind.DislikesAuthor, ActionKind.SpentForMinuses],
    ]);
  });

  it("takes 65,535 posts and 65,535 account groups, and refuses one more, or a group without actions", function () {
    const someone = account(1);
    this.timeout(20_000); // a packed batch of 1.8 MB, then one of 1.6 MB
    const many = Array.from({ length: 65_535 }, (_, i) => BigInt(i));
    const posts65535 = encodePackedActions({ posts: many.map((postId) => ({ postId, author: someone })), groups: [] });
    expect(posts65535.slice(0, 6)).to.equal("0xffff");
    const groups65535 = encodePackedActions({
      posts: [],
      groups: many.map(() => ({ account: someone, actions: [{ kind: ActionKind.LikesOwn, units: 1, postId: 0n }] })),
    });
    expect(groups65535.slice(0, 30)).to.equal(`0x00000001${"0".repeat(16)}ffff`);
    const posts = Array.from({ length: 65_536 }, () => ({ postId: 1n, author: someone }));
    const groups = Array.from({ length: 65_536 }, () => ({ account: someone, actions: [] }));
    expect(() => encodePackedActions({ posts, groups: [] })).to.throw(PackedActionsError, /too many posts: 65536/);
    expect(() => encodePackedActions({ posts: [], groups })).to.throw(PackedActionsError, /too many account groups/);
    expect(() => encodePackedActions({ posts: [], groups: groups.slice(0, 1) })).to.throw(
      PackedActionsError,
      /has no actions/,
    );
  });

  it("names an unknown kind or post reference in a packed batch, and any cut short of its end", function () {
    const packed = one({});
    // ... | 0001 <account> | kind units ref
    expect(() => decodePackedActions(`${packed.slice(0, -8)}8d000100` as `0x${string}`)).to.throw(
      PackedActionsError,
      /unknown action kind 13/,
    );
    // 2 (no posts) + 2 + 8 (one reference) + 2 + 20 (the account): the action's reference is byte 37.
    expect(() => decodePackedActions(`${packed.slice(0, -8)}83000101` as `0x${string}`)).to.throw(
      PackedActionsError,
      /unknown post reference at byte 37$/,
    );
    const registering = encodePackedActions({
      posts: [{ postId: 1n, author: account(1) }],
      groups: groupByAccount([{ account: account(2), kind: ActionKind.LikesOwn, units: 1, postId: 1n }]),
    });
    for (let bytes = 0; bytes < (registering.length - 2) / 2; bytes++)
      expect(
        () => decodePackedActions(registering.slice(0, 2 + 2 * bytes) as `0x${string}`),
        `${bytes} bytes`,
      ).to.throw(PackedActionsError, /end early/);
  });
});

describe("rule arithmetic, post ids and levels", function () {
  it("prices Read-to-Earn in basis points of the full read, rounding down, and other kinds per unit", function () {
    expect(amountFor(DEFAULT_RULE_AMOUNTS, ActionKind.ReadToEarn, 10_000)).to.equal(10n ** 18n);
    expect(amountFor(DEFAULT_RULE_AMOUNTS, ActionKind.ReadToEarn, 3_333)).to.equal(333_300_000_000_000_000n);
    expect(amountFor(DEFAULT_RULE_AMOUNTS, ActionKind.CommentRewards, 3)).to.equal(6n * 10n ** 18n);
  });

  it("derives a site's post id from the site and its own post id, stably", function () {
    expect(postIdFor(1, "a")).to.equal(postIdFor(1, "a"));
    expect(postIdFor(1, "a")).not.to.equal(postIdFor(2, "a"));
    expect(postIdFor(1, "a") < 2n ** 64n).to.equal(true);
  });

  it("reaches level 13 at 72 Twei earned, and no sooner", function () {
    expect(levelFor(0n)).to.equal(1);
    expect(earnedForLevel(13)).to.equal(72n * 10n ** 18n);
    expect(levelFor(72n * 10n ** 18n)).to.equal(13);
    expect(levelFor(72n * 10n ** 18n - 1n)).to.equal(12);
    for (let level = 1; level < 40; level++) expect(levelFor(earnedForLevel(level))).to.equal(level);
  });
});
