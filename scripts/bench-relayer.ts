/**
 * `npm run bench:relayer`: signed 100-event requests over loopback for a fixed time against
 * the relayer (its own Hardhat node, a child process running `src/relayer/main.ts`) and,
 * in the same run, against a bare Express endpoint that only parses the same JSON.
 * Prints accepted events per second and p50/p99 latency for both; the final line is
 * `relayer_events_per_s=<N> ratio_to_bare=<R>`. With `-- --store postgres --instances N` the same
 * requests then go round-robin to N relayers sharing one PostgreSQL (a server the bench starts),
 * and the final line is `relayer_pg_events_per_s=<N> pg_ratio_to_sqlite=<R> ratio_to_bare=<B>`.
 *
 * Environment: BENCH_SECONDS (default 10), BENCH_CONCURRENCY (default 8), BENCH_EVENTS (default 100 per
 * request), BENCH_SETTLE (default 1: a second run with settlement on; 0: skip it), BENCH_WORKERS
 * (verification threads, default 2). The headline is the API with settlement off (a second API
 * instance's view, `RELAYER_SETTLE=false`); the table also shows the same relayer while it
 * settles its backlog on the local Hardhat node, which shares the same two cores.
 * The bench chain's rule set makes publishing free, so the workload (reads by fresh readers)
 * needs no funds; reads of funds from the chain are not on this path.
 *
 * BENCH_BASELINE=<dir>: another checkout of Twei (with its node_modules), e.g. a worktree of
 * main before a change. Its relayer runs in the same run on a copy of the same database and
 * the same pre-signed requests, alternating with this tree's (ours, theirs, ours, theirs;
 * settlement off), and the final line adds `ratio_to_baseline=<R>` (ours over theirs).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Table from "cli-table3";
import express from "express";
import { createPublicClient, createWalletClient, defineChain, http, parseUnits, type PublicClient } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { ABI_HASH, deployTwei, type DeployerClient } from "../src/chain/deployTwei.js";
import { writeDeployment } from "../src/chain/deployments.js";
import { ActionKind } from "../src/core/kinds.js";
import { DEFAULT_RULE_AMOUNTS } from "../src/core/ruleSet.js";
import { freePort, hardhatAccount, startHardhatNode } from "../src/devnet/startHardhatNode.js";
import { registerSite } from "../src/relayer/registerSite.js";
import { startPostgres, type DevPostgres } from "../src/devnet/startPostgres.js";
import { createPgStore } from "../src/relayer/storage/pg/pgStore.js";
import { createSqliteStore } from "../src/relayer/storage/sqliteStore.js";
import { createTweiClient } from "../src/sdk/createTweiClient.js";
import type { SiteEventInput } from "../src/evidence/siteEvent.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 100);
/** BENCH_SETTLE=0 skips the second run, in which the relayer settles while accepting. */
const BASELINE = process.env.BENCH_BASELINE;
/** `--store postgres [--instances N]`: the same requests, round-robin over N relayers sharing one PostgreSQL. */
const argValue = (name: string) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
};
const STORE = argValue("--store") ?? "sqlite";
const INSTANCES = Number(argValue("--instances") ?? 1);
if (STORE !== "sqlite" && STORE !== "postgres") throw new Error("--store is sqlite or postgres");
if (!Number.isInteger(INSTANCES) || INSTANCES < 1 || INSTANCES > 8) throw new Error("--instances is 1 to 8");
const SETTLE = process.env.BENCH_SETTLE !== "0" && BASELINE === undefined && STORE === "sqlite";
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const POSTS = 50;
const SITE = 1;

const log = (message: string) => console.error(`[bench] ${message}`);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

interface RunResult {
  events: number;
  requests: number;
  seconds: number;
  p50: number;
  p99: number;
  errors: number;
}

/** Sends pre-built bodies with CONCURRENCY loops for SECONDS; counts what the server accepted. */
async function run(
  url: string | readonly string[],
  headers: Record<string, string>,
  bodies: string[],
  accepted: (json: unknown) => number,
  cycle = false,
) {
  const latencies: number[] = [];
  let next = 0;
  let events = 0;
  let errors = 0;
  const start = performance.now();
  const deadline = start + SECONDS * 1000;
  let lastReport = start;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline && (cycle || next < bodies.length)) {
        const body = bodies[next++ % bodies.length] as string;
        const t0 = performance.now();
        const target = typeof url === "string" ? url : (url[next % url.length] as string);
        const response = await fetch(target, { method: "POST", headers, body });
        const json: unknown = await response.json();
        latencies.push(performance.now() - t0);
        if (response.ok) events += accepted(json);
        else errors++;
        const now = performance.now();
        if (now - lastReport > 2000) {
          lastReport = now;
          log(`${((now - start) / 1000).toFixed(0)} s: ${events} events, ${latencies.length} requests`);
        }
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  if (!cycle && next >= bodies.length) log("ran out of pre-signed requests before the time was up");
  return {
    events,
    requests: latencies.length,
    seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  };
}

/** Several runs as one: events and requests summed, latencies of the slowest run's percentiles. */
function sumRuns(runs: readonly RunResult[]): RunResult {
  return {
    events: runs.reduce((sum, r) => sum + r.events, 0),
    requests: runs.reduce((sum, r) => sum + r.requests, 0),
    seconds: runs.reduce((sum, r) => sum + r.seconds, 0),
    p50: Math.max(...runs.map((r) => r.p50)),
    p99: Math.max(...runs.map((r) => r.p99)),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
  };
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(
      () => reject(new Error(`no "${pattern}" from the child in time:\n${buffer.slice(-2000)}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = pattern.exec(buffer);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] ?? match[0]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`the child exited (${code}):\n${buffer.slice(-2000)}`)));
  });
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), "twei-bench-relayer-"));
  const node = await startHardhatNode();
  let relayer: ChildProcess | undefined;
  let pgServer: DevPostgres | undefined;
  const children: ChildProcess[] = [];
  try {
    log(`hardhat node on ${node.url}`);
    const chain = defineChain({
      id: 31337,
      name: "hardhat",
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [node.url] } },
    });
    const publicClient = createPublicClient({ chain, transport: http(node.url) }) as PublicClient;
    const admin = createWalletClient({ chain, transport: http(node.url), account: hardhatAccount(0) });
    const amounts = [...DEFAULT_RULE_AMOUNTS];
    amounts[ActionKind.PostPublishTribute] = 0n;
    const deployed = await deployTwei({
      publicClient,
      walletClient: admin as unknown as DeployerClient,
      relayer: hardhatAccount(1).address,
      ruleAmounts: amounts,
    });
    await writeDeployment(
      {
        network: "bench",
        chainId: 31337,
        token: deployed.token,
        ledger: deployed.ledger,
        deploymentBlock: deployed.deploymentBlock,
        abiHash: ABI_HASH,
        deployer: admin.account.address,
        deployedAt: new Date().toISOString(),
      },
      dir,
    );
    const signer = privateKeyToAccount(generatePrivateKey());
    const dataDir = join(dir, "data");
    const store = createSqliteStore({ path: join(dataDir, "relayer.sqlite") });
    const { apiKey } = await registerSite({
      store,
      publicClient,
      adminClient: admin,
      ledger: deployed.ledger,
      siteId: SITE,
      signer: signer.address,
      epochCap: parseUnits("1000000", 18),
    });
    await store.close();

    const relayerKey = hardhatAccount(1).getHdKey().privateKey;
    /** A relayer process from the tree at `root` (this one by default) on `data`. */
    const startRelayerChild = async (
      settle: boolean,
      root = process.cwd(),
      data = dataDir,
      extra: Record<string, string> = {},
    ) => {
      const port = await freePort();
      // BENCH_PROFILE=<dir> writes the relayer's CPU profile there.
      const profile = process.env.BENCH_PROFILE ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_PROFILE] : [];
      const child = spawn(join(root, "node_modules/.bin/tsx"), [...profile, "src/relayer/main.ts"], {
        cwd: root,
        env: {
          ...process.env,
          PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH ?? ""}`,
          RELAYER_PRIVATE_KEY: `0x${Buffer.from(relayerKey ?? []).toString("hex")}`,
          TWEI_RPC_URL: node.url,
          TWEI_NETWORK: "bench",
          TWEI_DEPLOYMENTS_ROOT: dir,
          RELAYER_DATA_DIR: data,
          RELAYER_PORT: String(port),
          RELAYER_RATE_PER_SECOND: "100000",
          RELAYER_RATE_BURST: "100000",
          RELAYER_SETTLE: settle ? "true" : "false",
          RELAYER_VERIFY_WORKERS: String(WORKERS),
          LOG_LEVEL: "warn",
          DATABASE_URL: undefined,
          ...extra,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      relayer = child;
      children.push(child);
      const url = await waitForLine(child, /"url":"([^"]+)"/, 60_000);
      log(`relayer on ${url} (settlement ${settle ? "on" : "off"}, ${root})`);
      return url;
    };
    const stopRelayerChild = async () => {
      const child = relayer;
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    };
    let url = await startRelayerChild(false);

    const client = createTweiClient({ url, apiKey, siteId: SITE, signer, chainId: 31337, ledger: deployed.ledger });
    const author = privateKeyToAccount(generatePrivateKey()).address;
    const posts = Array.from({ length: POSTS }, (_, i): SiteEventInput => ({
      eventId: `publish-${i}`,
      type: "post_published",
      occurredAt: 1_700_000_000,
      user: author,
      postId: `post-${i}`,
      wordCount: 1_000,
    }));
    const published = await client.sendEvents(posts);
    if (published.counts.accepted !== POSTS) throw new Error(`publishing failed: ${JSON.stringify(published.counts)}`);

    // Pre-sign the requests: the bench measures the server, not the client's signing.
    const phases = SETTLE || BASELINE !== undefined ? 2 : 1;
    const pool = Math.ceil(SECONDS * 400 * 1.2) * phases;
    log(`signing ${pool} requests of ${EVENTS} events…`);
    const bodies: string[] = [];
    const readerBase = BigInt(`0x${"ab".repeat(4)}`) << 128n;
    let n = 0;
    for (let r = 0; r < pool; r++) {
      const events: SiteEventInput[] = [];
      for (let e = 0; e < EVENTS; e++, n++) {
        const reader = `0x${(readerBase + BigInt(n)).toString(16).padStart(40, "0")}`;
        events.push({
          eventId: `read-${n}`,
          type: "post_read",
          occurredAt: 1_700_000_100 + r,
          user: reader,
          postId: `post-${n % POSTS}`,
          secondsRead: 200,
        });
      }
      bodies.push((await client.signEvents(events, BigInt(r + 1))).body);
      if (r % 1000 === 999) log(`  ${r + 1} signed`);
    }

    const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
    const accepted = (json: unknown) => (json as { counts: { accepted: number } }).counts.accepted;
    const half = Math.floor(bodies.length / phases);
    log(`relayer, settlement off: ${SECONDS} s, ${CONCURRENCY} concurrent requests`);
    let relayerRun: RunResult;
    let baselineRun: RunResult | undefined;
    if (BASELINE !== undefined) {
      // Side by side: the baseline's relayer on a copy of the same database (the posts
      // published), each round's requests sent to both, alternating.
      await stopRelayerChild();
      const baselineData = join(dir, "data-baseline");
      await cp(dataDir, baselineData, { recursive: true });
      const ours: RunResult[] = [];
      const theirs: RunResult[] = [];
      for (const [round, slice] of [bodies.slice(0, half), bodies.slice(half)].entries()) {
        url = await startRelayerChild(false);
        log(`round ${round + 1}, this tree: ${SECONDS} s`);
        ours.push(await run(`${url}/v1/events`, headers, slice, accepted));
        await stopRelayerChild();
        const baselineUrl = await startRelayerChild(false, BASELINE, baselineData);
        log(`round ${round + 1}, baseline ${BASELINE}: ${SECONDS} s`);
        theirs.push(await run(`${baselineUrl}/v1/events`, headers, slice, accepted));
        await stopRelayerChild();
      }
      relayerRun = sumRuns(ours);
      baselineRun = sumRuns(theirs);
    } else relayerRun = await run(`${url}/v1/events`, headers, bodies.slice(0, half), accepted);
    let settlingRun: RunResult | undefined;
    if (SETTLE) {
      // The same relayer settling meanwhile (it starts with the backlog just accepted); its
      // local Hardhat node executes the batches on the same two cores.
      await stopRelayerChild();
      url = await startRelayerChild(true);
      log(`relayer, settling meanwhile: ${SECONDS} s, ${CONCURRENCY} concurrent requests`);
      settlingRun = await run(`${url}/v1/events`, headers, bodies.slice(half), accepted);
    }

    let pgRun: RunResult | undefined;
    if (STORE === "postgres") {
      await stopRelayerChild();
      pgServer = await startPostgres({ log });
      const databaseUrl = await pgServer.createDatabase("bench");
      const pgStore = createPgStore({ url: databaseUrl });
      // The same site (its API key hash) in the PostgreSQL database; the chain has it already.
      const sqliteStore = createSqliteStore({ path: join(dataDir, "relayer.sqlite") });
      const site = await sqliteStore.site(SITE);
      await sqliteStore.close();
      if (!site) throw new Error("the bench site is missing");
      await pgStore.createSite({
        siteId: SITE,
        apiKeyHash: site.apiKeyHash,
        webhookUrl: null,
        webhookSecret: null,
      });
      await pgStore.close();
      const urls: string[] = [];
      for (let i = 0; i < INSTANCES; i++)
        urls.push(
          await startRelayerChild(false, process.cwd(), join(dir, `data-pg-${i}`), { DATABASE_URL: databaseUrl }),
        );
      const pgClient = createTweiClient({
        url: urls[0]!,
        apiKey,
        siteId: SITE,
        signer,
        chainId: 31337,
        ledger: deployed.ledger,
      });
      const again = await pgClient.sendEvents(posts, { nonce: 10n ** 15n });
      if (again.counts.accepted !== POSTS) throw new Error(`publishing failed: ${JSON.stringify(again.counts)}`);
      log(
        `relayer on PostgreSQL, ${INSTANCES} instance(s), settlement off: ${SECONDS} s, ${CONCURRENCY} concurrent requests`,
      );
      // The same requests as the SQLite run (another database: nothing is a duplicate).
      pgRun = await run(
        urls.map((u) => `${u}/v1/events`),
        headers,
        bodies.slice(0, half),
        accepted,
      );
      for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
    }

    // The bare endpoint, in its own process like the relayer: parse the JSON, answer.
    const barePort = await freePort();
    const bareChild = spawn(
      join(process.cwd(), "node_modules/.bin/tsx"),
      ["scripts/bench-relayer.ts", "--bare", String(barePort)],
      {
        env: { ...process.env, PATH: `${join(process.cwd(), "node_modules/.bin")}:${process.env.PATH ?? ""}` },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    try {
      await waitForLine(bareChild, /bare listening/, 30_000);
      log(`bare express: ${SECONDS} s`);
      const bareRun = await run(
        `http://127.0.0.1:${barePort}/v1/events`,
        headers,
        bodies,
        (json) => (json as { events: number }).events,
        true,
      );
      const table = new Table({ head: ["endpoint", "events/s", "requests", "p50 ms", "p99 ms", "errors"] });
      const row = (name: string, r: RunResult) => [
        name,
        Math.round(r.events / r.seconds).toLocaleString("en"),
        String(r.requests),
        r.p50.toFixed(1),
        r.p99.toFixed(1),
        String(r.errors),
      ];
      table.push(row("relayer POST /v1/events (durable)", relayerRun));
      if (settlingRun) table.push(row("  … while settling on the local node", settlingRun));
      if (baselineRun) table.push(row(`baseline relayer (${BASELINE})`, baselineRun));
      if (pgRun) table.push(row(`relayer on PostgreSQL, ${INSTANCES} instance(s) (durable)`, pgRun));
      table.push(row("bare express.json()", bareRun));
      console.log(table.toString());
      const relayerRate = relayerRun.events / relayerRun.seconds;
      if (settlingRun)
        console.log(`relayer_settling_events_per_s=${Math.round(settlingRun.events / settlingRun.seconds)}`);
      const bareRate = bareRun.events / bareRun.seconds;
      const vsBaseline = baselineRun
        ? ` ratio_to_baseline=${(relayerRate / (baselineRun.events / baselineRun.seconds)).toFixed(3)}`
        : "";
      console.log(
        `relayer_events_per_s=${Math.round(relayerRate)} ratio_to_bare=${(relayerRate / bareRate).toFixed(3)}${vsBaseline}`,
      );
      if (pgRun) {
        const pgRate = pgRun.events / pgRun.seconds;
        console.log(
          `relayer_pg_events_per_s=${Math.round(pgRate)} pg_ratio_to_sqlite=${(pgRate / relayerRate).toFixed(3)} ratio_to_bare=${(pgRate / bareRate).toFixed(3)}`,
        );
      }
    } finally {
      bareChild.kill("SIGTERM");
    }
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
    await pgServer?.stop();
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function serveBare(port: number) {
  const app = express();
  app.use(express.json({ limit: 1_000_000 }));
  app.post("/v1/events", (req, res) => {
    const events = (req.body as { events?: unknown[] }).events ?? [];
    res.json({ events: events.length });
  });
  app.listen(port, "127.0.0.1", () => console.log("bare listening"));
}

if (process.argv[2] === "--bare") serveBare(Number(process.argv[3]));
else
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
