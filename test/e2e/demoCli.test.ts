import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "mocha";
import { rpcAnswers } from "../../src/devnet/startHardhatNode.js";

describe("e2e: `npm run demo -- --keep`, then Ctrl-C", function () {
  this.timeout(120_000);
  let dir: string | undefined;

  after(async function () {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("prints progress and both reports, keeps serving, and stops everything on SIGINT with exit code 0", async function () {
    dir = await mkdtemp(join(tmpdir(), "twei-demo-cli-"));
    // Its own process group, as a terminal's foreground job: Ctrl-C signals the whole group.
    // As `npm run demo` runs it: tsx as a loader in the demo's own process (tsx's CLI would be a
    // second process that SIGKILLs the demo when it answers a signal later than 60 ms).
    const child = spawn(
      join(process.cwd(), "node_modules/.bin/node"),
      ["--import", "tsx", "scripts/demo.ts", "--keep", "--data-dir", join(dir, "data"), "--deployments-root", dir],
      { stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 90_000;
      while (!output.includes("Still running")) {
        if (child.exitCode !== null) throw new Error(`the demo exited early:\n${output}`);
        if (Date.now() > deadline) throw new Error(`the demo did not get to --keep:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(output).to.match(/✓ batch \d+ settled in tx 0x[0-9a-f]{64} \(block \d+\)/);
      expect(output.match(/PnL report: post \d+ \(site 1\)/g)).to.have.length(2);
      expect(output).to.include("Total Twei Earned").and.include("never use them for real funds");
      const nodeUrl = /Hardhat node +(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      const relayerUrl = /relayer API +(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      expect(nodeUrl, output).to.be.a("string");
      expect(await rpcAnswers(nodeUrl as string)).to.equal(true);
      expect((await fetch(`${relayerUrl}/healthz`)).status).to.equal(200);

      process.kill(-(child.pid as number), "SIGINT");
      expect(await exited, output.slice(-2000)).to.equal(0);
      expect(output).to.include("stopped.");
      expect(await rpcAnswers(nodeUrl as string)).to.equal(false);
      expect(
        await fetch(`${relayerUrl}/healthz`).then(
          () => "answered",
          () => "closed",
        ),
      ).to.equal("closed");
    } finally {
      if (child.exitCode === null) process.kill(-(child.pid as number), "SIGKILL");
    }
  });
});
