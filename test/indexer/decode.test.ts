import { expect } from "chai";
import { describe, it } from "mocha";
import { keccak256, toHex, type Address } from "viem";
import { ActionKind as K, KINDS } from "../../src/core/kinds.js";
import { decodePackedActions, type AccountAction } from "../../src/core/packedActions.js";
import { DEFAULT_RULE_AMOUNTS } from "../../src/core/ruleSet.js";
import { batchOutcomes, type SettledBatch } from "../../src/indexer/decode/batchOutcomes.js";
import { decodeBatchActions } from "../../src/indexer/decode/decodeBatchActions.js";
import { decodeLines, emptyLines, encodeLines, addAction, mergeEncodedLines } from "../../src/indexer/decode/lines.js";
import { InvariantError } from "../../src/indexer/errors.js";
import { packBatch } from "../helpers/batches.js";

const addressOf = (i: number) => keccak256(toHex(`account ${i}`)).slice(0, 42) as Address;

/** A batch with every kind, many accounts and posts, and a post registration. */
function sampleActions(): AccountAction[] {
  const actions: AccountAction[] = [];
  for (let i = 0; i < 300; i++) {
    const kind = KINDS[i % KINDS.length]!.kind;
    actions.push({
      account: addressOf(i % 37),
      kind,
      units: kind === K.ReadToEarn ? 1 + ((i * 97) % 10_000) : 1 + (i % 5),
      postId: 2n ** 63n + BigInt(i % 11),
    });
  }
  return actions;
}

const batchOf = (actions: `0x${string}`, minted: bigint, burned: bigint): SettledBatch => ({
  batchId: 1n,
  siteId: 1,
  evidenceRoot: `0x${"00".repeat(32)}`,
  ruleSetVersion: 1,
  minted,
  burned,
  actions,
  blockNumber: 1n,
  txIndex: 0,
  logIndex: 0,
  blockHash: `0x${"11".repeat(32)}`,
  txHash: `0x${"22".repeat(32)}`,
});

describe("indexer decoding", function () {
  it("decodes packed actions exactly like src/core's decoder, in the same order", function () {
    const packed = packBatch([{ postId: 2n ** 63n, author: addressOf(999) }], sampleActions());
    const core = decodePackedActions(packed);
    const fast = decodeBatchActions(packed);
    expect(fast.posts).to.deep.equal(core.posts.map((p) => ({ ...p, author: p.author.toLowerCase() })));
    expect(
      fast.actions.map(({ actionIndex, account, kind, units, postId }) => ({
        actionIndex,
        account,
        kind,
        units,
        postId,
      })),
    ).to.deep.equal(core.actions.map((a) => ({ ...a, account: a.account.toLowerCase() })));
  });

  it("refuses packed actions that run short or long", function () {
    const packed = packBatch([], sampleActions());
    expect(() => decodeBatchActions(packed.slice(0, -2) as `0x${string}`)).to.throw(InvariantError);
    expect(() => decodeBatchActions(`${packed}00`)).to.throw(InvariantError);
  });

  it("checks decoded amounts against the event's minted and burned totals", function () {
    const actions = [
      { account: addressOf(1), kind: K.LikesOwn, units: 2, postId: 5n },
      { account: addressOf(1), kind: K.CommentTributes, units: 1, postId: 5n },
    ] as AccountAction[];
    const packed = packBatch([], actions);
    const likes = DEFAULT_RULE_AMOUNTS[K.LikesOwn]! * 2n;
    const tribute = DEFAULT_RULE_AMOUNTS[K.CommentTributes]!;
    const ok = batchOutcomes(batchOf(packed, likes, tribute), DEFAULT_RULE_AMOUNTS, []);
    expect(ok.actions.map((a) => [a.amount, a.paid])).to.deep.equal([
      [likes, true],
      [tribute, true],
    ]);
    const shortfall = { batchId: 1n, actionIndex: 1, account: addressOf(1), kind: K.CommentTributes, postId: 5n };
    const unpaid = batchOutcomes(batchOf(packed, likes, 0n), DEFAULT_RULE_AMOUNTS, [{ ...shortfall, amount: tribute }]);
    expect(unpaid.actions[1]!.paid).to.equal(false);
    expect(() => batchOutcomes(batchOf(packed, likes, 0n), DEFAULT_RULE_AMOUNTS, [])).to.throw(InvariantError);
    expect(() =>
      batchOutcomes(batchOf(packed, likes, 0n), DEFAULT_RULE_AMOUNTS, [{ ...shortfall, amount: tribute + 1n }]),
    ).to.throw(InvariantError);
  });

  it("stores lines as exact decimal strings and adds them back to nothing on a rollback", function () {
    const lines = emptyLines();
    const huge = 2n ** 200n + 12345n;
    addAction(lines, K.PnLReports, huge, true, 1);
    addAction(lines, K.SpentForMinuses, 7n, false, 1);
    const encoded = encodeLines(lines);
    expect(JSON.parse(encoded)).to.deep.equal([
      [K.SpentForMinuses, "0", 0, "7", 1],
      [K.PnLReports, huge.toString(), 1, "0", 0],
    ]);
    expect(encodeLines(decodeLines(encoded))).to.equal(encoded);
    const undo = emptyLines();
    addAction(undo, K.PnLReports, huge, true, -1);
    addAction(undo, K.SpentForMinuses, 7n, false, -1);
    expect(mergeEncodedLines(encoded, encodeLines(undo))).to.equal("[]");
  });
});
