import { expect } from "chai";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "mocha";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { ActionKind } from "../../src/core/kinds.js";
import { freePort } from "../../src/devnet/startHardhatNode.js";
import { writeTestDeployment } from "../relayer/helpers/relayerProcess.js";
import { privateKeyOf, startTestChain, type TestChain } from "../relayer/helpers/testChain.js";
import { addSite, tempDirs, waitFor } from "../relayer/helpers/testRelayer.js";
import { startWebhookSink } from "../relayer/helpers/webhookSink.js";
import { startWatchtower } from "./helpers/watchtowerProcess.js";

/** A real HTTP proxy in front of the node that answers 503 to the next `failCalls` eth_call requests. */
async function startFailingProxy(target: string) {
  const state = { failCalls: 0, failed: 0 };
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      if (state.failCalls > 0 && body.includes('"eth_call"')) {
        state.failCalls--;
        state.failed++;
        res.writeHead(503).end();
        return;
      }
      fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body }).then(
        async (answer) => res.writeHead(answer.status, { "content-type": "application/json" }).end(await answer.text()),
        () => res.writeHead(502).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("watchtower: npm run audit -- --follow", function () {
  this.timeout(180_000);
  const dirs = tempDirs();
  let chain: TestChain;
  let root: string;
  let evidenceDir: string;
  let common: string[];

  before(async function () {
    chain = await startTestChain();
    root = await dirs.make("watch");
    evidenceDir = join(root, "evidence");
    await mkdir(evidenceDir);
    await writeTestDeployment(chain, root);
    await addSite(chain, join(root, "data"), 1);
    // The batches these tests settle straight on the ledger never get a file: unbacked at once.
    common = [
      ...["--deployments-root", root, "--network", "test", "--rpc", chain.node.url],
      ...["--evidence-dir", evidenceDir, "--unbacked-after", "0"],
    ];
  });

  after(async function () {
    await chain?.stop();
    await dirs.removeAll();
  });

  const paused = () =>
    chain.publicClient.readContract({ address: chain.deployed.ledger, abi: tweiLedgerAbi, functionName: "paused" });

  it("refuses --pause-on without a key that holds the pauser role", async function () {
    const watch = startWatchtower([...common, "--follow", "--pause-on", "unbacked_batch"], {
      TWEI_PAUSER_KEY: privateKeyOf(5),
    });
    expect(await watch.exited).to.equal(3);
    expect(watch.stderr()).to.include("does not hold the ledger's PAUSER_ROLE");
    const usage = startWatchtower([...common, "--follow", "--pause-on", "no_such_code"], {
      TWEI_PAUSER_KEY: privateKeyOf(0),
    });
    expect(await usage.exited).to.equal(2);
    expect(usage.stderr()).to.include("no_such_code is not a discrepancy code");
    // What an honest batch with late evidence raises can never pause the ledger.
    for (const code of ["evidence_unavailable", "depends_on_unchecked_batch"]) {
      const honest = startWatchtower([...common, "--follow", "--pause-on", `unbacked_batch,${code}`], {
        TWEI_PAUSER_KEY: privateKeyOf(0),
      });
      expect(await honest.exited).to.equal(2);
      expect(honest.stderr()).to.include(`${code} is raised for honest batches whose evidence is late`);
    }
  });

  it("pauses the ledger after a forged batch, reports it once as a JSON line, a metric and a webhook, and a restart does not report it again", async function () {
    const sink = await startWebhookSink();
    const checkpoint = join(root, "watch.json");
    const metricsPort = await freePort();
    const args = [
      ...common,
      "--follow",
      "--poll-ms",
      "100",
      "--checkpoint",
      checkpoint,
      "--webhook",
      sink.url,
      "--pause-on",
      "unbacked_batch",
      "--metrics-port",
      String(metricsPort),
    ];
    const watch = startWatchtower(args, { TWEI_PAUSER_KEY: privateKeyOf(0) });
    try {
      await waitFor("the watchtower to catch up", async () => (watch.of("audited").length > 0 ? true : undefined));
      expect(watch.of("discrepancy")).to.deep.equal([]);
      expect(await paused()).to.equal(false);

      // A batch settled straight on the ledger with a relayer-role key, with no evidence anywhere.
      const user = chain.user(0).address;
      await chain.seed(1, [{ account: user, kind: ActionKind.ReadToEarn, units: 10_000 }]);
      const pause = await waitFor("the pause", async () => watch.of("paused")[0]);
      expect(await paused()).to.equal(true);
      const [discrepancy, ...others] = watch.of("discrepancy");
      expect(others).to.deep.equal([]);
      expect(discrepancy?.code).to.equal("unbacked_batch");
      expect(discrepancy?.what).to.include(`to ${user}`);
      expect(pause.batchId).to.equal(discrepancy?.batchId);
      expect(pause.latencyMs).to.be.a("number");
      expect(sink.of("twei.discrepancy").map((p) => [p.code, p.batchId])).to.deep.equal([
        ["unbacked_batch", discrepancy?.batchId],
      ]);
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(metrics).to.include('twei_watchtower_discrepancies_total{code="unbacked_batch"} 1');
      expect(metrics).to.include("twei_watchtower_paused 1");
      const saved = JSON.parse(await readFile(checkpoint, "utf8")) as { reported: string[] };
      expect(saved.reported).to.have.length(1);
      expect(saved.reported[0]).to.match(new RegExp(`^unbacked_batch:${discrepancy?.batchId as string}:`));
    } finally {
      expect(await watch.stop()).to.equal(0);
    }

    // Restarted from the checkpoint: the whole history is audited again, nothing is reported twice.
    const head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    const again = startWatchtower(args.slice(0, -2), { TWEI_PAUSER_KEY: privateKeyOf(0) });
    try {
      await waitFor("the restarted watchtower to catch up", async () =>
        again.of("audited").some((line) => BigInt(line.toBlock as string) >= head) ? true : undefined,
      );
      expect(again.of("following")[0]?.resumedReported).to.equal(1);
      expect(BigInt(again.of("following")[0]?.checkpointBlock as string) > 0n).to.equal(true);
      expect(again.of("discrepancy")).to.deep.equal([]);
      expect(sink.payloads).to.have.length(1);
    } finally {
      expect(await again.stop()).to.equal(0);
      await sink.close();
    }
  });

  it("a chain error half-way through a step starts the replay over: nothing is counted twice or reported twice", async function () {
    // The test before paused the ledger.
    const unpause = await chain.admin.writeContract({
      address: chain.deployed.ledger,
      abi: tweiLedgerAbi,
      functionName: "unpause",
    } as never);
    await chain.publicClient.waitForTransactionReceipt({ hash: unpause });
    const proxy = await startFailingProxy(chain.node.url);
    const args = [
      ...["--deployments-root", root, "--network", "test", "--rpc", proxy.url],
      ...["--evidence-dir", evidenceDir, "--unbacked-after", "0"],
    ];
    const archive = join(root, "archive");
    const watch = startWatchtower([...args, "--follow", "--poll-ms", "100", "--save-evidence", archive]);
    try {
      await waitFor("the watchtower to catch up", async () => (watch.of("audited").length > 0 ? true : undefined));
      const known = watch.of("discrepancy").length; // the earlier test's forged batch, found again
      // The step that finds the next batch fails at its last reads (supply and balances are eth_calls).
      proxy.state.failCalls = 6;
      await chain.seed(1, [{ account: chain.user(1).address, kind: ActionKind.ReadToEarn, units: 5_000 }]);
      await waitFor("the new batch's discrepancy", async () =>
        watch.of("discrepancy").length > known ? true : undefined,
      );
      await waitFor("a clean step after it", async () => (watch.lines.at(-1)?.type === "audited" ? true : undefined));
      expect(proxy.state.failed).to.equal(6);
      expect(watch.of("chain_unreadable").length).to.be.greaterThan(0);
      const fresh = watch.of("discrepancy").slice(known);
      expect(fresh.map((d) => d.code)).to.deep.equal(["unbacked_batch"]);
      expect(watch.of("discrepancy").map((d) => d.code)).to.not.include.members([
        "supply_mismatch",
        "balance_mismatch",
      ]);
    } finally {
      expect(await watch.stop()).to.equal(0);
      await proxy.close();
    }
  });
});
