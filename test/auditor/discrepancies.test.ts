import { expect } from "chai";
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "mocha";
import { parseEventLogs, parseUnits, type Address } from "viem";
import type { Discrepancy } from "../../src/auditor/discrepancy.js";
import { tweiAbi, tweiLedgerAbi } from "../../src/chain/abi.js";
import { ActionKind } from "../../src/core/kinds.js";
import { decodePackedActions, encodePackedActions, groupByAccount } from "../../src/core/packedActions.js";
import { postIdFor } from "../../src/core/postId.js";
import type { BatchEvidence } from "../../src/evidence/batchEvidence.js";
import { POLICY_V2 } from "../../src/rules/policy.js";
import { SITE_ID, startCraftedChain, type CraftedChain } from "./helpers/craftedChain.js";

const twei = (value: string) => parseUnits(value, 18);
const codes = (found: readonly Discrepancy[]) => [...new Set(found.map((d) => d.code))].sort();
const P1 = "post-1";

/**
 * Every discrepancy code the auditor names, each produced by a chain or evidence file crafted
 * for it on a real chain (real contracts, real site signatures, real evidence files), after a
 * clean chain (every kind of event, shortfalls, transfers between users) audits clean. What the
 * real ledger and token never do (a BatchSettled that misstates its totals, a forged log, a
 * balance no log explains) is made by installing an impostor's code at their address for one
 * call (see helpers/craftedChain.ts).
 */
describe("auditor: each discrepancy, from a crafted chain or evidence file", function () {
  this.timeout(180_000);
  let chain: CraftedChain;
  let restore: (() => Promise<void>) | undefined;
  const users: Address[] = [];
  const [author, r1, r2, r3, r4, r5] = [0, 1, 2, 3, 4, 5];
  const user = (i: number) => users[i] as Address;

  before(async function () {
    // Rules version 2: its figures below stay what they were (test/auditor/farmRules.test.ts
    // audits the farming rules of version 3).
    chain = await startCraftedChain({ policy: POLICY_V2 });
    for (let i = 0; i <= 5; i++) {
      users.push(chain.user(i).address);
      await chain.approveLedger(chain.user(i));
    }
    const e = chain.event;
    // The author cannot pay the publish tribute yet: a BurnShortfall. 1,000 words: 300 s to read.
    await chain.settle([
      e("post_published", "publish-1", user(author), P1, { wordCount: 1_000 }),
      e("post_read", "read-r1", user(r1), P1, { secondsRead: 300 }),
      // 101 s of 300 s: 3,366.67 basis points, paid 3,366.
      e("post_read", "read-r2", user(r2), P1, { secondsRead: 101 }),
      e("post_read", "read-r3", user(r3), P1, { secondsRead: 150 }),
    ]);
    await chain.settle([
      e("post_plus", "plus-r1", user(r1), P1),
      e("post_minus", "minus-r3", user(r3), P1), // exactly what r3 holds
      e("comment_created", "comment-r1", user(r1), P1, { commentId: "c1", length: 40 }),
      e("comment_liked", "like-r2", user(r2), P1, { commentId: "c1" }),
      e("comment_disliked", "dislike-r3", user(r3), P1, { commentId: "c1" }), // r3 has nothing left: a shortfall
      e("report_purchased", "report-r1", user(r1), P1),
    ]);
    // Twei moves between users by ordinary transfers.
    await chain.transfer(chain.user(r2), user(r4), twei("0.1"));
    await chain.transfer(chain.user(author), user(r5), twei("0.2"));
    // r4 holds 0.1 Twei and spends 0.5 on a minus in the batch that pays it a read: payable only
    // because the relayer packs each account's mints before its burns.
    await chain.settle([
      e("post_minus", "minus-r4", user(r4), P1),
      e("post_read", "read-r5", user(r5), P1, { secondsRead: 200 }),
      e("post_read", "read-r4", user(r4), P1, { secondsRead: 300 }),
    ]);
  });

  after(async function () {
    await chain?.stop();
  });

  afterEach(async function () {
    await restore?.();
    restore = undefined;
  });

  /** Goes back to the clean chain after this test. */
  const scratch = async () => {
    restore = await chain.snapshot();
  };

  /** A copy of the clean evidence, with `edit` applied to batch `batchId`'s file. */
  const tamperedCopy = async (name: string, batchId: bigint, edit: (file: BatchEvidence) => void) => {
    const dir = join(chain.evidenceDir, "..", `${name}-${process.pid}-${Date.now()}`);
    await cp(chain.evidenceDir, dir, { recursive: true });
    const path = join(dir, `${batchId}.json`);
    const file = JSON.parse(await readFile(path, "utf8")) as BatchEvidence;
    edit(file);
    await writeFile(path, JSON.stringify(file));
    return dir;
  };

  it("the clean chain audits clean: shortfalls, a read of 3,366.67 basis points, transfers between users", async function () {
    const result = await chain.audit();
    expect(result.discrepancies).to.deep.equal([]);
    expect(result.summary.batches).to.equal(3);
    expect(result.summary.batchesWithEvidence).to.equal(3);
    expect(result.summary.events).to.equal(13);
    // Reads 1 + 0.3366 + 0.5 + 1 + 0.6666; a plus 0.5; Likes 0.1 + 0.5 + 0.2; Dislikes Author 0.1.
    expect(result.summary.minted).to.equal(twei("4.9032"));
    // The author's publish tribute and r3's Dislikes Own went unpaid.
    expect(result.summary.shortfalls).to.equal(2);
    // r3's minus, r1's tribute, Dislikes Commenter and report, r4's minus.
    expect(result.summary.burned).to.equal(twei("2.5"));
    expect(result.summary.totalSupply).to.equal(result.summary.minted - result.summary.burned);
    // r2: its read and its Likes Own, less what it sent r4.
    expect(await chain.balanceOf(user(r2))).to.equal(twei("0.3366"));
  });

  it("r4's minus is paid from the read it earns in the same batch: its mint is packed before its burn", async function () {
    const logs = await chain.publicClient.getLogs({
      address: chain.deployed.ledger,
      fromBlock: chain.deployed.deploymentBlock,
    });
    const settled = parseEventLogs({ abi: tweiLedgerAbi, logs, eventName: "BatchSettled" }).at(-1);
    const shortfalls = parseEventLogs({ abi: tweiLedgerAbi, logs, eventName: "BurnShortfall" });
    expect(shortfalls.map((s) => s.args.account.toLowerCase())).to.not.include(user(r4).toLowerCase());
    const actions = decodePackedActions(settled?.args.actions ?? "0x").actions;
    expect(actions.map((a) => [a.account.toLowerCase(), a.kind])).to.deep.equal([
      [user(r4).toLowerCase(), ActionKind.ReadToEarn],
      [user(r4).toLowerCase(), ActionKind.SpentForMinuses],
      [user(r5).toLowerCase(), ActionKind.ReadToEarn],
    ]);
    // 0.1 (from r2) + 1 (read) - 0.5 (minus)
    expect(await chain.balanceOf(user(r4))).to.equal(twei("0.6"));
  });

  it("evidence_unavailable: the evidence source fails for one batch, and only that batch", async function () {
    const dir = join(chain.evidenceDir, "..", `unavailable-${process.pid}`);
    await cp(chain.evidenceDir, dir, { recursive: true });
    // A directory where the file should be: it cannot be read (EISDIR), which is not "missing".
    await rm(join(dir, "2.json"));
    await mkdir(join(dir, "2.json"));
    const result = await chain.audit(dir);
    // Batch 3's replay does not need batch 2's events (post-1 was published in batch 1): nothing else.
    expect(result.discrepancies.map((d) => [d.code, d.batchId, d.dependsOn])).to.deep.equal([
      ["evidence_unavailable", "2", undefined],
    ]);
    expect(result.summary.batchesWithEvidence).to.equal(2);
  });

  it("unbacked_batch alone: the batches after one with no evidence are depends_on_unchecked_batch, never the replay's codes", async function () {
    const dir = join(chain.evidenceDir, "..", `unbacked-${process.pid}`);
    await cp(chain.evidenceDir, dir, { recursive: true });
    // Batch 1 publishes post-1: without it every later event on the post is of an unknown post.
    await rm(join(dir, "1.json"));
    const result = await chain.audit(dir);
    expect(result.discrepancies.map((d) => [d.code, d.batchId, d.dependsOn])).to.deep.equal([
      ["unbacked_batch", "1", undefined],
      ["depends_on_unchecked_batch", "2", ["1"]],
      ["depends_on_unchecked_batch", "3", ["1"]],
    ]);
    const [, second] = result.discrepancies;
    // What the replay without batch 1 finds is listed in the row, not reported as batch 2's.
    expect(second?.what).to.include("batch 1").and.include("rule_rejected_event").and.include("unknown_post");
    expect(second?.expected).to.equal("the evidence of batch 1");
    expect(result.summary.batchesWithEvidence).to.equal(2);
  });

  it("evidence_header_mismatch: the evidence names another batch and other actions than the chain's", async function () {
    const dir = await tamperedCopy("header", 2n, (file) => {
      file.batchId = "77";
      file.actions = "0x00";
    });
    const result = await chain.audit(dir);
    expect(result.discrepancies.map((d) => [d.code, d.batchId, d.where, d.expected, d.found])).to.deep.equal([
      ["evidence_header_mismatch", "2", "evidence.batchId", "2", "77"],
      ["evidence_header_mismatch", "2", "evidence.actions", (await evidenceOf(2n)).actions, "0x00"],
    ]);
  });

  it("evidence_header_mismatch: the evidence names another deployment's ledger or evidence root", async function () {
    const dir = await tamperedCopy("header-domain", 1n, (file) => {
      file.evidenceRoot = `0x${"ee".repeat(32)}`;
    });
    const result = await chain.audit(dir);
    const header = result.discrepancies.filter((d) => d.code === "evidence_header_mismatch");
    expect(header.map((d) => d.where)).to.deep.equal(["evidence.evidenceRoot"]);
    // The root the events give is still the chain's: only the file's own root field is wrong.
    expect(codes(result.discrepancies)).to.deep.equal(["evidence_header_mismatch"]);
  });

  it("evidence_invalid: a leafIndex that is not the leaf's position", async function () {
    const dir = await tamperedCopy("leaf-index", 1n, (file) => {
      (file.events[2] as { leafIndex: number }).leafIndex = 7;
    });
    const result = await chain.audit(dir);
    expect(result.discrepancies.map((d) => [d.code, d.batchId, d.where, d.what])).to.deep.equal([
      ["evidence_invalid", "1", "event read-r2 (leaf 2)", "leafIndex is 7"],
    ]);
  });

  it("evidence_invalid: an event whose envelope is absent from the evidence", async function () {
    const dir = await tamperedCopy("no-envelope", 3n, (file) => {
      for (const event of file.events) event.envelopeNonce = "99";
    });
    const result = await chain.audit(dir);
    expect(codes(result.discrepancies)).to.include("evidence_invalid");
    expect(result.discrepancies.find((d) => d.code === "evidence_invalid")?.what).to.equal("envelope 99 is missing");
  });

  it("evidence_invalid: packed actions the ledger never settled (they do not decode)", async function () {
    await scratch();
    const e = chain.event;
    const { batchId } = await chain.settle([e("report_purchased", "report-r2", user(r2), P1)], {
      packed: "0x01",
      forge: {},
    });
    const result = await chain.audit();
    expect(result.discrepancies.map((d) => [d.code, d.batchId, d.where])).to.deep.equal([
      ["evidence_invalid", batchId.toString(), "BatchSettled.actions"],
    ]);
  });

  it("unknown_site: a batch of a site the registry never held", async function () {
    await scratch();
    const e = chain.event;
    const { batchId } = await chain.settle([e("report_purchased", "report-r2", user(r2), P1)], {
      actions: [],
      forge: { siteId: 42 },
    });
    const result = await chain.audit();
    expect(result.discrepancies.map((d) => [d.code, d.batchId, d.where])).to.deep.equal([
      ["unknown_site", batchId.toString(), "site 42"],
    ]);
  });

  it("rule_set_version_mismatch: a batch priced under a rule set never published", async function () {
    await scratch();
    const e = chain.event;
    const { batchId } = await chain.settle([e("report_purchased", "report-r2", user(r2), P1)], {
      forge: { ruleSetVersion: 9 },
    });
    const result = await chain.audit();
    const id = batchId.toString();
    expect(result.discrepancies.map((d) => [d.code, d.batchId, d.expected, d.found])).to.deep.equal([
      ["rule_set_version_mismatch", id, "1", "9"],
      ["rule_set_version_mismatch", id, "", ""],
    ]);
    expect(result.discrepancies[1]?.what).to.equal("rule set version 9 was never published");
  });

  it("rule_rejected_event: the batch settles an event the rules reject (a second read of one post)", async function () {
    await scratch();
    const e = chain.event;
    const { batchId } = await chain.settle([e("post_read", "read-r1-again", user(r1), P1, { secondsRead: 300 })], {
      actions: [],
    });
    const result = await chain.audit();
    expect(result.discrepancies.map((d) => [d.code, d.batchId, d.where])).to.deep.equal([
      ["rule_rejected_event", batchId.toString(), "event read-r1-again"],
    ]);
    expect(result.discrepancies[0]?.what).to.include("already_read");
  });

  it("post_registration_mismatch: the batch registers a post no event publishes", async function () {
    await scratch();
    const e = chain.event;
    const published = postIdFor(SITE_ID, "post-2");
    const extra = postIdFor(SITE_ID, "post-3");
    const { batchId } = await chain.settle([e("post_published", "publish-2", user(r1), "post-2", { wordCount: 500 })], {
      posts: [
        { postId: published, author: user(r1) },
        { postId: extra, author: user(r5) },
      ],
      actions: [{ account: user(r1), kind: ActionKind.PostPublishTribute, units: 1, postId: published }],
    });
    const result = await chain.audit();
    expect(result.discrepancies.map((d) => [d.code, d.batchId])).to.deep.equal([
      ["post_registration_mismatch", batchId.toString()],
    ]);
    expect(result.discrepancies[0]?.expected).to.equal(`${published} by ${user(r1)}`);
    expect(result.discrepancies[0]?.found).to.equal(`${published} by ${user(r1)}, ${extra} by ${user(r5)}`);
  });

  it("action_order_mismatch: the same actions, packed in another order than the rules give", async function () {
    await scratch();
    const e = chain.event;
    const postId = postIdFor(SITE_ID, P1);
    const events = [
      e("comment_created", "comment-r2", user(r2), P1, { commentId: "c2", length: 40 }),
      e("comment_liked", "like-r1", user(r1), P1, { commentId: "c2" }),
    ];
    // The rules give r2's tribute, then r1's Likes Own, r2's Likes Commenter, the author's Likes Author.
    const reversed = groupByAccount([
      { account: user(author), kind: ActionKind.LikesAuthor, units: 1, postId },
      { account: user(r1), kind: ActionKind.LikesOwn, units: 1, postId },
      { account: user(r2), kind: ActionKind.LikesCommenter, units: 1, postId },
      { account: user(r2), kind: ActionKind.CommentTributes, units: 1, postId },
    ]);
    const { batchId } = await chain.settle(events, { packed: encodePackedActions({ posts: [], groups: reversed }) });
    const result = await chain.audit();
    expect(result.discrepancies.map((d) => [d.code, d.batchId, d.where])).to.deep.equal([
      ["action_order_mismatch", batchId.toString(), "BatchSettled.actions"],
    ]);
  });

  it("shortfall_mismatch: a BurnShortfall that names another amount, or an action the batch does not have", async function () {
    await scratch();
    const postId = postIdFor(SITE_ID, P1);
    // Batch 1's real shortfall is action #0's publish tribute (the author's group comes first).
    const shortfall = {
      batchId: 1n,
      account: user(author),
      actionIndex: 0n,
      kind: ActionKind.PostPublishTribute,
      postId,
      amount: twei("5"),
    };
    await chain.forgeLog(chain.deployed.ledger, tweiLedgerAbi, "BurnShortfall", { ...shortfall, amount: twei("4") });
    await chain.forgeLog(chain.deployed.ledger, tweiLedgerAbi, "BurnShortfall", { ...shortfall, actionIndex: 99n });
    const result = await chain.audit();
    expect(result.discrepancies.map((d) => [d.code, d.batchId, d.where])).to.deep.equal([
      ["shortfall_mismatch", "1", "action #0"],
      ["shortfall_mismatch", "1", "action #99"],
    ]);
    expect(result.discrepancies[0]?.expected).to.include("Post Publish Tribute of 5 Twei");
    expect(result.discrepancies[0]?.found).to.include("Post Publish Tribute of 4 Twei");
  });

  it("minted_mismatch: BatchSettled.minted is not the batch's mints priced by its rule set", async function () {
    await scratch();
    const e = chain.event;
    // The token mints what the actions call for; the log claims one wei more.
    const { batchId } = await chain.settle([e("comment_liked", "like-r4", user(r4), P1, { commentId: "c1" })], {
      forge: { minted: (truth) => truth + 1n },
    });
    const result = await chain.audit();
    expect(result.discrepancies.map((d) => [d.code, d.batchId, d.where, d.expected, d.found])).to.deep.equal([
      ["minted_mismatch", batchId.toString(), "BatchSettled.minted", "0.8 Twei", "0.800000000000000001 Twei"],
    ]);
  });

  it("burned_mismatch: BatchSettled.burned is not the batch's paid burns priced by its rule set", async function () {
    await scratch();
    const e = chain.event;
    const { batchId } = await chain.settle(
      [e("comment_created", "comment-r4", user(r4), P1, { commentId: "c4", length: 40 })],
      { forge: { burned: (truth) => truth - 1n } },
    );
    const result = await chain.audit();
    expect(result.discrepancies.map((d) => [d.code, d.batchId, d.where, d.expected, d.found])).to.deep.equal([
      ["burned_mismatch", batchId.toString(), "BatchSettled.burned", "0.2 Twei", "0.199999999999999999 Twei"],
    ]);
  });

  it("token_mints_mismatch and token_burns_mismatch: the token logs a mint and a burn no batch made", async function () {
    await scratch();
    await chain.forgeLog(chain.deployed.token, tweiAbi, "Transfer", {
      from: "0x0000000000000000000000000000000000000000",
      to: user(r5),
      value: 7n,
    });
    let result = await chain.audit();
    expect(result.discrepancies.map((d) => [d.code, d.batchId])).to.deep.equal([["token_mints_mismatch", null]]);
    await chain.forgeLog(chain.deployed.token, tweiAbi, "Transfer", {
      from: user(r5),
      to: "0x0000000000000000000000000000000000000000",
      value: 7n,
    });
    result = await chain.audit();
    // The forged mint and burn net out on the supply, never on the counts.
    expect(result.discrepancies.map((d) => [d.code, d.batchId])).to.deep.equal([
      ["token_mints_mismatch", null],
      ["token_burns_mismatch", null],
    ]);
    expect(result.discrepancies[1]?.expected).to.equal("2.5 Twei");
    expect(result.discrepancies[1]?.found).to.equal("2.500000000000000007 Twei");
  });

  it("supply_mismatch: the token's supply moved with no log", async function () {
    await scratch();
    await chain.addToSlot(chain.totalSupplySlot, 1n);
    const result = await chain.audit();
    expect(result.discrepancies.map((d) => [d.code, d.where])).to.deep.equal([["supply_mismatch", "totalSupply()"]]);
  });

  it("balance_mismatch (and supply_mismatch): a wrong debit of a user who received a transfer", async function () {
    await scratch();
    // r4 got 0.1 Twei from r2: take one wei from it, and from the supply, with no log.
    await chain.addToSlot(chain.balanceSlot(user(r4)), -1n);
    await chain.addToSlot(chain.totalSupplySlot, -1n);
    const result = await chain.audit();
    expect(result.discrepancies.map((d) => [d.code, d.where, d.expected, d.found])).to.deep.equal([
      ["supply_mismatch", "totalSupply()", "2.4032 Twei", "2.403199999999999999 Twei"],
      ["balance_mismatch", chain.user(r4).address, "0.6 Twei", "0.599999999999999999 Twei"],
    ]);
  });

  it("balance_mismatch: a transfer the token logged but never made debits the sender and credits the receiver", async function () {
    await scratch();
    await chain.forgeLog(chain.deployed.token, tweiAbi, "Transfer", { from: user(r1), to: user(r2), value: 5n });
    const result = await chain.audit();
    expect(result.discrepancies.map((d) => [d.code, d.where])).to.deep.equal([
      ["balance_mismatch", chain.user(r1).address],
      ["balance_mismatch", chain.user(r2).address],
    ]);
  });

  async function evidenceOf(batchId: bigint): Promise<BatchEvidence> {
    return JSON.parse(await readFile(join(chain.evidenceDir, `${batchId}.json`), "utf8")) as BatchEvidence;
  }
});
