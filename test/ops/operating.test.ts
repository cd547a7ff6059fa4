import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readFile, rename, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import { createPublicClient, http, parseEther, parseUnits, type Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { tweiAbi, tweiLedgerAbi } from "../../src/chain/abi.js";
import type { DevNode } from "../../src/devnet/spawnDevNode.js";
import { startAnvilNode } from "../../src/devnet/startAnvilNode.js";
import { freePort, hardhatAccount, startHardhatNode } from "../../src/devnet/startHardhatNode.js";
import { removeDir, tempDir, waitFor } from "../relayer/helpers/testRelayer.js";

const run = promisify(execFile);

function keyOf(index: number): `0x${string}` {
  const key = hardhatAccount(index).getHdKey().privateKey;
  if (!key) throw new Error(`no private key for account ${index}`);
  return `0x${Buffer.from(key).toString("hex")}`;
}

const nodes = [
  ["Hardhat's node", () => startHardhatNode()],
  ["Foundry's anvil", () => startAnvilNode()],
] as const;

/**
 * docs/operating.md played in order, with its commands and environment variables only, on a fresh
 * local node on a port of its own (not 8545: `TWEI_RPC_URL` points every command at it, network
 * `localhost` included): deploy with the launch rules, a new relayer key funded with
 * `npm run fund-relayer`, register-site, `npm run relayer`, `npm run send-example-event` settled
 * under the launch rules, a user's `npm run send-permit`, and `npm run set-rules` switching to the
 * default rules at once (change delay 0).
 */
for (const [nodeName, startNode] of nodes)
  describe(`operating guide (docs/operating.md) on ${nodeName}`, function () {
    this.timeout(600_000);
    const deploymentFile = join("deployments", "localhost.json");
    const savedDeployment = `${deploymentFile}.before-operating-test`;
    const admin = hardhatAccount(0);
    const relayerKey = generatePrivateKey();
    const relayerAddress = privateKeyToAccount(relayerKey).address;
    const siteSignerKey = generatePrivateKey();
    const siteSigner = privateKeyToAccount(siteSignerKey);
    const readerKey = generatePrivateKey();
    const reader = privateKeyToAccount(readerKey).address;
    const siteId = 1;
    let node: DevNode | undefined;
    let relayer: ChildProcess | undefined;
    let relayerOutput = "";
    let dataDir: string;
    let apiKey: string;
    let relayerUrl: string;
    let deployment: { chainId: number; ledger: Address; token: Address };
    const env = (extra: Record<string, string>) => ({
      ...process.env,
      NODE_ENV: "development",
      TWEI_RPC_URL: node?.url ?? "",
      ...extra,
    });
    const siteEnv = () =>
      env({
        TWEI_RELAYER_URL: relayerUrl,
        TWEI_API_KEY: apiKey,
        TWEI_SITE_ID: String(siteId),
        TWEI_SITE_SIGNER_KEY: siteSignerKey,
      });

    before(async function () {
      if (existsSync(deploymentFile)) await rename(deploymentFile, savedDeployment);
      dataDir = join(await tempDir("operating"), "relayer");
      node = await startNode();
      expect(node.port).to.not.equal(8545);
    });
    after(async function () {
      if (relayer?.pid !== undefined && relayer.exitCode === null) {
        const exited = new Promise((resolve) => relayer?.once("exit", resolve));
        process.kill(-relayer.pid, "SIGTERM");
        await exited;
      }
      await node?.stop();
      await rm(deploymentFile, { force: true });
      if (existsSync(savedDeployment)) await rename(savedDeployment, deploymentFile);
      if (dataDir) await removeDir(join(dataDir, ".."));
    });

    it("deploys with the launch rules to the node TWEI_RPC_URL names (step 1, roles of step 2)", async function () {
      const { stdout } = await run("npm", ["run", "deploy", "--", "--network", "localhost"], {
        env: env({
          TWEI_ADMIN: admin.address,
          TWEI_RELAYER: relayerAddress,
          TWEI_MINT_CAP: "5000000",
          TWEI_BURN_CAP: "5000000",
        }),
      });
      expect(stdout).to.include('rule set "launch"');
      expect(stdout).to.include("TWEI_NETWORK=localhost");
      expect(stdout).to.include("overall caps per 86400 s epoch: 5000000 Twei minted, 5000000 Twei burned");
      deployment = JSON.parse(await readFile(deploymentFile, "utf8")) as typeof deployment;
      const chain = createPublicClient({ transport: http(node?.url) });
      expect(await chain.getCode({ address: deployment.ledger })).to.match(/^0x[0-9a-f]{100,}/);
      const caps = await chain.readContract({
        address: deployment.ledger,
        abi: tweiLedgerAbi,
        functionName: "emissionCaps",
      });
      expect([caps.mintCap, caps.burnCap]).to.deep.equal([parseEther("5000000"), parseEther("5000000")]);
    });

    it("funds the relayer's new account with npm run fund-relayer (step 3)", async function () {
      const chain = createPublicClient({ transport: http(node?.url) });
      expect(await chain.getBalance({ address: relayerAddress })).to.equal(0n);
      const { stdout } = await run("npm", ["run", "fund-relayer", "--", "--network", "localhost"], {
        env: env({ TWEI_RELAYER: relayerAddress, TWEI_FUND: "0.5" }),
      });
      expect(stdout).to.include(`to the relayer ${relayerAddress}`);
      expect(stdout).to.include("the relayer holds 0.5");
      expect(await chain.getBalance({ address: relayerAddress })).to.equal(parseEther("0.5"));
    });

    it("refuses to register the site against an RPC that does not answer, naming it and creating no database (step 4)", async function () {
      const deadPort = await freePort();
      const failed = await run(
        "npm",
        ["run", "register-site", "--", "--site-id", String(siteId), "--signer", siteSigner.address],
        {
          env: env({
            RELAYER_DATA_DIR: dataDir,
            TWEI_ADMIN_PRIVATE_KEY: keyOf(0),
            TWEI_RPC_URL: `http://127.0.0.1:${deadPort}/secret-path`,
          }),
        },
      ).then(
        () => "",
        (error: { stderr: string }) => error.stderr,
      );
      expect(failed).to.include(`the chain's RPC at 127.0.0.1:${deadPort} (TWEI_RPC_URL) does not answer`);
      expect(failed).to.not.include("secret-path");
      expect(existsSync(join(dataDir, "relayer.sqlite"))).to.equal(false);
    });

    it("registers the site and prints its API key and the database it stored it in (step 4)", async function () {
      const { stdout } = await run(
        "npm",
        ["run", "register-site", "--", "--site-id", String(siteId), "--signer", siteSigner.address, "--cap", "10000"],
        { env: env({ RELAYER_DATA_DIR: dataDir, TWEI_ADMIN_PRIVATE_KEY: keyOf(0) }) },
      );
      expect(stdout).to.include(join(dataDir, "relayer.sqlite"));
      const key = /twei_1_\S+/.exec(stdout)?.[0];
      expect(key).to.be.a("string");
      apiKey = key as string;
    });

    it("starts the relayer on the same data directory, ready (step 5)", async function () {
      const port = await freePort();
      relayerUrl = `http://127.0.0.1:${port}`;
      relayer = spawn("npm", ["run", "relayer"], {
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: env({ RELAYER_DATA_DIR: dataDir, RELAYER_PRIVATE_KEY: relayerKey, RELAYER_PORT: String(port) }),
      });
      relayer.stdout?.on("data", (chunk: Buffer) => (relayerOutput += chunk.toString()));
      relayer.stderr?.on("data", (chunk: Buffer) => (relayerOutput += chunk.toString()));
      await waitFor(
        "the relayer's /readyz",
        async () => {
          if (relayer?.exitCode !== null) throw new Error(`npm run relayer exited:\n${relayerOutput.slice(-3_000)}`);
          const response = await fetch(`${relayerUrl}/readyz`).catch(() => undefined);
          return response?.status === 200 ? true : undefined;
        },
        120_000,
      );
    });

    it("settles the site's first envelope sent with npm run send-example-event, paying the launch read amount (step 5)", async function () {
      const chain = createPublicClient({ transport: http(node?.url) });
      const { stdout } = await run("npm", ["run", "send-example-event", "--", "--reader", reader], {
        env: siteEnv(),
      }).catch((error: { stdout: string; stderr: string }) => {
        throw new Error(`${error.stdout}\n${error.stderr}\n${relayerOutput.slice(-3_000)}`);
      });
      expect(stdout).to.include('"type": "post_read"');
      expect(stdout).to.match(/-read: settled/);
      expect(
        await chain.readContract({
          address: deployment.token,
          abi: tweiAbi,
          functionName: "balanceOf",
          args: [reader],
        }),
      ).to.equal(parseUnits("100", 18));
    });

    it("submits the reader's permit with npm run send-permit, then switches to the default rules at once (step 6)", async function () {
      const chain = createPublicClient({ transport: http(node?.url) });
      await run("npm", ["run", "send-permit", "--", "--amount", "10"], {
        env: { ...siteEnv(), TWEI_USER_KEY: readerKey },
      });
      await waitFor(
        "the permit on-chain",
        async () => {
          const allowance = await chain.readContract({
            address: deployment.token,
            abi: tweiAbi,
            functionName: "allowance",
            args: [reader, deployment.ledger],
          });
          return allowance === parseUnits("10", 18) ? true : undefined;
        },
        60_000,
      );
      const { stdout } = await run("npm", ["run", "set-rules", "--", "--network", "localhost"], {
        env: env({ TWEI_RULES: "deployments/rules/default.json" }),
      });
      expect(stdout).to.include(`sent by ${admin.address} (policy admin)`);
      expect(stdout).to.include("in force now: version 2");
      const [current] = await chain.readContract({
        address: deployment.ledger,
        abi: tweiLedgerAbi,
        functionName: "ruleSchedule",
      });
      expect(current.version).to.equal(2);
    });
  });
