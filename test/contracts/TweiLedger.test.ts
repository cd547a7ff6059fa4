import { expect } from "chai";
import { network } from "hardhat";
import { describe, it } from "mocha";
import { anyValue } from "@nomicfoundation/hardhat-viem-assertions/predicates";
import { getAddress, parseSignature, parseUnits, zeroAddress, type Address, type Hex } from "viem";
import { ActionKind, KINDS } from "../../src/core/kinds.js";
import { encodePackedActions } from "../../src/core/packedActions.js";
import { DEFAULT_RULE_AMOUNTS, amountFor } from "../../src/core/ruleSet.js";
import { labelledAddress } from "../../src/devnet/labelledAddress.js";
import { hardhatAccount } from "../../src/devnet/startHardhatNode.js";
import { signLedgerPermit } from "../../src/sdk/signLedgerPermit.js";
import { action, packBatch, rootOf } from "../helpers/batches.js";
import { deployForTest } from "../helpers/deployForTest.js";

const { viem, networkHelpers } = await network.create();

const SITE = 7;
const OTHER_SITE = 8;
const POST = 1001n;
const OTHER_POST = 2002n;
const MAX = 2n ** 256n - 1n;
const twei = (value: string) => parseUnits(value, 18);
const WIDE_BOUNDS = [10_000, ...Array.from({ length: 12 }, () => 65_535)];

async function fixture() {
  // Wider unit bounds than the default rule set's, so that one action can pay several units.
  const deployment = await deployForTest(viem, { unitBounds: WIDE_BOUNDS });
  const { wallets, ledger } = deployment;
  const [, , siteSigner, author, reader, commenter, liker, outsider, otherAuthor] = wallets as [...typeof wallets];
  if (!siteSigner || !author || !reader || !commenter || !liker || !outsider || !otherAuthor)
    throw new Error("the test network needs nine accounts");
  await ledger.write.registerSite([SITE, siteSigner.account.address, twei("1000"), twei("1000")]);
  await ledger.write.registerSite([OTHER_SITE, siteSigner.account.address, twei("1000"), twei("1000")]);
  const approveLedger = async (wallet: (typeof wallets)[number], amount: bigint) =>
    (await viem.getContractAt("Twei", deployment.token.address, { client: { wallet } })).write.approve([
      ledger.address,
      amount,
    ]);
  // Every user lets the ledger burn their tributes.
  for (const wallet of [author, reader, commenter, liker, otherAuthor]) await approveLedger(wallet, MAX);
  // Batch ids only need to be unique; a counter outside the chain stays unique across
  // fixture snapshots, so tests match batch ids with anyValue.
  let nextBatch = 1n;
  const settlePacked = async (packed: Hex, siteId = SITE, gas?: bigint) => {
    const [version] = await ledger.read.versionsInForce();
    return deployment.ledgerAsRelayer.write.settle(
      [nextBatch++, siteId, version, rootOf(`batch ${nextBatch}`), packed],
      gas === undefined ? {} : { gas },
    );
  };
  const settle = (posts: Parameters<typeof packBatch>[0], actions: Parameters<typeof packBatch>[1], siteId = SITE) =>
    settlePacked(packBatch(posts, actions), siteId);
  return {
    ...deployment,
    siteSigner,
    author: getAddress(author.account.address),
    reader: getAddress(reader.account.address),
    commenter: getAddress(commenter.account.address),
    liker: getAddress(liker.account.address),
    outsider: getAddress(outsider.account.address),
    otherAuthor: getAddress(otherAuthor.account.address),
    settle,
    settlePacked,
    approveLedger,
  };
}

/** A fixture in which POST is published by `author`, who was paid enough to publish it. */
async function publishedFixture() {
  const f = await fixture();
  // Seed balances with rewards on a bootstrap post so the tributes below can be paid.
  await f.settle(
    [{ postId: 1n, author: f.otherAuthor }],
    [
      action(f.author, ActionKind.ReadToEarn, 1n, 10_000),
      action(f.author, ActionKind.CommentRewards, 1n, 5),
      action(f.reader, ActionKind.CommentRewards, 1n, 5),
      action(f.commenter, ActionKind.CommentRewards, 1n, 5),
      action(f.liker, ActionKind.CommentRewards, 1n, 5),
    ],
  );
  await f.settle([{ postId: POST, author: f.author }], [action(f.author, ActionKind.PostPublishTribute, POST)]);
  return f;
}

describe("TweiLedger", function () {
  describe("deployment", function () {
    it("deploys a token named Twei with 18 decimals that only the ledger can mint", async function () {
      const { token, ledger, outsider } = await networkHelpers.loadFixture(fixture);
      expect(await token.read.name()).to.equal("Twei");
      expect(await token.read.symbol()).to.equal("TWEI");
      expect(await token.read.decimals()).to.equal(18);
      expect((await token.read.ledger()).toLowerCase()).to.equal(ledger.address.toLowerCase());
      expect((await ledger.read.token()).toLowerCase()).to.equal(token.address.toLowerCase());
      await viem.assertions.revertWithCustomErrorWithArgs(
        token.write.settleBalances([[BigInt(outsider), 1n]]),
        token,
        "TweiUnauthorizedLedger",
        [(await viem.getWalletClients())[0]!.account.address],
      );
    });

    it("starts with the default rule set as version 1, the report price at 1 Twei", async function () {
      const { ledger } = await networkHelpers.loadFixture(fixture);
      const [version, amounts] = await ledger.read.ruleSet();
      expect(version).to.equal(1);
      expect(amounts).to.deep.equal(DEFAULT_RULE_AMOUNTS);
      expect(await ledger.read.reportPrice()).to.equal(twei("1"));
    });

    it("refuses a token deployed for another ledger", async function () {
      const { token, admin } = await networkHelpers.loadFixture(fixture);
      // Awaited before the deployment starts: an await among the assertion's arguments would leave
      // the deployment's rejection unhandled for a moment, which ends the whole mocha run.
      const errorsOf = await viem.getContractAt("TweiLedger", zeroAddress);
      await viem.assertions.revertWithCustomErrorWithArgs(
        viem.deployContract("TweiLedger", [
          token.address,
          {
            admin: admin.account.address,
            policyAdmin: admin.account.address,
            pauser: admin.account.address,
            unpauser: admin.account.address,
            relayer: zeroAddress,
            adminDelay: 0,
            changeDelay: 0,
            ruleSetGrace: 0,
            epochLength: 86_400n,
            mintCap: 1n,
            burnCap: 1n,
            amounts: DEFAULT_RULE_AMOUNTS as never,
            maxUnits: WIDE_BOUNDS as never,
          },
        ]),
        errorsOf,
        "TweiLedgerTokenMismatch",
        [token.address, await token.read.ledger()],
      );
    });
  });

  describe("every action kind", function () {
    it("moves each kind's rule amount in its direction, with a Transfer per mint and burn", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      const accountFor = (kind: ActionKind): Address => {
        if (KINDS[kind]!.toAuthor) return f.author;
        return kind % 2 === 0 ? f.reader : f.commenter;
      };
      for (const info of KINDS) {
        if (info.kind === ActionKind.PostPublishTribute) continue; // covered by registration below
        const account = accountFor(info.kind);
        const units = info.kind === ActionKind.ReadToEarn ? 10_000 : 2;
        const before = await f.token.read.balanceOf([account]);
        const supplyBefore = await f.token.read.totalSupply();
        await f.settle([], [action(account, info.kind, POST, units)]);
        const expected = amountFor(DEFAULT_RULE_AMOUNTS, info.kind, units);
        const delta = info.direction === "mint" ? expected : -expected;
        expect(await f.token.read.balanceOf([account]), info.label).to.equal(before + delta);
        expect(await f.token.read.totalSupply(), info.label).to.equal(supplyBefore + delta);
        const transfers = await f.token.getEvents.Transfer();
        expect(transfers, info.label).to.have.length(1);
        const args = transfers[0]!.args;
        expect(args.value, info.label).to.equal(expected);
        expect(args.from, info.label).to.equal(info.direction === "mint" ? zeroAddress : account);
        expect(args.to, info.label).to.equal(info.direction === "mint" ? account : zeroAddress);
      }
    });

    it("pays Read-to-Earn in proportion to the basis points read", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      const before = await f.token.read.balanceOf([f.reader]);
      await f.settle([], [action(f.reader, ActionKind.ReadToEarn, POST, 3_333)]);
      expect(await f.token.read.balanceOf([f.reader])).to.equal(before + (twei("1") * 3_333n) / 10_000n);
    });

    it("credits an account once per batch however many actions it has", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      const before = await f.token.read.balanceOf([f.liker]);
      await f.settle(
        [],
        [
          action(f.liker, ActionKind.LikesOwn, POST),
          action(f.liker, ActionKind.LikesOwn, POST),
          action(f.liker, ActionKind.CommentRewards, POST),
        ],
      );
      const transfers = await f.token.getEvents.Transfer();
      expect(transfers).to.have.length(1);
      expect(transfers[0]!.args.value).to.equal(twei("2.2"));
      expect(await f.token.read.balanceOf([f.liker])).to.equal(before + twei("2.2"));
    });

    it("records the batch's packed actions, rule set version and totals in BatchSettled", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      const actions = [
        action(f.reader, ActionKind.ReadToEarn, POST, 10_000),
        action(f.commenter, ActionKind.CommentTributes, POST),
      ];
      await viem.assertions.emitWithArgs(
        f.ledgerAsRelayer.write.settle([99n, SITE, 1, rootOf("evidence"), packBatch([], actions)]),
        f.ledger,
        "BatchSettled",
        [99n, SITE, rootOf("evidence"), 1, twei("1"), twei("0.2"), packBatch([], actions)],
      );
      expect(await f.ledger.read.isBatchSettled([99n])).to.equal(true);
      expect(await f.ledger.read.isBatchSettled([100n])).to.equal(false);
    });
  });

  describe("posts", function () {
    it("registers a post with its site and author when published, burning the tribute", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      const before = await f.token.read.balanceOf([f.author]);
      await viem.assertions.emitWithArgs(
        f.settle(
          [{ postId: OTHER_POST, author: f.author }],
          [action(f.author, ActionKind.PostPublishTribute, OTHER_POST)],
        ),
        f.ledger,
        "PostRegistered",
        [OTHER_POST, SITE, f.author, anyValue],
      );
      expect(await f.ledger.read.post([OTHER_POST])).to.deep.equal({ author: f.author, siteId: SITE });
      expect(await f.token.read.balanceOf([f.author])).to.equal(before - twei("5"));
    });

    it("lets later actions on a post name only the post, paying author kinds to its author", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      const before = await f.token.read.balanceOf([f.author]);
      await f.settle([], [action(f.author, ActionKind.EarnedForPluses, POST, 3)]);
      expect(await f.token.read.balanceOf([f.author])).to.equal(before + twei("1.5"));
    });

    it("refuses a post registered twice", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.settle([{ postId: POST, author: f.reader }], []),
        f.ledger,
        "TweiLedgerPostAlreadyRegistered",
        [POST],
      );
    });

    it("refuses actions on an unknown post or another site's post", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.settle([], [action(f.reader, ActionKind.ReadToEarn, 424242n, 100)]),
        f.ledger,
        "TweiLedgerUnknownPost",
        [424242n],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.settle([], [action(f.reader, ActionKind.ReadToEarn, POST, 100)], OTHER_SITE),
        f.ledger,
        "TweiLedgerPostOfOtherSite",
        [POST, SITE, OTHER_SITE],
      );
    });

    it("refuses an author-directed action for someone other than the post's author", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.settle([], [action(f.reader, ActionKind.LikesAuthor, POST)]),
        f.ledger,
        "TweiLedgerNotPostAuthor",
        [POST, f.reader, f.author],
      );
    });

    it("refuses the author reading or minusing their own post", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.settle([], [action(f.author, ActionKind.ReadToEarn, POST, 10_000)]),
        f.ledger,
        "TweiLedgerSelfAction",
        [0n, POST, f.author],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.settle([], [action(f.author, ActionKind.SpentForMinuses, POST)]),
        f.ledger,
        "TweiLedgerSelfAction",
        [0n, POST, f.author],
      );
    });
  });

  describe("malformed batches", function () {
    // One Read-to-Earn action: 0000 (no posts) 0001 <post id> 0001 <account> 80 2710 00 (the
    // kind byte with the last-action flag).
    const tail = (packed: `0x${string}`, last8: string) => `${packed.slice(0, -8)}${last8}` as `0x${string}`;

    it("refuses out-of-range units, unknown kinds and post references past the batch's", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      const packed = packBatch([], [action(f.reader, ActionKind.ReadToEarn, POST, 10_000)]);
      expect(packed.slice(-8)).to.equal("80271000");
      const settle = (bytes: `0x${string}`) => f.ledgerAsRelayer.write.settle([50n, SITE, 1, rootOf("x"), bytes]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        settle(tail(packed, "80271100")),
        f.ledger,
        "TweiLedgerUnitsOutOfBounds",
        [0n, 0n, 10_001n, 10_000n],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        settle(tail(packed, "80000000")),
        f.ledger,
        "TweiLedgerUnitsOutOfBounds",
        [0n, 0n, 0n, 10_000n],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        settle(tail(packed, "8d000100")),
        f.ledger,
        "TweiLedgerUnknownKind",
        [0n, 13n],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        settle(tail(packed, "80271001")),
        f.ledger,
        "TweiLedgerUnknownPostRef",
        [0n, 1n],
      );
    });

    it("refuses truncated, overlong and empty packed actions with the offset where they break", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      const packed = packBatch([], [action(f.reader, ActionKind.ReadToEarn, POST, 10_000)]);
      const settle = (bytes: `0x${string}`) => f.ledgerAsRelayer.write.settle([50n, SITE, 1, rootOf("x"), bytes]);
      // 2 (posts) + 2 + 8 (one reference) + 2 (groups) + 20 (account): the action starts at 34.
      await viem.assertions.revertWithCustomErrorWithArgs(
        settle(packed.slice(0, -2) as `0x${string}`),
        f.ledger,
        "TweiLedgerMalformedActions",
        [34n],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        settle(`${packed}00`),
        f.ledger,
        "TweiLedgerMalformedActions",
        [38n],
      );
      // The action without the last-action flag: the group runs on past the end.
      await viem.assertions.revertWithCustomErrorWithArgs(
        settle(`${packed.slice(0, -8)}00271000` as `0x${string}`),
        f.ledger,
        "TweiLedgerMalformedActions",
        [38n],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(settle("0x00"), f.ledger, "TweiLedgerMalformedActions", [0n]);
      await viem.assertions.revertWithCustomErrorWithArgs(settle("0x000000"), f.ledger, "TweiLedgerMalformedActions", [
        2n,
      ]);
    });

    it("refuses a batch that refers to more than 256 posts", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      const refs = "0101" + "00".repeat(8 * 257);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.ledgerAsRelayer.write.settle([50n, SITE, 1, rootOf("x"), `0x0000${refs}0000`]),
        f.ledger,
        "TweiLedgerTooManyPostRefs",
        [257n],
      );
    });

    it("refuses rule amounts of 2**88 wei or more", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const amounts = [...DEFAULT_RULE_AMOUNTS];
      amounts[ActionKind.LikesOwn] = 2n ** 88n;
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.ledger.write.scheduleRuleSet([amounts as never, WIDE_BOUNDS as never]),
        f.ledger,
        "TweiLedgerRuleAmountTooLarge",
        [BigInt(ActionKind.LikesOwn), 2n ** 88n],
      );
    });
  });

  describe("batches", function () {
    it("settles a batch id once", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      const packed = packBatch([], [action(f.reader, ActionKind.ReadToEarn, POST, 10_000)]);
      await f.ledgerAsRelayer.write.settle([77n, SITE, 1, rootOf("a"), packed]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.ledgerAsRelayer.write.settle([77n, SITE, 1, rootOf("a"), packed]),
        f.ledger,
        "TweiLedgerBatchAlreadySettled",
        [77n],
      );
    });

    it("credits an account with 300 actions in one batch once: one group, one Transfer for its mints", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      const before = await f.token.read.balanceOf([f.liker]);
      const likes = Array.from({ length: 300 }, () => action(f.liker, ActionKind.LikesOwn, POST));
      const hash = await f.settle([], [...likes, action(f.liker, ActionKind.PnLReports, POST)]);
      const receipt = await f.publicClient.waitForTransactionReceipt({ hash });
      const transfers = await f.publicClient.getContractEvents({
        address: f.token.address,
        abi: f.token.abi,
        eventName: "Transfer",
        blockHash: receipt.blockHash,
      });
      const minted = 300n * amountFor(DEFAULT_RULE_AMOUNTS, ActionKind.LikesOwn, 1);
      const price = amountFor(DEFAULT_RULE_AMOUNTS, ActionKind.PnLReports, 1);
      expect(transfers.map((t) => [t.args.from, t.args.to, t.args.value])).to.deep.equal([
        [zeroAddress, f.liker, minted],
        [f.liker, zeroAddress, price],
      ]);
      expect(await f.token.read.balanceOf([f.liker])).to.equal(before + minted - price);
    });

    it("refuses an unknown or deactivated site", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      const packed = packBatch([], [action(f.reader, ActionKind.ReadToEarn, POST, 10_000)]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.ledgerAsRelayer.write.settle([1_000n, 99, 1, rootOf("a"), packed]),
        f.ledger,
        "TweiLedgerUnknownSite",
        [99],
      );
      await viem.assertions.emitWithArgs(
        f.ledger.write.setSiteActive([SITE, false]),
        f.ledger,
        "SiteActivationUpdated",
        [SITE, false],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.ledgerAsRelayer.write.settle([1_000n, SITE, 1, rootOf("a"), packed]),
        f.ledger,
        "TweiLedgerSiteInactive",
        [SITE],
      );
      await f.ledger.write.setSiteActive([SITE, true]);
      await f.ledgerAsRelayer.write.settle([1_000n, SITE, 1, rootOf("a"), packed]);
    });
  });

  describe("unpayable burns", function () {
    it("pays everyone else and records the shortfall when a burn cannot be paid", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      // The outsider holds nothing and allowed nothing: their minus cannot be paid.
      const readerBefore = await f.token.read.balanceOf([f.reader]);
      const commenterBefore = await f.token.read.balanceOf([f.commenter]);
      const supplyBefore = await f.token.read.totalSupply();
      const hash = await f.settle(
        [],
        [
          action(f.reader, ActionKind.ReadToEarn, POST, 10_000),
          action(f.outsider, ActionKind.SpentForMinuses, POST),
          action(f.commenter, ActionKind.CommentTributes, POST),
        ],
      );
      await viem.assertions.emitWithArgs(Promise.resolve(hash), f.ledger, "BurnShortfall", [
        anyValue,
        f.outsider,
        1n,
        ActionKind.SpentForMinuses,
        POST,
        twei("0.5"),
      ]);
      expect(await f.token.read.balanceOf([f.reader])).to.equal(readerBefore + twei("1"));
      expect(await f.token.read.balanceOf([f.commenter])).to.equal(commenterBefore - twei("0.2"));
      expect(await f.token.read.balanceOf([f.outsider])).to.equal(0n);
      expect(await f.token.read.totalSupply()).to.equal(supplyBefore + twei("1") - twei("0.2"));
    });

    it("burns no more than the allowance, and lets a burn draw on the same batch's mints", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      await f.approveLedger(f.wallets[4]!, twei("0.6")); // the reader's wallet
      const before = await f.token.read.balanceOf([f.reader]);
      await f.settle(
        [],
        [
          action(f.reader, ActionKind.SpentForMinuses, POST), // 0.5: paid
          action(f.reader, ActionKind.SpentForMinuses, POST), // 0.5 more: over the 0.6 allowance
          action(f.reader, ActionKind.DislikesOwn, POST), // 0.1: fits what is left
        ],
      );
      expect(await f.token.read.balanceOf([f.reader])).to.equal(before - twei("0.6"));
      expect(await f.token.read.allowance([f.reader, f.ledger.address])).to.equal(0n);
      const shortfalls = await f.ledger.getEvents.BurnShortfall();
      expect(shortfalls.map((e) => e.args.actionIndex)).to.deep.equal([1n]);

      // A fresh account with a full allowance pays a tribute out of the reward in the same batch.
      await f.approveLedger(f.wallets[7]!, MAX); // the outsider's wallet
      await f.settle(
        [],
        [action(f.outsider, ActionKind.CommentTributes, POST), action(f.outsider, ActionKind.CommentRewards, POST)],
      );
      expect(await f.token.read.balanceOf([f.outsider])).to.equal(twei("1.8"));
    });

    it("settles an account named in two groups whose burns are each short once, never burning past its allowance", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      await f.approveLedger(f.wallets[4]!, twei("0.6")); // the reader's wallet
      const before = await f.token.read.balanceOf([f.reader]);
      const minuses = [
        { kind: ActionKind.SpentForMinuses, units: 1, postId: POST },
        { kind: ActionKind.SpentForMinuses, units: 1, postId: POST },
      ];
      // The relayer never names an account twice, but the ledger must stay exact if one does:
      // each group's 1 Twei is over the 0.6 allowance, and only one 0.5 minus fits in all.
      await f.settlePacked(
        encodePackedActions({
          posts: [],
          groups: [
            { account: f.reader, actions: minuses },
            { account: f.reader, actions: minuses },
          ],
        }),
      );
      expect(await f.token.read.balanceOf([f.reader])).to.equal(before - twei("0.5"));
      expect(await f.token.read.allowance([f.reader, f.ledger.address])).to.equal(twei("0.1"));
      const shortfalls = await f.ledger.getEvents.BurnShortfall();
      expect(shortfalls.map((e) => e.args.actionIndex)).to.deep.equal([1n, 2n, 3n]);
    });

    it("records a thousand unpayable burns in one batch under the per-transaction gas cap", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      const strangers = Array.from({ length: 1_000 }, (_, i) => labelledAddress("stranger", i));
      const supplyBefore = await f.token.read.totalSupply();
      // Strangers hold nothing and allowed nothing; the reader's reward must still be paid.
      const hash = await f.settlePacked(
        packBatch(
          [],
          [
            action(f.reader, ActionKind.ReadToEarn, POST, 10_000),
            ...strangers.map((stranger) => action(stranger, ActionKind.SpentForMinuses, POST)),
          ],
        ),
        SITE,
        16_777_216n, // EIP-7825
      );
      const receipt = await f.publicClient.waitForTransactionReceipt({ hash });
      expect(receipt.status).to.equal("success");
      const shortfalls = await f.ledger.getEvents.BurnShortfall({}, { blockHash: receipt.blockHash });
      expect(shortfalls).to.have.length(1_000);
      expect(shortfalls[999]!.args.account).to.equal(strangers[999]);
      expect(await f.token.read.totalSupply()).to.equal(supplyBefore + twei("1"));
    });
  });

  describe("permit then burn", function () {
    it("burns a tribute from an allowance granted by an EIP-2612 permit the relayer submitted", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      // Hardhat's in-process network funds the development mnemonic's accounts: #9 is a local
      // account that signs offline, as a user's wallet would.
      const owner = { account: hardhatAccount(9) };
      // Pay the new user a reward first; they have never sent a transaction.
      await f.settle([], [action(owner.account.address, ActionKind.CommentRewards, POST)]);
      const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
      const signature = await signLedgerPermit({
        owner: owner.account,
        token: f.token.address,
        ledger: f.ledger.address,
        chainId: await f.publicClient.getChainId(),
        value: twei("1"),
        nonce: await f.token.read.nonces([owner.account.address]),
        deadline,
      });
      const { r, s, v } = parseSignature(signature);
      const tokenAsRelayer = await viem.getContractAt("Twei", f.token.address, { client: { wallet: f.relayer } });
      await tokenAsRelayer.write.permit([
        owner.account.address,
        f.ledger.address,
        twei("1"),
        deadline,
        Number(v),
        r,
        s,
      ]);
      expect(await f.token.read.allowance([owner.account.address, f.ledger.address])).to.equal(twei("1"));
      await f.settle([], [action(owner.account.address, ActionKind.CommentTributes, POST)]);
      expect(await f.token.read.balanceOf([owner.account.address])).to.equal(twei("1.8"));
      expect(await f.token.read.allowance([owner.account.address, f.ledger.address])).to.equal(twei("0.8"));
    });
  });

  describe("emission caps", function () {
    it("refuses a batch over the overall cap of the epoch, and resets the count the next epoch", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      await f.ledger.write.scheduleEmissionCaps([twei("100"), twei("1000")]);
      // At the start of an epoch after an empty one, so that the previous epoch weighs nothing.
      await networkHelpers.time.increaseTo((Number(await f.ledger.read.currentEpoch()) + 2) * 86_400);
      await networkHelpers.mine();
      const epoch = await f.ledger.read.currentEpoch();
      const used = (await f.ledger.read.epochUsage()).minted;
      const big = [
        action(f.reader, ActionKind.CommentRewards, POST, 50),
        action(f.commenter, ActionKind.CommentRewards, POST, 1),
      ];
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.settle([], big),
        f.ledger,
        "TweiLedgerEmissionCapExceeded",
        [epoch, twei("100"), used + twei("102")],
      );
      // Two epochs on, the previous epoch (empty) weighs nothing: the whole cap is there.
      await networkHelpers.time.increase(2 * 86_400);
      await f.settle([], [action(f.reader, ActionKind.CommentRewards, POST, 50)]);
      expect((await f.ledger.read.epochUsage()).minted).to.equal(twei("100"));
    });

    it("refuses a batch over the site's cap of the epoch", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      await networkHelpers.time.increaseTo((Number(await f.ledger.read.currentEpoch()) + 2) * 86_400);
      await viem.assertions.emitWithArgs(
        f.ledger.write.scheduleSiteCaps([SITE, twei("10"), twei("10")]),
        f.ledger,
        "SiteCapsScheduled",
        [SITE, anyValue, twei("10"), twei("10")],
      );
      const epoch = await f.ledger.read.currentEpoch();
      const used = (await f.ledger.read.siteEpochUsage([SITE])).minted;
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.settle([], [action(f.reader, ActionKind.CommentRewards, POST, 6)]),
        f.ledger,
        "TweiLedgerSiteEmissionCapExceeded",
        [SITE, epoch, twei("10"), used + twei("12")],
      );
    });
  });

  describe("pause", function () {
    it("stops settlement for the pauser and resumes it for the unpauser", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      const packed = packBatch([], [action(f.reader, ActionKind.ReadToEarn, POST, 10_000)]);
      await f.ledger.write.pause();
      await viem.assertions.revertWithCustomError(
        f.ledgerAsRelayer.write.settle([500n, SITE, 1, rootOf("p"), packed]),
        f.ledger,
        "EnforcedPause",
      );
      await f.ledger.write.unpause();
      await f.ledgerAsRelayer.write.settle([500n, SITE, 1, rootOf("p"), packed]);
      expect(await f.ledger.read.isBatchSettled([500n])).to.equal(true);
    });

    // Audit finding 8: a compromised hot pauser key (the watchtower's) could lift a pause during
    // an incident. Unpause is a role of its own, the admin's by default.
    it("does not let the pauser lift a pause: unpause is the unpauser's, a role apart", async function () {
      const wallets = await viem.getWalletClients();
      const watchtower = wallets[6]!;
      const deployment = await deployForTest(viem, { pauser: watchtower.account.address });
      const asWatchtower = await viem.getContractAt("TweiLedger", deployment.ledger.address, {
        client: { wallet: watchtower },
      });
      await asWatchtower.write.pause();
      await viem.assertions.revertWithCustomErrorWithArgs(
        asWatchtower.write.unpause(),
        deployment.ledger,
        "AccessControlUnauthorizedAccount",
        [getAddress(watchtower.account.address), await deployment.ledger.read.UNPAUSER_ROLE()],
      );
      expect(await deployment.ledger.read.paused()).to.equal(true);
      // The admin (the unpauser by default) lifts it, and cannot pause: that is the pauser's.
      await deployment.ledger.write.unpause();
      expect(await deployment.ledger.read.paused()).to.equal(false);
      await viem.assertions.revertWithCustomErrorWithArgs(
        deployment.ledger.write.pause(),
        deployment.ledger,
        "AccessControlUnauthorizedAccount",
        [getAddress(deployment.admin.account.address), await deployment.ledger.read.PAUSER_ROLE()],
      );
    });
  });

  // Audit finding 4: the mint windows were checked even for a batch that mints nothing, so after
  // a cap decrease (mints stopped, burns kept) burn-only and registration-only batches reverted
  // TweiLedgerEmissionCapExceeded for up to two epochs.
  describe("a batch that mints nothing", function () {
    it("settles after the mint caps were lowered below what the window holds", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      expect((await f.ledger.read.epochUsage()).minted > 0n).to.equal(true);
      await f.ledger.write.scheduleEmissionCaps([0n, twei("1000")]); // no change delay here: at once
      await f.ledger.write.scheduleSiteCaps([SITE, 0n, twei("1000")]);
      await viem.assertions.revertWithCustomError(
        f.settle([], [action(f.reader, ActionKind.CommentRewards, POST)]),
        f.ledger,
        "TweiLedgerEmissionCapExceeded",
      );
      // Registration only.
      await f.settle([{ postId: 77n, author: f.otherAuthor }], []);
      expect((await f.ledger.read.post([77n])).author).to.equal(f.otherAuthor);
      // Burn only: a publication's tribute and a minus.
      const before = await f.token.read.balanceOf([f.reader]);
      await f.settle(
        [{ postId: 78n, author: f.author }],
        [action(f.author, ActionKind.PostPublishTribute, 78n), action(f.reader, ActionKind.SpentForMinuses, POST)],
      );
      expect(await f.token.read.balanceOf([f.reader])).to.equal(
        before - DEFAULT_RULE_AMOUNTS[ActionKind.SpentForMinuses]!,
      );
      expect((await f.ledger.read.epochUsage()).burned > 0n).to.equal(true);
    });
  });

  // Audit finding 5: a stolen relayer key can register any post id (they are derived from the
  // site's post ids, so foreseeable) for an author of its choosing, ahead of the real post. The
  // policy admin can release the id, so the real post registers it.
  describe("releasePost", function () {
    it("lets the policy admin release a squatted post id, which its real post then registers", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      // The squatter registers post 90 with itself as author, on the other site.
      await f.settle([{ postId: 90n, author: f.outsider }], [], OTHER_SITE);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.settle([{ postId: 90n, author: f.otherAuthor }], []),
        f.ledger,
        "TweiLedgerPostAlreadyRegistered",
        [90n],
      );
      await viem.assertions.emitWithArgs(f.ledger.write.releasePost([90n]), f.ledger, "PostReleased", [
        90n,
        OTHER_SITE,
        getAddress(f.outsider),
      ]);
      expect(await f.ledger.read.post([90n])).to.deep.equal({ author: zeroAddress, siteId: 0 });
      // Released: a batch that refers to it reverts until it is registered again.
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.settle([], [action(f.outsider, ActionKind.EarnedForPluses, 90n)], OTHER_SITE),
        f.ledger,
        "TweiLedgerUnknownPost",
        [90n],
      );
      // The real post registers it and its author earns by it.
      await f.settle([{ postId: 90n, author: f.otherAuthor }], []);
      expect(await f.ledger.read.post([90n])).to.deep.equal({ author: getAddress(f.otherAuthor), siteId: SITE });
      const before = await f.token.read.balanceOf([f.otherAuthor]);
      await f.settle([], [action(f.otherAuthor, ActionKind.EarnedForPluses, 90n)]);
      expect(await f.token.read.balanceOf([f.otherAuthor])).to.equal(
        before + DEFAULT_RULE_AMOUNTS[ActionKind.EarnedForPluses]!,
      );
    });

    it("refuses an unregistered post id and anyone but the policy admin", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.ledger.write.releasePost([91n]),
        f.ledger,
        "TweiLedgerPostNotRegistered",
        [91n],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.ledgerAsRelayer.write.releasePost([POST]),
        f.ledger,
        "AccessControlUnauthorizedAccount",
        [getAddress(f.relayer.account.address), await f.ledger.read.POLICY_ADMIN_ROLE()],
      );
    });
  });

  describe("roles", function () {
    it("gives settle to the relayer role, policy to the policy admin and pause to the pauser", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      const outsider = f.wallets[7]!;
      const asOutsider = await viem.getContractAt("TweiLedger", f.ledger.address, { client: { wallet: outsider } });
      const packed = packBatch([], [action(f.reader, ActionKind.ReadToEarn, POST, 10_000)]);
      const expectMissing = async (call: Promise<`0x${string}`>, role: `0x${string}`) =>
        viem.assertions.revertWithCustomErrorWithArgs(call, f.ledger, "AccessControlUnauthorizedAccount", [
          outsider.account.address,
          role,
        ]);
      const relayerRole = await f.ledger.read.RELAYER_ROLE();
      const policyRole = await f.ledger.read.POLICY_ADMIN_ROLE();
      const pauserRole = await f.ledger.read.PAUSER_ROLE();
      const unpauserRole = await f.ledger.read.UNPAUSER_ROLE();
      await expectMissing(asOutsider.write.settle([600n, SITE, 1, rootOf("r"), packed]), relayerRole);
      await expectMissing(
        asOutsider.write.scheduleRuleSet([[...DEFAULT_RULE_AMOUNTS] as never, WIDE_BOUNDS as never]),
        policyRole,
      );
      await expectMissing(asOutsider.write.scheduleEmissionCaps([1n, 1n]), policyRole);
      await expectMissing(asOutsider.write.registerSite([50, outsider.account.address, 1n, 1n]), policyRole);
      await expectMissing(asOutsider.write.setSiteSigner([SITE, outsider.account.address]), policyRole);
      await expectMissing(asOutsider.write.setSiteActive([SITE, false]), policyRole);
      await expectMissing(asOutsider.write.scheduleSiteCaps([SITE, 1n, 1n]), policyRole);
      await expectMissing(asOutsider.write.pause(), pauserRole);
      await expectMissing(asOutsider.write.unpause(), unpauserRole);
      await expectMissing(asOutsider.write.releasePost([POST]), policyRole);
      // The relayer itself cannot change the rules it settles by.
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.ledgerAsRelayer.write.scheduleRuleSet([[...DEFAULT_RULE_AMOUNTS] as never, WIDE_BOUNDS as never]),
        f.ledger,
        "AccessControlUnauthorizedAccount",
        [f.relayer.account.address, policyRole],
      );
    });

    it("versions every rule set change and settles by the rules in force", async function () {
      const f = await networkHelpers.loadFixture(publishedFixture);
      const amounts = [...DEFAULT_RULE_AMOUNTS];
      amounts[ActionKind.ReadToEarn] = twei("3");
      await viem.assertions.emitWithArgs(
        f.ledger.write.scheduleRuleSet([amounts as never, WIDE_BOUNDS as never]),
        f.ledger,
        "RuleSetScheduled",
        [2, anyValue, amounts as never, WIDE_BOUNDS as never],
      );
      const before = await f.token.read.balanceOf([f.reader]);
      await f.settle([], [action(f.reader, ActionKind.ReadToEarn, POST, 5_000)]);
      expect(await f.token.read.balanceOf([f.reader])).to.equal(before + twei("1.5"));
      expect(await f.ledger.read.amountFor([ActionKind.ReadToEarn, 5_000])).to.equal(twei("1.5"));
    });

    it("keeps a site registry with signer changes and refuses duplicates and zero signers", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.ledger.write.registerSite([SITE, f.outsider, 1n, 1n]),
        f.ledger,
        "TweiLedgerSiteAlreadyRegistered",
        [SITE],
      );
      await viem.assertions.revertWithCustomError(
        f.ledger.write.registerSite([60, zeroAddress, 1n, 1n]),
        f.ledger,
        "TweiLedgerZeroAddress",
      );
      await viem.assertions.emitWithArgs(
        f.ledger.write.setSiteSigner([SITE, f.outsider]),
        f.ledger,
        "SiteSignerUpdated",
        [SITE, f.siteSigner.account.address, f.outsider],
      );
      expect((await f.ledger.read.site([SITE])).signer).to.equal(f.outsider);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.ledger.write.setSiteActive([61, true]),
        f.ledger,
        "TweiLedgerUnknownSite",
        [61],
      );
    });
  });
});
