import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readFile, rename, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import { createPublicClient, getAddress, http, parseUnits, type Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { tweiAbi } from "../../src/chain/abi.js";
import { freePort, hardhatAccount, startHardhatNode, type HardhatNode } from "../../src/devnet/startHardhatNode.js";
import { createTweiClient } from "../../src/sdk/createTweiClient.js";
import { removeDir, tempDir, waitFor } from "../relayer/helpers/testRelayer.js";

const run = promisify(execFile);

function keyOf(index: number): `0x${string}` {
  const key = hardhatAccount(index).getHdKey().privateKey;
  if (!key) throw new Error(`no private key for account ${index}`);
  return `0x${Buffer.from(key).toString("hex")}`;
}

/**
 * docs/operating.md played in order on a fresh local node (`hardhat node --hostname 127.0.0.1`,
 * network `localhost` on port 8545), with its commands and environment variables only: deploy,
 * roles, the relayer funded by the node, register-site, `npm run relayer`, then the site's first
 * `post_published` and `post_read` through the SDK, settled under the launch rules.
 */
describe("operating guide (docs/operating.md) on a fresh local node", function () {
  this.timeout(600_000);
  const deploymentFile = join("deployments", "localhost.json");
  const savedDeployment = `${deploymentFile}.before-operating-test`;
  const admin = hardhatAccount(0);
  const relayerKey = keyOf(1);
  const relayerAddress = hardhatAccount(1).address;
  const siteSigner = privateKeyToAccount(generatePrivateKey());
  const siteId = 1;
  let node: HardhatNode | undefined;
  let relayer: ChildProcess | undefined;
  let relayerOutput = "";
  let dataDir: string;
  let apiKey: string;
  let relayerUrl: string;
  const env = (extra: Record<string, string>) => ({ ...process.env, NODE_ENV: "development", ...extra });

  before(async function () {
    if (existsSync(deploymentFile)) await rename(deploymentFile, savedDeployment);
    dataDir = join(await tempDir("operating"), "relayer");
    node = await startHardhatNode({ port: 8545 });
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

  it("deploys with the launch rules and writes deployments/localhost.json (step 1, roles of step 2)", async function () {
    const { stdout } = await run("npm", ["run", "deploy", "--", "--network", "localhost"], {
      env: env({ TWEI_ADMIN: admin.address, TWEI_RELAYER: relayerAddress }),
    });
    expect(stdout).to.include('rule set "launch"');
    const deployment = JSON.parse(await readFile(deploymentFile, "utf8")) as { network: string; ledger: string };
    expect(deployment.network).to.equal("localhost");
  });

  it("finds the relayer already funded by the node's dev account (step 3)", async function () {
    const client = createPublicClient({ transport: http(node?.url) });
    expect((await client.getBalance({ address: relayerAddress })) > 0n).to.equal(true);
  });

  it("registers the site and prints its API key and the database it stored it in (step 4)", async function () {
    const { stdout } = await run(
      "npm",
      ["run", "register-site", "--", "--site-id", String(siteId), "--signer", siteSigner.address, "--cap", "10000"],
      { env: env({ RELAYER_DATA_DIR: dataDir, TWEI_ADMIN_PRIVATE_KEY: keyOf(0), TWEI_NETWORK: "localhost" }) },
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
      env: env({
        RELAYER_DATA_DIR: dataDir,
        RELAYER_PRIVATE_KEY: relayerKey,
        TWEI_NETWORK: "localhost",
        RELAYER_PORT: String(port),
      }),
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

  it("settles the site's first post_published and post_read sent with the SDK, paying the launch read amount", async function () {
    const deployment = JSON.parse(await readFile(deploymentFile, "utf8")) as {
      chainId: number;
      ledger: Address;
      token: Address;
    };
    const chain = createPublicClient({ transport: http(node?.url) });
    const balance = (address: Address) =>
      chain.readContract({ address: deployment.token, abi: tweiAbi, functionName: "balanceOf", args: [address] });
    const author = privateKeyToAccount(generatePrivateKey()).address;
    const reader = privateKeyToAccount(generatePrivateKey()).address;
    const before = await balance(reader);
    const twei = createTweiClient({
      url: relayerUrl,
      apiKey,
      siteId,
      signer: siteSigner,
      chainId: deployment.chainId,
      ledger: getAddress(deployment.ledger),
    });
    const answer = await twei.sendEvents([
      { eventId: "first-post", type: "post_published", occurredAt: 1, user: author, postId: "post-1", wordCount: 200 },
      { eventId: "first-read", type: "post_read", occurredAt: 2, user: reader, postId: "post-1", secondsRead: 600 },
    ]);
    expect(answer.counts, JSON.stringify(answer.results)).to.deep.equal({
      accepted: 2,
      duplicate: 0,
      conflict: 0,
      rejected: 0,
    });
    let last: unknown;
    const settled = await waitFor(
      "first-read settled",
      async () => {
        // GET /v1/events/1/first-read with the site's API key (Authorization: Bearer).
        const event = await twei.event("first-read");
        last = event;
        return event.status === "settled" ? event : undefined;
      },
      60_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(last)}\n${relayerOutput.slice(-3_000)}`);
    });
    expect(settled.status).to.equal("settled");
    expect((await balance(reader)) - before).to.equal(parseUnits("100", 18));
  });
});
