import { expect } from "chai";
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { after, before, describe, it } from "mocha";
import { pino } from "pino";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { DEFAULT_POLICY } from "../../src/rules/policy.js";
import { policyHash } from "../../src/rules/policyHash.js";
import { privateKeyOf, startTestChain, type TestChain } from "./helpers/testChain.js";
import { runRelayerProcessToExit, startRelayerProcess, writeTestDeployment } from "./helpers/relayerProcess.js";
import { clientFor, removeDir, startTestRelayer, tempDir } from "./helpers/testRelayer.js";

const run = promisify(execFile);

describe("register-site command", function () {
  let chain: TestChain;
  let root: string;
  before(async function () {
    chain = await startTestChain();
    root = await tempDir("cli");
    await writeTestDeployment(chain, root);
  });
  after(async function () {
    await chain?.stop();
    await removeDir(root);
  });

  const registerSite = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, ["--import", "tsx", "src/relayer/cli/registerSite.ts", ...args], {
      env: {
        ...process.env,
        TWEI_ADMIN_PRIVATE_KEY: privateKeyOf(0),
        TWEI_RPC_URL: chain.node.url,
        TWEI_NETWORK: "test",
        TWEI_DEPLOYMENTS_ROOT: root,
        RELAYER_DATA_DIR: `${root}/data`,
        ...env,
      },
    });

  it("registers the site on-chain and prints an API key that the relayer accepts", async function () {
    const signer = chain.newSigner();
    const { stdout } = await registerSite(["--site-id", "31", "--signer", signer.address, "--cap", "500", "--json"]);
    const out = JSON.parse(stdout) as { siteId: number; apiKey: string; txHash: string; database: string };
    expect(out.siteId).to.equal(31);
    expect(out.database).to.equal(resolve(root, "data", "relayer.sqlite"));
    expect(out.apiKey).to.match(/^twei_31_/);
    const site = await chain.publicClient.readContract({
      address: chain.deployed.ledger,
      abi: tweiLedgerAbi,
      functionName: "site",
      args: [31],
    });
    expect([site.signer, site.active, site.mintCap, site.burnCap]).to.deep.equal([
      signer.address,
      true,
      500n * 10n ** 18n,
      500n * 10n ** 18n,
    ]);

    const relayer = await startTestRelayer(chain, `${root}/data`, { settle: false });
    try {
      const client = clientFor(chain, relayer.url, {
        siteId: 31,
        signer,
        apiKey: out.apiKey,
        webhookSecret: null,
        txHash: null,
      });
      const answer = await client
        .sendEvents([{ eventId: "p", type: "post_plus", occurredAt: 1, user: signer.address, postId: "nope" }])
        .catch((error: { code?: string }) => error.code);
      expect(answer).to.equal("events_rejected"); // authenticated and verified; the rules reject it
    } finally {
      await relayer.stop();
    }
  });

  it("prints where it stored the key; a relayer on another data directory says which database it looked in", async function () {
    const signer = chain.newSigner();
    const { stdout } = await registerSite(["--site-id", "32", "--signer", signer.address]);
    expect(stdout).to.include(`stored (as a hash) in ${resolve(root, "data", "relayer.sqlite")}`);
    const apiKey = /twei_32_\S+/.exec(stdout)?.[0];
    expect(apiKey).to.be.a("string");

    const lines: string[] = [];
    const logger = pino(
      { level: "warn" },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const otherDir = `${root}/other-data`;
    const relayer = await startTestRelayer(chain, otherDir, { settle: false, logger });
    try {
      const client = clientFor(chain, relayer.url, {
        siteId: 32,
        signer,
        apiKey: apiKey as string,
        webhookSecret: null,
        txHash: null,
      });
      const failure = await client
        .sendEvents([{ eventId: "p", type: "post_plus", occurredAt: 1, user: signer.address, postId: "x" }])
        .catch((error: { status?: number; code?: string; problem?: { detail?: string } }) => error);
      expect(failure).to.include({ status: 401, code: "unauthorized" });
      expect((failure as { problem: { detail?: string } }).problem.detail).to.match(/RELAYER_DATA_DIR/);
      const warning = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((l) => l.database);
      expect(warning).to.include({ database: resolve(otherDir, "relayer.sqlite") });
      expect(JSON.stringify(lines)).to.not.include(apiKey as string);
    } finally {
      await relayer.stop();
    }
  });

  it("RELAYER_POLICY: register-site commits the policy file's hash, and the relayer service applies and serves that file", async function () {
    // A site that requires proof of personhood: the policy a real deployment writes for it.
    const policy = {
      ...DEFAULT_POLICY,
      personhood: {
        eas: "0x00000000000000000000000000000000000000e5",
        schema: `0x${"5c".repeat(32)}`,
        attesters: ["0x00000000000000000000000000000000000000a7"],
      },
    };
    const file = `${root}/policy.json`;
    await writeFile(file, JSON.stringify(policy));
    const dataDir = `${root}/policy-data`;
    const signer = chain.newSigner();
    await registerSite(["--site-id", "44", "--signer", signer.address, "--json"], {
      RELAYER_POLICY: file,
      RELAYER_DATA_DIR: dataDir,
    });
    const held = await chain.publicClient.readContract({
      address: chain.deployed.ledger,
      abi: tweiLedgerAbi,
      functionName: "sitePolicy",
      args: [44],
    });
    expect(held.policyHash).to.equal(policyHash(policy));

    // Without the file the service runs DEFAULT_POLICY, which the ledger does not hold for the site.
    const refused = await runRelayerProcessToExit(chain, root, dataDir, {});
    expect(refused.code).to.equal(1);
    expect(refused.output).to.include(`site 44: this relayer's policy hashes to ${policyHash(DEFAULT_POLICY)}`);

    const relayer = await startRelayerProcess(chain, root, dataDir, { RELAYER_POLICY: file });
    try {
      const answer = await fetch(`${relayer.url}/v1/policies/${policyHash(policy)}`);
      expect(answer.status).to.equal(200);
      expect(await answer.json()).to.deep.equal(policy);
    } finally {
      await relayer.stop();
    }
  });

  it("RELAYER_POLICY: a file that is missing, not JSON or not a policy stops the relayer and register-site, naming it", async function () {
    const dataDir = `${root}/bad-policy-data`;
    const cases: [string, string, string][] = [
      ["missing.json", "", "no file"],
      ["broken.json", "{ not json", "is not valid JSON"],
      ["stranger.json", JSON.stringify({ ...DEFAULT_POLICY, payEveryone: true }), "is not a policy document"],
    ];
    for (const [name, text, reason] of cases) {
      const file = `${root}/${name}`;
      if (text) await writeFile(file, text);
      const { code, output } = await runRelayerProcessToExit(chain, root, dataDir, { RELAYER_POLICY: file });
      expect(code, output).to.equal(1);
      expect(output).to.include(`relayer: RELAYER_POLICY: `).and.include(reason).and.include(name);
      const registered = await registerSite(["--site-id", "45", "--signer", chain.newSigner().address], {
        RELAYER_POLICY: file,
      }).catch((error: { code?: number; stderr?: string }) => error);
      expect(registered).to.include({ code: 1 });
      expect((registered as { stderr: string }).stderr)
        .to.include("RELAYER_POLICY: ")
        .and.include(reason);
    }
  });

  it("warns when the site's cap exceeds the ledger's overall cap (and not otherwise), registering it all the same", async function () {
    const overall = await chain.publicClient.readContract({
      address: chain.deployed.ledger,
      abi: tweiLedgerAbi,
      functionName: "emissionCaps",
    });
    const above = (overall.mintCap / 10n ** 18n + 1n).toString();
    const over = await registerSite([
      "--site-id",
      "33",
      "--signer",
      chain.newSigner().address,
      "--cap",
      above,
      "--burn-cap",
      "1",
      "--json",
    ]);
    expect(over.stderr).to.match(
      /warning: the site's cap on mints \(\d+ Twei per epoch\) exceeds the ledger's overall cap on mints/,
    );
    expect(over.stderr).to.not.match(/cap on burns/);
    expect((JSON.parse(over.stdout) as { siteId: number }).siteId).to.equal(33);
    const within = await registerSite([
      "--site-id",
      "34",
      "--signer",
      chain.newSigner().address,
      "--cap",
      "500",
      "--json",
    ]);
    expect(within.stderr).to.not.match(/warning/);
  });

  it("explains its usage when arguments are missing", async function () {
    const failure = await registerSite(["--signer", "0x12"]).catch((error: { code: number; stderr: string }) => error);
    expect(failure).to.include({ code: 2 });
    expect((failure as { stderr: string }).stderr).to.match(/usage: npm run register-site/);
  });
});
