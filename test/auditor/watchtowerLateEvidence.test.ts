import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import { parseUnits } from "viem";
import {
  directoryEvidenceSource,
  relayerEvidenceSource,
  savingEvidenceSource,
} from "../../src/auditor/evidenceSource.js";
import { discrepancyKey } from "../../src/auditor/watch/followAudit.js";
import { PAUSE_SAFE_CODES, type Discrepancy } from "../../src/auditor/discrepancy.js";
import { runAudit } from "../../src/auditor/runAudit.js";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { ActionKind } from "../../src/core/kinds.js";
import { DEFAULT_RULE_AMOUNTS } from "../../src/core/ruleSet.js";
import { freePort } from "../../src/devnet/startHardhatNode.js";
import { DEFAULT_POLICY } from "../../src/rules/policy.js";
import { policyHash } from "../../src/rules/policyHash.js";
import type { TweiClient } from "../../src/sdk/createTweiClient.js";
import { writeTestDeployment } from "../relayer/helpers/relayerProcess.js";
import { publishEvent, readEvent } from "../relayer/helpers/siteEvents.js";
import { CHAIN_ID, privateKeyOf, startTestChain, type TestChain } from "../relayer/helpers/testChain.js";
import { addSite, clientFor, startTestRelayer, tempDirs, waitFor } from "../relayer/helpers/testRelayer.js";
import { startWebhookSink } from "../relayer/helpers/webhookSink.js";
import { startWatchtower } from "./helpers/watchtowerProcess.js";

/** Publishing is free here (nobody holds Twei on a fresh chain) and a read pays 100 Twei. */
const AMOUNTS = DEFAULT_RULE_AMOUNTS.map((amount, kind) =>
  kind === ActionKind.ReadToEarn ? parseUnits("100", 18) : kind === ActionKind.PostPublishTribute ? 0n : amount,
);
/** The archive's grace here: long enough for the late file on a busy machine, short enough to wait out for a forged batch. */
const GRACE_S = 60;

describe("watchtower: late evidence (relayer down, archive file late) never pauses the ledger, a forged batch still does", function () {
  this.timeout(300_000);
  const dirs = tempDirs();
  let chain: TestChain;
  let root: string;
  let archive: string;
  let relayer: Awaited<ReturnType<typeof startTestRelayer>>;
  let client: TweiClient;

  before(async function () {
    chain = await startTestChain({ ruleAmounts: AMOUNTS });
    root = await dirs.make("watch-late");
    archive = join(root, "archive");
    await mkdir(archive);
    await writeTestDeployment(chain, root);
    const dataDir = join(root, "data");
    await mkdir(dataDir);
    const site = await addSite(chain, dataDir, 1);
    relayer = await startTestRelayer(chain, dataDir);
    client = clientFor(chain, relayer.url, site);
  });

  after(async function () {
    await relayer?.stop();
    await chain?.stop();
    await dirs.removeAll();
  });

  const paused = () =>
    chain.publicClient.readContract({ address: chain.deployed.ledger, abi: tweiLedgerAbi, functionName: "paused" });
  /** Copies a batch's evidence (and its site's policy document) from the relayer into the archive, as `--save-evidence` does. */
  const archiveBatch = async (batchId: string) => {
    const saving = savingEvidenceSource(relayerEvidenceSource(relayer.url), archive);
    const lookup = await saving(BigInt(batchId));
    expect(lookup.found, `the relayer serves batch ${batchId}`).to.equal(true);
    expect((await saving.policy?.(policyHash(DEFAULT_POLICY)))?.found, "the relayer serves its policy").to.equal(true);
  };
  /** Waits until the relayer has cut `eventId` into a batch and returns the batch id. */
  const batchOf = (eventId: string) =>
    waitFor(`${eventId}'s batch`, async () => {
      const event = await client.event(eventId);
      return typeof event.batchId === "string" ? event.batchId : undefined;
    });
  const settled = (eventId: string) =>
    waitFor(`${eventId} settled`, async () => ((await client.event(eventId)).status === "settled" ? true : undefined));
  const auditArchive = () =>
    runAudit({
      publicClient: chain.publicClient,
      deployment: {
        chainId: CHAIN_ID,
        ledger: chain.deployed.ledger,
        token: chain.deployed.token,
        deploymentBlock: chain.deployed.deploymentBlock,
      },
      evidence: directoryEvidenceSource(archive),
      unbackedAfterSeconds: GRACE_S,
    });
  const keysOf = (rows: readonly Discrepancy[]) => rows.map((d) => discrepancyKey(d)).sort();

  it("the relayer down a moment: its batch is evidence_unavailable, the next one depends on it, both are cleared when it answers again", async function () {
    const proxy = await startEvidenceProxy(relayer.url);
    const watch = startWatchtower(
      [
        ...["--deployments-root", root, "--network", "test", "--rpc", chain.node.url, "--relayer", proxy.url],
        ...["--follow", "--poll-ms", "100", "--save-evidence", archive],
        ...["--pause-on", PAUSE_SAFE_CODES.join(",")],
      ],
      { TWEI_PAUSER_KEY: privateKeyOf(0) },
    );
    try {
      await waitFor("the watchtower to start", async () => (watch.of("audited").length > 0 ? true : undefined));
      const author = chain.user(3).address;
      const readers = [chain.user(4).address, chain.user(5).address];
      // The relayer stops answering the watchtower (503) while batch A publishes a post.
      proxy.down = true;
      await client.sendEvents([publishEvent("http-pub", author, "q")]);
      await settled("http-pub");
      const a = await batchOf("http-pub");
      const unavailable = await waitFor("A's evidence_unavailable", async () =>
        watch.of("discrepancy").find((d) => d.batchId === a),
      );
      expect(unavailable.code).to.equal("evidence_unavailable");
      expect(unavailable.what).to.include("the relayer answered 503");
      // It answers again, except for A (still failing), when batch B reads the post.
      proxy.down = false;
      proxy.failing.add(a);
      await client.sendEvents(readers.map((reader, i) => readEvent(`http-read-${i}`, reader, "q")));
      await settled("http-read-0");
      const b = await batchOf("http-read-0");
      const dependent = await waitFor("B's row", async () => watch.of("discrepancy").find((d) => d.batchId === b));
      expect(watch.of("discrepancy").map((d) => [d.code, d.batchId])).to.deep.equal([
        ["evidence_unavailable", a],
        ["depends_on_unchecked_batch", b],
      ]);
      expect(dependent.dependsOn).to.deep.equal([a]);
      expect(await paused()).to.equal(false);
      // A's evidence is served again: a retry finds it, the replay starts over and clears both rows.
      proxy.failing.clear();
      const cleared = await waitFor(
        "both rows cleared",
        async () => (watch.of("cleared").length >= 2 ? watch.of("cleared") : undefined),
        90_000,
      );
      expect(cleared.map((c) => [c.code, c.batchId]).sort()).to.deep.equal(
        [
          ["depends_on_unchecked_batch", b],
          ["evidence_unavailable", a],
        ].sort(),
      );
      expect(watch.of("reaudit").map((r) => r.reason)).to.deep.equal([`the evidence of batch ${a} was found`]);
      expect(proxy.refused).to.be.greaterThan(1); // it was asked again, with backoff
      expect(watch.of("paused")).to.deep.equal([]);
      expect(await paused()).to.equal(false);
    } finally {
      expect(await watch.stop()).to.equal(0);
      await proxy.close();
    }
  });

  it("an archive file that comes late: its batch is evidence_unavailable, the next one depends on it, both are cleared when it arrives; a forged batch then pauses", async function () {
    const sink = await startWebhookSink();
    const metricsPort = await freePort();
    const watch = startWatchtower(
      [
        ...["--deployments-root", root, "--network", "test", "--rpc", chain.node.url, "--evidence-dir", archive],
        ...["--follow", "--poll-ms", "100", "--unbacked-after", String(GRACE_S)],
        ...["--pause-on", PAUSE_SAFE_CODES.join(","), "--webhook", sink.url, "--metrics-port", String(metricsPort)],
      ],
      { TWEI_PAUSER_KEY: privateKeyOf(0) },
    );
    try {
      await waitFor("the watchtower to start", async () => (watch.of("audited").length > 0 ? true : undefined));
      const author = chain.user(0).address;
      const readers = [chain.user(1).address, chain.user(2).address];

      // Batch A publishes the post; its file does not reach the archive (yet).
      await client.sendEvents([publishEvent("pub", author, "p")]);
      await settled("pub");
      const a = await batchOf("pub");
      const unavailable = await waitFor("A's evidence_unavailable", async () =>
        watch.of("discrepancy").find((d) => d.batchId === a),
      );
      expect(unavailable.code).to.equal("evidence_unavailable");
      expect(unavailable.what).to.include(`no file ${join(archive, `${a}.json`)} yet`);

      // Batch B reads the post; its file is in the archive before the batch is mined.
      await chain.rpc("evm_setAutomine", [false]);
      try {
        await client.sendEvents(readers.map((reader, i) => readEvent(`read-${i}`, reader, "p")));
        const b = await batchOf("read-0");
        await waitFor("B's file", async () => {
          const lookup = await relayerEvidenceSource(relayer.url)(BigInt(b));
          return lookup.found ? true : undefined;
        });
        await archiveBatch(b);
        await chain.rpc("evm_mine");
      } finally {
        await chain.rpc("evm_setAutomine", [true]);
      }
      await settled("read-0");
      const b = await batchOf("read-0");
      const dependent = await waitFor("B's row", async () => watch.of("discrepancy").find((d) => d.batchId === b));
      // B's reads of a post the replay has not seen are not B's fault: one row, naming A.
      expect(watch.of("discrepancy").map((d) => [d.code, d.batchId])).to.deep.equal([
        ["evidence_unavailable", a],
        ["depends_on_unchecked_batch", b],
      ]);
      expect(dependent.dependsOn).to.deep.equal([a]);
      expect(dependent.what)
        .to.include(`batch ${a}`)
        .and.include("rule_rejected_event at event read-0")
        .and.include("unknown_post")
        .and.include("unexplained_action");
      expect(await paused()).to.equal(false);

      // The one-shot audit of the same chain and archive says the same, row for row.
      const during = await auditArchive();
      expect(during.ok).to.equal(false);
      expect(keysOf(during.discrepancies)).to.deep.equal(keysOf(watch.of("discrepancy") as unknown as Discrepancy[]));

      // A's file arrives: the watchtower finds it on a retry, audits again and clears both rows.
      await archiveBatch(a);
      const cleared = await waitFor("both rows cleared", async () =>
        watch.of("cleared").length >= 2 ? watch.of("cleared") : undefined,
      );
      expect(cleared.map((c) => [c.code, c.batchId]).sort()).to.deep.equal(
        [
          ["depends_on_unchecked_batch", b],
          ["evidence_unavailable", a],
        ].sort(),
      );
      expect(watch.of("reaudit")[0]?.reason).to.equal(`the evidence of batch ${a} was found`);
      await waitFor("the metrics", async () => {
        const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        return metrics.includes("twei_watchtower_unchecked_batches 0") ? metrics : undefined;
      }).then((metrics) => {
        expect(metrics).to.include('twei_watchtower_cleared_total{code="evidence_unavailable"} 1');
        expect(metrics).to.include('twei_watchtower_cleared_total{code="depends_on_unchecked_batch"} 1');
        expect(metrics).to.include("twei_watchtower_paused 0");
      });
      expect(
        sink
          .of("twei.discrepancy_cleared")
          .map((p) => [p.code, p.batchId])
          .sort(),
      ).to.deep.equal(
        [
          ["depends_on_unchecked_batch", b],
          ["evidence_unavailable", a],
        ].sort(),
      );
      expect(watch.of("paused")).to.deep.equal([]);
      expect(await paused()).to.equal(false);

      // And the one-shot audit (the CLI, its exit code) agrees: all clean now.
      const cli = await runCli([
        ...["--deployments-root", root, "--network", "test", "--rpc", chain.node.url, "--evidence-dir", archive],
        "--quiet",
      ]);
      expect(cli.code, cli.stdout).to.equal(0);
      expect((await auditArchive()).discrepancies).to.deep.equal([]);

      // A batch settled straight on the ledger (a stolen relayer key) never gets a file: once its
      // grace is over it is unbacked_batch, and the ledger is paused.
      await chain.seed(1, [{ account: readers[0] as `0x${string}`, kind: ActionKind.ReadToEarn, units: 10_000 }]);
      const pause = await waitFor("the pause", async () => watch.of("paused")[0], (GRACE_S + 20) * 1000);
      expect(pause.code).to.equal("unbacked_batch");
      expect(await paused()).to.equal(true);
      const forged = pause.batchId as string;
      expect(
        watch
          .of("discrepancy")
          .filter((d) => d.batchId === forged)
          .map((d) => d.code),
      ).to.deep.equal(["evidence_unavailable", "unbacked_batch"]);
      await waitFor("its evidence_unavailable cleared", async () =>
        watch.of("cleared").some((c) => c.batchId === forged && c.code === "evidence_unavailable") ? true : undefined,
      );
      expect(watch.of("reaudit").at(-1)?.reason).to.equal(
        `the file of batch ${forged} is still absent after its grace`,
      );
    } finally {
      expect(await watch.stop()).to.equal(0);
      await sink.close();
    }
  });
});

/** A real HTTP proxy in front of the relayer that answers 503 for every batch (`down`) or for some. */
async function startEvidenceProxy(target: string) {
  const state = { down: false, failing: new Set<string>(), refused: 0 };
  const server: Server = createServer((req, res) => {
    const batchId = /^\/v1\/batches\/(\d+)$/.exec(req.url ?? "")?.[1];
    if (batchId !== undefined && (state.down || state.failing.has(batchId))) {
      state.refused++;
      res.writeHead(503).end();
      return;
    }
    fetch(`${target}${req.url ?? "/"}`).then(
      async (answer) => {
        res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
        res.end(Buffer.from(await answer.arrayBuffer()));
      },
      () => res.writeHead(502).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** The one-shot audit CLI: its exit code and stdout. */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(process.cwd(), "node_modules/.bin/tsx"), ["src/auditor/main.ts", ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stdout }));
  });
}
