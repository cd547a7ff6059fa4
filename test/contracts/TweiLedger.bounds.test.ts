import { expect } from "chai";
import { network } from "hardhat";
import { describe, it } from "mocha";
import { getAddress, maxUint256, parseUnits, type Address } from "viem";
import { ActionKind } from "../../src/core/kinds.js";
import { DEFAULT_RULE_AMOUNTS, DEFAULT_UNIT_BOUNDS } from "../../src/core/ruleSet.js";
import { action, packBatch, rootOf } from "../helpers/batches.js";
import { deployForTest } from "../helpers/deployForTest.js";

const { viem, networkHelpers } = await network.create();

const SITE = 3;
const POST = 77n;
const EPOCH = 86_400;
const CHANGE_DELAY = 3_600;
const GRACE = 600;
const ADMIN_DELAY = 2 * 86_400;
const twei = (value: string) => parseUnits(value, 18);

/** The default rule set and unit bounds, changes announced an hour ahead, a site with its caps. */
async function fixture() {
  const deployment = await deployForTest(viem, {
    changeDelay: CHANGE_DELAY,
    ruleSetGrace: GRACE,
    adminDelay: ADMIN_DELAY,
    emissionCap: twei("1000"),
    burnCap: twei("1000"),
  });
  const { ledger, wallets } = deployment;
  const [, , signer, author, victim] = wallets as [...typeof wallets];
  if (!signer || !author || !victim) throw new Error("the test network needs five accounts");
  await ledger.write.registerSite([SITE, signer.account.address, twei("100"), twei("10")]);
  for (const wallet of [author, victim]) {
    const token = await viem.getContractAt("Twei", deployment.token.address, { client: { wallet } });
    await token.write.approve([ledger.address, maxUint256]);
  }
  let nextBatch = 1n;
  const settleAs = (
    version: number,
    actions: Parameters<typeof packBatch>[1],
    posts: Parameters<typeof packBatch>[0] = [],
  ) =>
    deployment.ledgerAsRelayer.write.settle([
      nextBatch++,
      SITE,
      version,
      rootOf(`b${nextBatch}`),
      packBatch(posts, actions),
    ]);
  const authorAddress: Address = getAddress(author.account.address);
  const victimAddress: Address = getAddress(victim.account.address);
  // The post, and some Twei for the victim: 40 comment rewards of 2 Twei.
  await settleAs(
    1,
    [action(authorAddress, ActionKind.CommentRewards, POST)],
    [{ postId: POST, author: authorAddress }],
  );
  await settleAs(
    1,
    Array.from({ length: 40 }, () => action(victimAddress, ActionKind.CommentRewards, POST)),
  );
  return { ...deployment, settleAs, author: authorAddress, victim: victimAddress };
}

/** Moves the next block's time to `seconds` into the epoch after the next one. */
async function atEpochOffset(ledger: { read: { currentEpoch: () => Promise<bigint> } }, seconds: number) {
  const epoch = Number(await ledger.read.currentEpoch()) + 2;
  await networkHelpers.time.setNextBlockTimestamp(epoch * EPOCH + seconds);
  return BigInt(epoch);
}

describe("TweiLedger bounded damage", function () {
  describe("unit bounds", function () {
    it("refuses a relayer-key batch whose units exceed the kind's bound, naming the action, kind, units and bound", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      expect(await f.ledger.read.ruleSetOf([1])).to.deep.include({ maxUnits: DEFAULT_UNIT_BOUNDS });
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.settleAs(1, [
          action(f.victim, ActionKind.LikesOwn, POST),
          action(f.victim, ActionKind.CommentRewards, POST, 2),
        ]),
        f.ledger,
        "TweiLedgerUnitsOutOfBounds",
        [1n, BigInt(ActionKind.CommentRewards), 2n, 1n],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.settleAs(1, [action(f.victim, ActionKind.CommentRewards, POST, 65_535)]),
        f.ledger,
        "TweiLedgerUnitsOutOfBounds",
        [0n, BigInt(ActionKind.CommentRewards), 65_535n, 1n],
      );
      // Read-to-Earn: at most the full read in basis points.
      await f.settleAs(1, [action(f.victim, ActionKind.ReadToEarn, POST, 10_000)]);
    });

    it("refuses a rule set whose Read-to-Earn bound is above a full read", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.ledger.write.scheduleRuleSet([
          DEFAULT_RULE_AMOUNTS as never,
          [10_001, ...DEFAULT_UNIT_BOUNDS.slice(1)] as never,
        ]),
        f.ledger,
        "TweiLedgerUnitBoundTooLarge",
        [0n, 10_001n],
      );
    });
  });

  describe("burn caps", function () {
    it("refuses forged burns beyond the site's burn cap, and beyond the overall one", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const epoch = await atEpochOffset(f.ledger, 10);
      // 11 PnL reports of 1 Twei from the victim: over the site's 10 Twei.
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.settleAs(
          1,
          Array.from({ length: 11 }, () => action(f.victim, ActionKind.PnLReports, POST)),
        ),
        f.ledger,
        "TweiLedgerSiteBurnCapExceeded",
        [SITE, epoch, twei("10"), twei("11")],
      );
      await f.settleAs(
        1,
        Array.from({ length: 10 }, () => action(f.victim, ActionKind.PnLReports, POST)),
      );
      expect((await f.ledger.read.siteEpochUsage([SITE])).burned).to.equal(twei("10"));
      await f.ledger.write.scheduleEmissionCaps([twei("1000"), twei("5")]);
      await f.ledger.write.scheduleSiteCaps([SITE, twei("100"), twei("100")]);
      await networkHelpers.time.increase(CHANGE_DELAY);
      const later = await f.ledger.read.currentEpoch();
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.settleAs(1, [action(f.victim, ActionKind.PnLReports, POST)]),
        f.ledger,
        "TweiLedgerBurnCapExceeded",
        [later, twei("5"), twei("11")],
      );
    });
  });

  describe("the sliding window at an epoch boundary", function () {
    it("leaves no second cap right after a burst at an epoch's end; the room comes back linearly", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const epoch = await atEpochOffset(f.ledger, EPOCH - 10);
      // 50 comment rewards of 2 Twei: the site's whole 100 Twei, ten seconds before the boundary.
      const fifty = () => Array.from({ length: 50 }, () => action(f.victim, ActionKind.CommentRewards, POST));
      await f.settleAs(1, fifty());
      expect((await f.ledger.read.siteEpochUsage([SITE])).mintRoom).to.equal(0n);
      // Ten seconds into the next epoch the previous epoch still weighs (86,390 / 86,400) of its 100.
      await networkHelpers.time.setNextBlockTimestamp(Number(epoch + 1n) * EPOCH + 10);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.settleAs(1, [action(f.victim, ActionKind.CommentRewards, POST)]),
        f.ledger,
        "TweiLedgerSiteEmissionCapExceeded",
        [
          SITE,
          epoch + 1n,
          twei("100"),
          twei("2") + (twei("100") * BigInt(EPOCH - 10) + BigInt(EPOCH) - 1n) / BigInt(EPOCH),
        ],
      );
      // Half-way through, half the cap is back; at most cap * (1 + t / epoch) in any window.
      await networkHelpers.time.setNextBlockTimestamp(Number(epoch + 1n) * EPOCH + EPOCH / 2);
      await networkHelpers.mine();
      expect((await f.ledger.read.siteEpochUsage([SITE])).mintRoom).to.equal(twei("50"));
      await f.settleAs(
        1,
        Array.from({ length: 25 }, () => action(f.victim, ActionKind.CommentRewards, POST)),
      );
      await viem.assertions.revertWithCustomError(
        f.settleAs(1, [action(f.victim, ActionKind.CommentRewards, POST)]),
        f.ledger,
        "TweiLedgerSiteEmissionCapExceeded",
      );
    });
  });

  describe("scheduled rule sets", function () {
    it("announces a rule set before it takes effect and settles a batch priced under the old one at its prices during the grace", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const doubled = DEFAULT_RULE_AMOUNTS.map((amount) => amount * 2n);
      await f.ledger.write.scheduleRuleSet([doubled as never, DEFAULT_UNIT_BOUNDS as never]);
      const effectiveAt = BigInt(await networkHelpers.time.latest()) + BigInt(CHANGE_DELAY);
      const [current, scheduled] = await f.ledger.read.ruleSchedule();
      expect(current.version).to.equal(1);
      expect(scheduled).to.deep.include({ version: 2, effectiveAt, amounts: doubled });
      expect(await f.ledger.read.versionsInForce()).to.deep.equal([1, 0, 0n]);
      // Before its time the new version cannot be named; the old one prices as before.
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.settleAs(2, [action(f.victim, ActionKind.LikesOwn, POST)]),
        f.ledger,
        "TweiLedgerRuleSetNotInForce",
        [2, 1, 0, 0n],
      );
      // Past the switch: a batch priced under version 1 still settles at version 1's prices.
      await networkHelpers.time.setNextBlockTimestamp(effectiveAt + 1n);
      const before = await f.token.read.balanceOf([f.victim]);
      await f.settleAs(1, [action(f.victim, ActionKind.LikesOwn, POST)]);
      expect(await f.token.read.balanceOf([f.victim])).to.equal(before + DEFAULT_RULE_AMOUNTS[ActionKind.LikesOwn]!);
      expect(await f.ledger.read.versionsInForce()).to.deep.equal([2, 1, effectiveAt + BigInt(GRACE)]);
      await f.settleAs(2, [action(f.victim, ActionKind.LikesOwn, POST)]);
      expect(await f.token.read.balanceOf([f.victim])).to.equal(
        before + DEFAULT_RULE_AMOUNTS[ActionKind.LikesOwn]! + doubled[ActionKind.LikesOwn]!,
      );
      // After the grace the old version is refused.
      await networkHelpers.time.setNextBlockTimestamp(effectiveAt + BigInt(GRACE));
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.settleAs(1, [action(f.victim, ActionKind.LikesOwn, POST)]),
        f.ledger,
        "TweiLedgerRuleSetNotInForce",
        [1, 2, 1, effectiveAt + BigInt(GRACE)],
      );
    });

    it("announces cap changes ahead and applies them only from their time", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await f.ledger.write.scheduleSiteCaps([SITE, twei("1"), twei("1")]);
      const caps = await f.ledger.read.siteCaps([SITE]);
      expect(caps).to.deep.include({ mintCap: twei("100"), scheduledMintCap: twei("1"), scheduledBurnCap: twei("1") });
      expect(caps.scheduledAt).to.equal(BigInt(await networkHelpers.time.latest()) + BigInt(CHANGE_DELAY));
      await networkHelpers.time.increase(CHANGE_DELAY);
      expect((await f.ledger.read.site([SITE])).mintCap).to.equal(twei("1"));
    });
  });

  describe("site policies", function () {
    const hashOf = (label: string) => rootOf(`policy ${label}`);

    it("commits a site's first policy at once and announces a change a change delay ahead", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      expect(await f.ledger.read.sitePolicy([SITE])).to.deep.equal({
        policyHash: `0x${"0".repeat(64)}`,
        scheduledPolicyHash: `0x${"0".repeat(64)}`,
        scheduledAt: 0n,
      });
      const first = await f.publicClient.getBlock();
      await viem.assertions.emitWithArgs(
        f.ledger.write.schedulePolicy([SITE, hashOf("v1")]),
        f.ledger,
        "PolicyScheduled",
        [SITE, hashOf("v1"), first.timestamp + 1n],
      );
      expect((await f.ledger.read.sitePolicy([SITE])).policyHash).to.equal(hashOf("v1"));
      await f.ledger.write.schedulePolicy([SITE, hashOf("v2")]);
      const announced = await f.ledger.read.sitePolicy([SITE]);
      expect(announced.policyHash).to.equal(hashOf("v1"));
      expect(announced.scheduledPolicyHash).to.equal(hashOf("v2"));
      const at = announced.scheduledAt;
      await networkHelpers.time.increaseTo(Number(at) - 1);
      expect((await f.ledger.read.sitePolicy([SITE])).policyHash).to.equal(hashOf("v1"));
      await networkHelpers.time.increaseTo(Number(at));
      expect(await f.ledger.read.sitePolicy([SITE])).to.deep.equal({
        policyHash: hashOf("v2"),
        scheduledPolicyHash: `0x${"0".repeat(64)}`,
        scheduledAt: 0n,
      });
      // A change after an adopted one is announced ahead again.
      await f.ledger.write.schedulePolicy([SITE, hashOf("v3")]);
      expect((await f.ledger.read.sitePolicy([SITE])).policyHash).to.equal(hashOf("v2"));
    });

    it("refuses the zero hash, an unknown site and anyone but the policy admin", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.ledger.write.schedulePolicy([SITE, `0x${"0".repeat(64)}`]),
        f.ledger,
        "TweiLedgerZeroPolicyHash",
        [SITE],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.ledger.write.schedulePolicy([99, hashOf("v1")]),
        f.ledger,
        "TweiLedgerUnknownSite",
        [99],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.ledgerAsRelayer.write.schedulePolicy([SITE, hashOf("v1")]),
        f.ledger,
        "AccessControlUnauthorizedAccount",
        [getAddress(f.relayer.account.address), await f.ledger.read.POLICY_ADMIN_ROLE()],
      );
    });
  });

  describe("admin", function () {
    it("moves the default admin role in two steps, the new admin accepting after the delay", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const next = f.wallets[9]!;
      const asNext = await viem.getContractAt("TweiLedger", f.ledger.address, { client: { wallet: next } });
      await f.ledger.write.beginDefaultAdminTransfer([next.account.address]);
      const [pending, schedule] = await f.ledger.read.pendingDefaultAdmin();
      expect(getAddress(pending)).to.equal(getAddress(next.account.address));
      expect(BigInt(schedule)).to.equal(BigInt(await networkHelpers.time.latest()) + BigInt(ADMIN_DELAY));
      await viem.assertions.revertWithCustomErrorWithArgs(
        asNext.write.acceptDefaultAdminTransfer(),
        f.ledger,
        "AccessControlEnforcedDefaultAdminDelay",
        [schedule],
      );
      // The role cannot be granted in one step.
      await viem.assertions.revertWithCustomError(
        f.ledger.write.grantRole([await f.ledger.read.DEFAULT_ADMIN_ROLE(), next.account.address]),
        f.ledger,
        "AccessControlEnforcedDefaultAdminRules",
      );
      await networkHelpers.time.increaseTo(Number(schedule) + 1);
      await asNext.write.acceptDefaultAdminTransfer();
      expect(getAddress(await f.ledger.read.defaultAdmin())).to.equal(getAddress(next.account.address));
    });
  });
});
