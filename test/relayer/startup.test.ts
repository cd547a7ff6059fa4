import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import { encodeFunctionData, keccak256, parseUnits, stringToBytes, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { decodeRevert, formatRevert } from "../../src/chain/decodeRevert.js";
import { waitForSuccess } from "../../src/chain/waitForSuccess.js";
import { ActionKind } from "../../src/core/kinds.js";
import { PreflightError } from "../../src/relayer/chain/preflight.js";
import { DEFAULT_POLICY } from "../../src/rules/policy.js";
import { policyHash } from "../../src/rules/policyHash.js";
import { captureLog } from "./helpers/captureLog.js";
import { runRelayerProcessToExit, writeTestDeployment } from "./helpers/relayerProcess.js";
import { privateKeyOf, startTestChain, type TestChain } from "./helpers/testChain.js";
import { addSite, clientFor, relayerConfig, startTestRelayer, tempDirs, waitFor } from "./helpers/testRelayer.js";
import { createRelayer } from "../../src/relayer/createRelayer.js";
import { DatabaseInUseError } from "../../src/storage/sqliteProcessLock.js";
import { testStores } from "./helpers/testStores.js";
import { STORES } from "../helpers/postgres.js";
import { schedulePolicy } from "../helpers/schedulePolicy.js";

/** The relayer's start-up problems, or [] when it started. */
async function startupProblems(start: () => Promise<{ stop(): Promise<void> }>) {
  try {
    const relayer = await start();
    await relayer.stop();
    return [];
  } catch (error) {
    expect(error).to.be.instanceOf(PreflightError);
    return (error as PreflightError).problems;
  }
}

describe("relayer start-up checks and decoded reverts", function () {
  let chain: TestChain;
  const dirs = tempDirs();
  const dir = dirs.make;

  // The checks that touch the store run on both.
  const stores = STORES.map(testStores);

  before(async function () {
    chain = await startTestChain();
    for (const store of stores) await store.start();
  });
  after(async function () {
    await chain?.stop();
    await dirs.removeAll();
    for (const store of stores) await store.stop();
  });

  const roleOf = () =>
    chain.publicClient.readContract({
      address: chain.deployed.ledger,
      abi: tweiLedgerAbi,
      functionName: "RELAYER_ROLE",
    });
  const adminWrite = async (functionName: "grantRole" | "revokeRole", args: readonly [Hex, `0x${string}`]) =>
    waitForSuccess(
      chain.publicClient,
      await chain.admin.writeContract({
        address: chain.deployed.ledger,
        abi: tweiLedgerAbi,
        functionName,
        args,
        chain: chain.chain,
      } as never),
    );

  it("refuses to start a relayer whose key lacks the relayer role, saying what to do (in-process and as the service)", async function () {
    const dataDir = await dir("no-role");
    const stranger = privateKeyOf(7);
    const problems = await startupProblems(() => startTestRelayer(chain, dataDir, { privateKey: stranger }));
    const account = privateKeyToAccount(stranger).address;
    expect(problems).to.deep.equal([
      {
        code: "not_relayer",
        message: `the relayer account ${account} lacks RELAYER_ROLE on the ledger ${chain.deployed.ledger}: an admin must grant it (grantRole(RELAYER_ROLE, ${account})), or set RELAYER_PRIVATE_KEY to the key that holds it`,
      },
    ]);

    const root = await dir("no-role-root");
    await writeTestDeployment(chain, root);
    const { code, output } = await runRelayerProcessToExit(chain, root, dataDir, { RELAYER_PRIVATE_KEY: stranger });
    expect(code).to.equal(1);
    expect(output).to.include(`relayer: the relayer account ${account} lacks RELAYER_ROLE`);
    expect(output).to.not.include("0xe2517d3f");
  });

  // Issue 24, policy on-chain: the relayer runs only on a policy whose hash the ledger holds in
  // force for each of its sites.
  it("refuses to start on a policy whose hash the ledger does not hold for its site, and starts once it is committed", async function () {
    const dataDir = await dir("policy");
    const siteId = 4_100;
    await addSite(chain, dataDir, siteId); // commits DEFAULT_POLICY's hash: the ledger held none
    const stricter = { ...DEFAULT_POLICY, minReadBps: 3_000 };
    const problems = await startupProblems(() => startTestRelayer(chain, dataDir, { policy: stricter }));
    expect(problems.map((problem) => problem.code)).to.deep.equal(["policy_not_on_chain"]);
    expect(problems[0]!.message).to.include(
      `site ${siteId}: this relayer's policy hashes to ${policyHash(stricter)}, the ledger holds ${policyHash(DEFAULT_POLICY)} in force`,
    );
    expect(await startupProblems(() => startTestRelayer(chain, dataDir))).to.deep.equal([]);
    // The policy admin commits the stricter one (no change delay on this chain: in force at once).
    await schedulePolicy(chain, siteId, policyHash({ ...stricter }));
    expect(await startupProblems(() => startTestRelayer(chain, dataDir, { policy: stricter }))).to.deep.equal([]);
    expect((await startupProblems(() => startTestRelayer(chain, dataDir))).map((p) => p.code)).to.deep.equal([
      "policy_not_on_chain",
    ]);
  });

  it("publishes the policy it applies at GET /v1/policies/:hash, the bytes whose hash the ledger holds", async function () {
    const dataDir = await dir("policy-document");
    await addSite(chain, dataDir, 4_101);
    const relayer = await startTestRelayer(chain, dataDir);
    try {
      const hash = policyHash(DEFAULT_POLICY);
      const answer = await fetch(`${relayer.url}/v1/policies/${hash}`);
      expect(answer.status).to.equal(200);
      const text = await answer.text();
      expect(keccak256(stringToBytes(text))).to.equal(hash);
      expect(JSON.parse(text)).to.deep.equal(DEFAULT_POLICY);
      const other = await fetch(`${relayer.url}/v1/policies/0x${"ab".repeat(32)}`);
      expect(other.status).to.equal(404);
      expect(await other.json()).to.deep.include({ code: "policy_not_found" });
      const bad = await fetch(`${relayer.url}/v1/policies/0x12`);
      expect(bad.status).to.equal(400);
      expect(await bad.json()).to.deep.include({ code: "invalid_policy_hash" });
    } finally {
      await relayer.stop();
    }
  });

  it("refuses another chain's deployment, another version's ABI, and a key without gas money", async function () {
    const dataDir = await dir("mismatch");
    const codes = async (overrides: Parameters<typeof startTestRelayer>[2]) =>
      (await startupProblems(() => startTestRelayer(chain, dataDir, overrides))).map((problem) => problem.code);
    expect(await codes({ chainId: 1 })).to.deep.equal(["chain_id_mismatch"]);
    expect(await codes({ abiHash: `0x${"12".repeat(32)}` })).to.deep.equal(["abi_mismatch"]);
    // A key with the role and no ETH.
    const broke = generatePrivateKey();
    await adminWrite("grantRole", [await roleOf(), privateKeyToAccount(broke).address]);
    expect(await codes({ privateKey: broke })).to.deep.equal(["no_gas"]);
    // An API-only instance needs neither role nor gas.
    expect(await codes({ privateKey: broke, settle: false })).to.deep.equal([]);
  });

  for (const [i, store] of stores.entries())
    it(`answers /readyz 503 with what to do when the role is revoked or gas runs low, says so once, and settles again once the role is back (${store.kind})`, async function () {
      const { dataDir, config } = await store.fresh("revoked");
      const siteId = 81 + i;
      const site = await addSite(chain, dataDir, siteId, config);
      const capture = captureLog();
      const relayer = await startTestRelayer(chain, dataDir, {
        ...config,
        logger: capture.log,
        batcher: { intervalMs: 100 },
      });
      const role = await roleOf();
      try {
        const author = chain.user(2);
        await chain.seed(siteId, [{ account: author.address, kind: ActionKind.CommentRewards, units: 3 }]);
        await chain.approveLedger(author);
        await adminWrite("revokeRole", [role, chain.relayerAddress]);
        const client = clientFor(chain, relayer.url, site);
        await client.sendEvents([
          { eventId: "pub", type: "post_published", occurredAt: 1, user: author.address, postId: "p", wordCount: 100 },
        ]);
        const problem = await waitFor("/readyz to say why", async () => {
          const ready = await fetch(`${relayer.url}/readyz`);
          return ready.status === 503
            ? ((await ready.json()) as { reasons: { code: string; message: string }[] })
            : undefined;
        });
        expect(problem.reasons.map((reason) => reason.code)).to.deep.equal(["not_relayer"]);
        expect(problem.reasons[0]?.message).to.include("lacks RELAYER_ROLE").and.include("grantRole");
        await new Promise((resolve) => setTimeout(resolve, 600)); // several passes meanwhile
        expect((await client.event("pub")).status).to.equal("pending");
        expect(capture.said("settlement stopped")).to.equal(1);

        await adminWrite("grantRole", [role, chain.relayerAddress]);
        await waitFor("settled once the role is back", async () =>
          (await client.event("pub")).status === "settled" ? true : undefined,
        );
        expect((await fetch(`${relayer.url}/readyz`)).status).to.equal(200);
        expect(capture.said("settlement resumed")).to.equal(1);
      } finally {
        await adminWrite("grantRole", [role, chain.relayerAddress]);
        await relayer.stop();
      }

      const poor = await startTestRelayer(chain, dataDir, {
        ...config,
        settle: true,
        minBalanceWei: parseUnits("1000000", 18),
      });
      try {
        const ready = await fetch(`${poor.url}/readyz`);
        expect(ready.status).to.equal(503);
        const problem = (await ready.json()) as { reasons: { code: string; message: string }[] };
        expect(problem.reasons.map((reason) => reason.code)).to.deep.equal(["low_gas"]);
        expect(problem.reasons[0]?.message).to.include(chain.relayerAddress).and.include("fund it");
      } finally {
        await poor.stop();
      }
    });

  it("refuses a second relayer process on a SQLite database another process holds, and starts once it is free", async function () {
    const root = await dir("lock-root");
    const dataDir = `${root}/data`;
    await writeTestDeployment(chain, root);
    const relayer = await startTestRelayer(chain, dataDir, { settle: false });
    try {
      const second = await runRelayerProcessToExit(chain, root, dataDir, { RELAYER_SETTLE: "false" });
      expect(second.code).to.equal(1);
      expect(second.output).to.include("database_in_use").and.include("in use by another process");
      // In this process too: a second relayer on the same database is refused.
      expect(() => createRelayer(relayerConfig(chain, dataDir, { settle: false }))).to.throw(DatabaseInUseError);
    } finally {
      await relayer.stop();
    }
    // Released on stop: the database opens again.
    const again = await startTestRelayer(chain, dataDir, { settle: false });
    await again.stop();
  });

  for (const node of ["hardhat", "anvil"] as const)
    it(`decodes the ledger's and OpenZeppelin's reverts by name on ${node}`, async function () {
      const target = node === "hardhat" ? chain : await startTestChain({ node });
      try {
        const settle = encodeFunctionData({
          abi: tweiLedgerAbi,
          functionName: "settle",
          args: [5n, 99, 1, `0x${"11".repeat(32)}`, "0x0000"],
        });
        const revertOf = async (account: `0x${string}`) => {
          try {
            await target.publicClient.estimateGas({ account, to: target.deployed.ledger, data: settle });
          } catch (error) {
            const revert = decodeRevert(error);
            return revert && formatRevert(revert);
          }
          return undefined;
        };
        const stranger = privateKeyToAccount(privateKeyOf(7)).address;
        expect(await revertOf(stranger)).to.equal(
          `AccessControlUnauthorizedAccount(${stranger}, ${await target.publicClient.readContract({
            address: target.deployed.ledger,
            abi: tweiLedgerAbi,
            functionName: "RELAYER_ROLE",
          })})`,
        );
        expect(await revertOf(target.relayerAddress)).to.equal("TweiLedgerUnknownSite(99)");
      } finally {
        if (target !== chain) await target.stop();
      }
    });
});
