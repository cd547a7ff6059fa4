/**
 * `npm run bench:watchtower`: the time from a forged settlement to the ledger's pause.
 * Starts the demo stack (Hardhat node, relayer, indexer) and plays the demo's story, then runs
 * the watchtower as a real process (`npm run audit -- --follow --relayer <url> --pause-on
 * unbacked_batch`, polling every BENCH_POLL_MS, default 250). BENCH_RUNS times (default 5) it
 * settles a batch straight on the ledger with the relayer's key (no evidence anywhere), times
 * from that transaction's receipt to the moment `paused()` reads true, and unpauses as the
 * admin. Final line: `watchtower_pause_ms=<median>`.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import Table from "cli-table3";
import { bytesToHex, createWalletClient, http, type Hex, type LocalAccount } from "viem";
import { tweiLedgerAbi } from "../src/chain/abi.js";
import { waitForSuccess } from "../src/chain/waitForSuccess.js";
import { ActionKind } from "../src/core/kinds.js";
import { encodePackedActions, groupByAccount } from "../src/core/packedActions.js";
import { postIdFor } from "../src/core/postId.js";
import { hardhatAccount } from "../src/devnet/startHardhatNode.js";
import { playDemoScenario } from "./demo/playDemoScenario.js";
import { DEMO_ROLES, DEMO_SITE_ID, startDemoStack } from "./demo/startDemoStack.js";

const runs = Number(process.env.BENCH_RUNS ?? 5);
const pollMs = Number(process.env.BENCH_POLL_MS ?? 250);
const keyOf = (account: LocalAccount & { getHdKey(): { privateKey: Uint8Array | null } }): Hex =>
  bytesToHex(account.getHdKey().privateKey as Uint8Array);

const dir = await mkdtemp(join(tmpdir(), "twei-bench-watch-"));
console.log("starting the demo stack (node, relayer, indexer) and playing the demo's story…");
const stack = await startDemoStack({ dataDir: join(dir, "data"), deploymentsRoot: dir });
await playDemoScenario(stack);
const walletOf = (index: number) =>
  createWalletClient({ chain: stack.chain, transport: http(stack.node.url), account: hardhatAccount(index) });
const rogue = walletOf(DEMO_ROLES.relayer);
const admin = walletOf(DEMO_ROLES.admin);
const ledger = stack.deployment.ledger;
const paused = () => stack.publicClient.readContract({ address: ledger, abi: tweiLedgerAbi, functionName: "paused" });

const watch = spawn(
  process.execPath,
  [
    "scripts/service.mjs",
    "audit",
    "--deployments-root",
    dir,
    "--rpc",
    stack.node.url,
    "--relayer",
    stack.relayerUrl,
    "--follow",
    "--poll-ms",
    String(pollMs),
    "--pause-on",
    "unbacked_batch",
  ],
  {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, TWEI_PAUSER_KEY: keyOf(hardhatAccount(DEMO_ROLES.admin)) },
  },
);
const lines: Array<Record<string, unknown>> = [];
createInterface({ input: watch.stdout }).on("line", (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
const until = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

const table = new Table({
  head: ["run", "forged batch", "receipt → paused() (ms)", "watchtower: head read → pause receipt (ms)"],
});
const times: number[] = [];
try {
  await until("the watchtower's first audit", () => lines.some((line) => line.type === "audited"));
  console.log(`the watchtower audited the demo's history; forging ${runs} batches (polling every ${pollMs} ms)`);
  const article = postIdFor(DEMO_SITE_ID, "watchtower-bench");
  for (let run = 1; run <= runs; run++) {
    const batchId = 2n ** 63n + BigInt(run);
    const packed = encodePackedActions({
      posts: run === 1 ? [{ postId: article, author: hardhatAccount(9).address }] : [],
      groups: groupByAccount([
        { account: hardhatAccount(10 + run).address, kind: ActionKind.ReadToEarn, units: 10_000, postId: article },
      ]),
    });
    const version = (
      await stack.publicClient.readContract({ address: ledger, abi: tweiLedgerAbi, functionName: "versionsInForce" })
    )[0];
    await waitForSuccess(
      stack.publicClient,
      await rogue.writeContract({
        address: ledger,
        abi: tweiLedgerAbi,
        functionName: "settle",
        args: [batchId, DEMO_SITE_ID, version, `0x${"ab".repeat(32)}`, packed],
      }),
    );
    const settled = performance.now();
    await until("the pause", paused);
    const ms = performance.now() - settled;
    times.push(ms);
    await until("the watchtower's pause line", () =>
      lines.some((l) => l.type === "paused" && l.batchId === batchId.toString()),
    );
    const line = lines.find((l) => l.type === "paused" && l.batchId === batchId.toString());
    table.push([run, batchId.toString(), ms.toFixed(0), String(line?.latencyMs ?? "?")]);
    console.log(`  run ${run}/${runs}: paused ${ms.toFixed(0)} ms after the forged batch's receipt`);
    await waitForSuccess(
      stack.publicClient,
      await admin.writeContract({ address: ledger, abi: tweiLedgerAbi, functionName: "unpause" }),
    );
  }
} finally {
  watch.kill("SIGTERM");
  await stack.stop();
  await rm(dir, { recursive: true, force: true });
}
console.log(table.toString());
console.log(
  "(the watchtower's own figure runs from its poll reading the head that holds the batch to the pause's receipt; the rest is the wait for its next poll)",
);
times.sort((a, b) => a - b);
console.log(`watchtower_pause_ms=${(times[Math.floor(times.length / 2)] ?? NaN).toFixed(0)}`);
