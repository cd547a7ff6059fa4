import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import { directoryEvidenceSource } from "../../src/auditor/evidenceSource.js";
import { runAudit } from "../../src/auditor/runAudit.js";
import { parseEventLogs } from "viem";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { ActionKind } from "../../src/core/kinds.js";
import { encodePackedActions, groupByAccount } from "../../src/core/packedActions.js";
import { postIdFor } from "../../src/core/postId.js";
import { DEFAULT_RULE_AMOUNTS, DEFAULT_UNIT_BOUNDS } from "../../src/core/ruleSet.js";
import { hardhatAccount } from "../../src/devnet/startHardhatNode.js";
import { CHAIN_ID, startTestChain, type TestChain } from "../relayer/helpers/testChain.js";
import { addSite, tempDirs } from "../relayer/helpers/testRelayer.js";

const DELAY = 3_600;
const GRACE = 600;

describe("auditor: rule sets dated by when they take effect, with the ledger's grace period", function () {
  this.timeout(120_000);
  const dirs = tempDirs();
  let chain: TestChain;
  let emptyEvidence: string;

  before(async function () {
    chain = await startTestChain({ changeDelay: DELAY, ruleSetGrace: GRACE });
    emptyEvidence = await dirs.make("rule-schedule");
    await addSite(chain, emptyEvidence, 1);
  });

  after(async function () {
    await chain?.stop();
    await dirs.removeAll();
  });

  const inForce = () =>
    chain.publicClient.readContract({
      address: chain.deployed.ledger,
      abi: tweiLedgerAbi,
      functionName: "versionsInForce",
    });
  const settleOne = (index: number) =>
    chain.seed(1, [{ account: chain.user(index).address, kind: ActionKind.CommentRewards, units: 1 }]);
  const passTime = async (seconds: number) => {
    await chain.rpc("evm_increaseTime", [seconds]);
    await chain.rpc("evm_mine");
  };

  it("accepts batches under the old version until the announced one takes effect, and during its grace; past the grace the ledger refuses it", async function () {
    const hash = await chain.admin.writeContract({
      address: chain.deployed.ledger,
      abi: tweiLedgerAbi,
      functionName: "scheduleRuleSet",
      args: [DEFAULT_RULE_AMOUNTS.map((amount) => amount * 2n), DEFAULT_UNIT_BOUNDS],
    } as never);
    await chain.publicClient.waitForTransactionReceipt({ hash });
    await settleOne(0); // announced, not yet in force: version 1
    expect((await inForce())[0]).to.equal(1);
    await passTime(DELAY + 1);
    await settleOne(1); // version 2 now in force
    expect((await inForce())[0]).to.equal(2);

    // Version 1 straight after the switch: the ledger still takes it, during its grace.
    const seeder = chain.walletOf(hardhatAccount(2)); // holds RELAYER_ROLE (see startTestChain)
    const settleUnder = async (version: number, batchId: bigint) => {
      const postId = postIdFor(1, `grace-${batchId}`);
      const packed = encodePackedActions({
        posts: [{ postId, author: chain.user(5).address }],
        groups: groupByAccount([{ account: chain.user(2).address, kind: ActionKind.CommentRewards, units: 1, postId }]),
      });
      return seeder.writeContract({
        address: chain.deployed.ledger,
        abi: tweiLedgerAbi,
        functionName: "settle",
        args: [batchId, 1, version, `0x${"22".repeat(32)}`, packed],
      } as never);
    };
    await chain.publicClient.waitForTransactionReceipt({ hash: await settleUnder(1, 2n ** 62n) });

    const result = await runAudit({
      publicClient: chain.publicClient,
      deployment: { ...chain.deployed, chainId: CHAIN_ID },
      evidence: directoryEvidenceSource(emptyEvidence),
    });
    // Every batch lacks evidence (settled straight on the ledger); none is blamed for its rule set.
    expect(result.discrepancies.map((d) => d.code)).to.deep.equal([
      "unbacked_batch",
      "unbacked_batch",
      "unbacked_batch",
    ]);
    expect(result.summary.ruleSetVersions).to.deep.equal([1, 2]);

    // Past the grace the ledger refuses version 1: the chain itself holds the line.
    await passTime(GRACE + 1);
    let refused = "";
    try {
      await settleUnder(1, 2n ** 62n + 1n);
    } catch (error) {
      refused = String(error);
    }
    expect(refused).to.include("TweiLedgerRuleSetNotInForce");
  });
});

describe("auditor: a batch settled at exactly its rule set's effectiveAt is under that rule set", function () {
  this.timeout(120_000);
  const dirs = tempDirs();
  let chain: TestChain;
  let emptyEvidence: string;

  before(async function () {
    chain = await startTestChain({ changeDelay: DELAY, ruleSetGrace: GRACE });
    emptyEvidence = await dirs.make("rule-boundary");
    await addSite(chain, emptyEvidence, 1);
  });

  after(async function () {
    await chain?.stop();
    await dirs.removeAll();
  });

  it("adopts the announced version in the block whose timestamp equals its effectiveAt, as the ledger does", async function () {
    const hash = await chain.admin.writeContract({
      address: chain.deployed.ledger,
      abi: tweiLedgerAbi,
      functionName: "scheduleRuleSet",
      args: [DEFAULT_RULE_AMOUNTS.map((amount) => amount * 3n), DEFAULT_UNIT_BOUNDS],
    } as never);
    const receipt = await chain.publicClient.waitForTransactionReceipt({ hash });
    const [scheduled] = parseEventLogs({ abi: tweiLedgerAbi, eventName: "RuleSetScheduled", logs: receipt.logs });
    if (!scheduled) throw new Error("no RuleSetScheduled log");
    const { version, effectiveAt } = scheduled.args;
    expect(version).to.equal(2);

    // The batch names version 2 and lands in the block stamped effectiveAt: the ledger takes it.
    await chain.rpc("evm_setNextBlockTimestamp", [Number(effectiveAt)]);
    const seeder = chain.walletOf(hardhatAccount(2)); // holds RELAYER_ROLE (see startTestChain)
    const postId = postIdFor(1, "boundary");
    const packed = encodePackedActions({
      posts: [{ postId, author: chain.user(5).address }],
      groups: groupByAccount([{ account: chain.user(2).address, kind: ActionKind.CommentRewards, units: 1, postId }]),
    });
    const settled = await chain.publicClient.waitForTransactionReceipt({
      hash: await seeder.writeContract({
        address: chain.deployed.ledger,
        abi: tweiLedgerAbi,
        functionName: "settle",
        args: [7n, 1, 2, `0x${"33".repeat(32)}`, packed],
        gas: 1_000_000n,
      } as never),
    });
    expect(settled.status).to.equal("success");
    expect((await chain.publicClient.getBlock({ blockNumber: settled.blockNumber })).timestamp).to.equal(effectiveAt);

    const result = await runAudit({
      publicClient: chain.publicClient,
      deployment: { ...chain.deployed, chainId: CHAIN_ID },
      evidence: directoryEvidenceSource(emptyEvidence),
    });
    // Only its evidence is missing; its rule set is the one in force at that instant.
    expect(result.discrepancies.map((d) => d.code)).to.deep.equal(["unbacked_batch"]);
  });
});
