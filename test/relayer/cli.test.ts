import { expect } from "chai";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { after, before, describe, it } from "mocha";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { privateKeyOf, startTestChain, type TestChain } from "./helpers/testChain.js";
import { writeTestDeployment } from "./helpers/relayerProcess.js";
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

  const registerSite = (args: string[]) =>
    run(process.execPath, ["--import", "tsx", "src/relayer/cli/registerSite.ts", ...args], {
      env: {
        ...process.env,
        TWEI_ADMIN_PRIVATE_KEY: privateKeyOf(0),
        TWEI_RPC_URL: chain.node.url,
        TWEI_NETWORK: "test",
        TWEI_DEPLOYMENTS_ROOT: root,
        RELAYER_DATA_DIR: `${root}/data`,
      },
    });

  it("registers the site on-chain and prints an API key that the relayer accepts", async function () {
    const signer = chain.newSigner();
    const { stdout } = await registerSite(["--site-id", "31", "--signer", signer.address, "--cap", "500", "--json"]);
    const out = JSON.parse(stdout) as { siteId: number; apiKey: string; txHash: string };
    expect(out.siteId).to.equal(31);
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

  it("explains its usage when arguments are missing", async function () {
    const failure = await registerSite(["--signer", "0x12"]).catch((error: { code: number; stderr: string }) => error);
    expect(failure).to.include({ code: 2 });
    expect((failure as { stderr: string }).stderr).to.match(/usage: npm run register-site/);
  });
});
