import { execFile } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { after, afterEach, before, describe, it } from "mocha";
import { parseEventLogs, type Address, type Hex } from "viem";
import { directoryEvidenceSource } from "../../src/auditor/evidenceSource.js";
import { policyFileName } from "../../src/auditor/policySource.js";
import { runAudit } from "../../src/auditor/runAudit.js";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { DEFAULT_POLICY, type RulePolicy } from "../../src/rules/policy.js";
import { policyHash } from "../../src/rules/policyHash.js";
import { CHAIN_ID } from "../relayer/helpers/testChain.js";
import { writeTestDeployment } from "../relayer/helpers/relayerProcess.js";
import { tempDirs } from "../relayer/helpers/testRelayer.js";
import { SITE_ID, startCraftedChain, type CraftedChain } from "./helpers/craftedChain.js";
import { schedulePolicy } from "../helpers/schedulePolicy.js";

const run = promisify(execFile);
const DELAY = 3_600;
// Version A is the default policy (200 words a minute); B reads half as fast, so the same 30 s
// of a 200-word post is 5,000 basis points under A and 2,500 under B: replayed with the other
// policy, either batch's read is an action the chain did not settle.
const POLICY_A: RulePolicy = DEFAULT_POLICY;
const POLICY_B: RulePolicy = { ...DEFAULT_POLICY, wordsPerMinute: 100 };
const POST = "post-1";

/**
 * The auditor learns each site's policy from the chain (PolicyScheduled, with its effectiveAt as
 * the ledger applies it) and replays each batch with the document in force at its block, fetched
 * beside the evidence and checked against the hash: no --policy needed for a chain with two.
 */
describe("auditor: a site's policy committed on-chain, two versions, replayed without being told either", function () {
  this.timeout(240_000);
  const dirs = tempDirs();
  let chain: CraftedChain;
  let root: string;
  const hashes: Hex[] = [];
  const batchIds: bigint[] = [];
  const user = (i: number) => chain.user(i).address as Address;

  /** `npm run set-policy` as an operator runs it, against the test chain's node. */
  const setPolicy = async (policy: RulePolicy, name: string) => {
    const file = join(root, `${name}.json`);
    await writeFile(file, JSON.stringify(policy, null, 2));
    const { stdout } = await run("npm", ["run", "--silent", "set-policy", "--", "--network", "localhost"], {
      env: {
        ...process.env,
        TWEI_RPC_URL: chain.node.url,
        TWEI_NETWORK: "test",
        TWEI_DEPLOYMENTS_ROOT: root,
        TWEI_SITE_ID: String(SITE_ID),
        TWEI_POLICY: file,
      },
    });
    return stdout;
  };

  before(async function () {
    chain = await startCraftedChain({ changeDelay: DELAY });
    root = await dirs.make("policy-history");
    await writeTestDeployment(chain, root);
    for (let i = 0; i <= 3; i++) await chain.approveLedger(chain.user(i));
    const e = chain.event;

    // The site's first policy is in force at once.
    expect(await setPolicy(POLICY_A, "a")).to.include(`in force now: ${policyHash(POLICY_A)}`);
    hashes.push(await chain.publishPolicy(POLICY_A));
    batchIds.push(
      (
        await chain.settle([
          e("post_published", "publish", user(0), POST, { wordCount: 200 }),
          e("post_read", "read-1", user(1), POST, { secondsRead: 30 }),
        ])
      ).batchId,
    );

    // B is announced: A stays in force for the change delay.
    const announced = await setPolicy(POLICY_B, "b");
    expect(announced).to.include(`scheduled: ${policyHash(POLICY_B)} takes effect at`);
    hashes.push(await chain.publishPolicy(POLICY_B));
    batchIds.push((await chain.settle([e("post_read", "read-2", user(2), POST, { secondsRead: 30 })])).batchId);

    // The next batch lands in the block stamped exactly B's effectiveAt: the ledger holds B then.
    const logs = await chain.publicClient.getLogs({
      address: chain.deployed.ledger,
      fromBlock: chain.deployed.deploymentBlock,
    });
    const scheduled = parseEventLogs({ abi: tweiLedgerAbi, eventName: "PolicyScheduled", logs });
    const effectiveAt = scheduled.at(-1)?.args.effectiveAt;
    if (effectiveAt === undefined) throw new Error("no PolicyScheduled log");
    await chain.rpc("evm_setNextBlockTimestamp", [Number(effectiveAt)]);
    chain.usePolicy(POLICY_B);
    batchIds.push((await chain.settle([e("post_read", "read-3", user(3), POST, { secondsRead: 30 })])).batchId);
    const schedule = await chain.publicClient.readContract({
      address: chain.deployed.ledger,
      abi: tweiLedgerAbi,
      functionName: "sitePolicy",
      args: [SITE_ID],
    });
    expect(schedule.policyHash).to.equal(policyHash(POLICY_B));
  });

  after(async function () {
    await chain?.stop();
    await dirs.removeAll();
  });

  it("audits clean, each batch replayed with the policy in force for its site at its block (the switch at exactly effectiveAt)", async function () {
    // Told neither policy; the fallback (for a site with none committed) is not used.
    const result = await chain.audit();
    expect(result.discrepancies).to.deep.equal([]);
    expect(result.summary.batches).to.equal(3);
    expect(result.summary.sitePolicies).to.deep.equal([
      { siteId: SITE_ID, policyHash: hashes[0] },
      { siteId: SITE_ID, policyHash: hashes[1] },
    ]);
  });

  it("a --policy fallback does not override a policy committed on-chain", async function () {
    const result = await runAudit({
      publicClient: chain.publicClient,
      deployment: { ...chain.deployed, chainId: CHAIN_ID },
      evidence: directoryEvidenceSource(chain.evidenceDir),
      policy: POLICY_B,
    });
    expect(result.discrepancies).to.deep.equal([]);
  });

  it("policy_invalid: a published document that is not the one the ledger holds (its batch alone; the next depends on it)", async function () {
    const file = join(chain.evidenceDir, policyFileName(hashes[1] as Hex));
    const original = await readFile(file, "utf8");
    await writeFile(file, JSON.stringify({ ...POLICY_B, wordsPerMinute: 200 }));
    try {
      const result = await chain.audit();
      const invalid = result.discrepancies.filter((d) => d.code === "policy_invalid");
      expect(invalid.map((d) => [d.batchId, d.expected])).to.deep.equal([[batchIds[2]?.toString(), hashes[1]]]);
      expect(invalid[0]?.found).to.equal(policyHash(POLICY_A));
      expect(result.discrepancies.map((d) => d.code)).to.deep.equal(["policy_invalid"]);
    } finally {
      await writeFile(file, original);
    }
  });

  it("policy_unavailable: a missing document (never a pause code), and a later batch of the site depends on it; not JSON is policy_invalid", async function () {
    const file = join(chain.evidenceDir, policyFileName(hashes[0] as Hex));
    const original = await readFile(file, "utf8");
    await rm(file);
    try {
      const result = await chain.audit();
      // Batches 1 and 2 settled under A: both lack it; batch 3 (under B) depends on them.
      expect(result.discrepancies.map((d) => [d.code, d.batchId])).to.deep.equal([
        ["policy_unavailable", batchIds[0]?.toString()],
        ["policy_unavailable", batchIds[1]?.toString()],
        ["depends_on_unchecked_batch", batchIds[2]?.toString()],
      ]);
      await writeFile(file, "{not json");
      const garbled = await chain.audit();
      expect(garbled.discrepancies.map((d) => d.code)).to.deep.equal([
        "policy_invalid",
        "policy_invalid",
        "depends_on_unchecked_batch",
      ]);
    } finally {
      await writeFile(file, original);
    }
  });
});

/**
 * Around a change of policy, each envelope is replayed under the policy in force for its site when
 * the relayer accepted it (its `acceptedAtBlock`), not at the batch's block: events accepted under
 * A before B's effectiveAt and settled after it were rightly paid as A says.
 */
describe("auditor: events accepted under a site's old policy, settled after the new one took effect", function () {
  this.timeout(240_000);
  let chain: CraftedChain;
  let acceptedUnderA: bigint;
  let acceptedUnderB: bigint;
  let revert: () => Promise<void>;
  const user = (i: number) => chain.user(i).address as Address;
  const schedule = async (policy: RulePolicy) => {
    const hash = await chain.publishPolicy(policy);
    await schedulePolicy(chain, SITE_ID, hash);
  };

  before(async function () {
    chain = await startCraftedChain({ changeDelay: DELAY });
    for (let i = 0; i <= 3; i++) await chain.approveLedger(chain.user(i));
    const e = chain.event;
    await schedule(POLICY_A);
    await chain.settle([
      e("post_published", "publish", user(0), POST, { wordCount: 200 }),
      e("post_read", "read-1", user(1), POST, { secondsRead: 30 }),
    ]);
    await schedule(POLICY_B);
    acceptedUnderA = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    const { scheduledAt } = await chain.publicClient.readContract({
      address: chain.deployed.ledger,
      abi: tweiLedgerAbi,
      functionName: "sitePolicy",
      args: [SITE_ID],
    });
    // The first block under B: stamped exactly its effectiveAt.
    await chain.rpc("evm_setNextBlockTimestamp", [Number(scheduledAt)]);
    await chain.rpc("evm_mine");
    acceptedUnderB = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    revert = await chain.snapshot();
  });

  afterEach(async function () {
    await revert();
    revert = await chain.snapshot();
  });
  after(async function () {
    await chain?.stop();
  });

  /** A read accepted at `acceptedAtBlock` (absent: not said), paid as A says, settled under B. */
  const settleReadPaidAsA = (acceptedAtBlock: bigint | undefined) =>
    chain.settle(
      [chain.event("post_read", "read-2", user(2), POST, { secondsRead: 30 })],
      acceptedAtBlock === undefined ? {} : { acceptedAtBlock },
    );

  it("audits clean: the envelope accepted before B's effectiveAt is replayed under A", async function () {
    await settleReadPaidAsA(acceptedUnderA);
    const result = await chain.audit();
    expect(result.discrepancies).to.deep.equal([]);
  });

  it("unexplained_action: the same payment, its envelope accepted from B's effectiveAt on (or not said: the batch's block)", async function () {
    for (const acceptedAtBlock of [acceptedUnderB, undefined]) {
      const { batchId } = await settleReadPaidAsA(acceptedAtBlock);
      const result = await chain.audit();
      expect(result.discrepancies.map((d) => [d.code, d.batchId])).to.deep.include([
        "unexplained_action",
        batchId.toString(),
      ]);
      expect(result.discrepancies.every((d) => d.batchId === batchId.toString())).to.equal(true);
      await revert();
      revert = await chain.snapshot();
    }
  });
});

describe("auditor: an announced policy replaced before its effectiveAt never was in force", function () {
  this.timeout(240_000);
  let chain: CraftedChain;

  before(async function () {
    chain = await startCraftedChain({ changeDelay: DELAY });
    for (let i = 0; i <= 2; i++) await chain.approveLedger(chain.user(i));
  });
  after(async function () {
    await chain?.stop();
  });

  it("events accepted and settled at B's effectiveAt, B replaced by C before then, are under A", async function () {
    const schedule = async (policy: RulePolicy) => {
      const hash = await chain.publishPolicy(policy);
      await schedulePolicy(chain, SITE_ID, hash);
      return chain.publicClient.readContract({
        address: chain.deployed.ledger,
        abi: tweiLedgerAbi,
        functionName: "sitePolicy",
        args: [SITE_ID],
      });
    };
    const user = (i: number) => chain.user(i).address as Address;
    await schedule(POLICY_A);
    await chain.settle([
      chain.event("post_published", "publish", user(0), POST, { wordCount: 200 }),
      chain.event("post_read", "read-1", user(1), POST, { secondsRead: 30 }),
    ]);
    const { scheduledAt: bAt } = await schedule(POLICY_B);
    await chain.rpc("evm_increaseTime", [DELAY / 2]);
    await chain.rpc("evm_mine");
    await schedule({ ...DEFAULT_POLICY, wordsPerMinute: 50 });
    await chain.rpc("evm_setNextBlockTimestamp", [Number(bAt)]);
    await chain.rpc("evm_mine");
    const acceptedAtBlock = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    await chain.settle([chain.event("post_read", "read-2", user(2), POST, { secondsRead: 30 })], { acceptedAtBlock });
    const result = await chain.audit();
    expect(result.discrepancies).to.deep.equal([]);
    expect(result.summary.sitePolicies.map((p) => p.policyHash)).to.deep.equal([policyHash(POLICY_A)]);
  });
});
