// npm run bench:audit [-- --actions N]: the auditor, the watchtower and a fresh indexer at scale.
// Settles N actions (1,000,000 by default) on a local Hardhat node the way the relayer does (site
// events evaluated by the real rules, signed by the site's key in EIP-712 envelopes, packed, one
// evidence file a batch), in batches as large as the per-transaction gas cap allows; then times,
// in the same run and each in its own process (so its peak memory is its own):
//   - raw eth_getLogs over the whole range (the ledger's and the token's logs, fetched and parsed
//     in the adaptive ranges every reader uses, nothing else done with them);
//   - a full audit (`npm run audit -- --evidence-dir …`: roots, signatures, rules replay, prices,
//     supply and every balance);
//   - a fresh indexer syncing everything into SQLite;
//   - the watchtower (`npm run audit -- --follow`), started before the last 10,000 actions are
//     settled, following them: how far behind the chain it stays.
// Progress on stderr. Final line:
// audit_actions_per_s=<N> audit_ratio_to_raw_getlogs=<R> indexer_fresh_actions_per_s=<M> rss_mb=<P>
// (rss_mb: the full audit's peak resident memory).
import Table from "cli-table3";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { createPublicClient, createWalletClient, http, keccak256, toHex, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { tweiLedgerAbi } from "../src/chain/abi.js";
import { deployTwei, type DeployerClient } from "../src/chain/deployTwei.js";
import { writeDeployment } from "../src/chain/deployments.js";
import { readLogsAdaptively } from "../src/chain/readLogsAdaptively.js";
import { waitForSuccess } from "../src/chain/waitForSuccess.js";
import {
  encodePackedActions,
  MAX_POST_REFS,
  type AccountAction,
  type PostRegistration,
} from "../src/core/packedActions.js";
import { DEFAULT_RULE_AMOUNTS } from "../src/core/ruleSet.js";
import type { BatchEvidence } from "../src/evidence/batchEvidence.js";
import { hashEvents, hashSiteEvent } from "../src/evidence/encodeSiteEvent.js";
import { envelopeDomain, hashEnvelope, signEnvelope } from "../src/evidence/envelope.js";
import { buildEvidenceTree, EVIDENCE_VERSION } from "../src/evidence/evidenceTree.js";
import { siteEventSchema, type SiteEvent } from "../src/evidence/siteEvent.js";
import { hardhatAccount, startHardhatNode } from "../src/devnet/startHardhatNode.js";
import { createIndexer } from "../src/indexer/createIndexer.js";
import { groupWithOrigins } from "../src/relayer/settlement/buildBatch.js";
import { evaluateEvent } from "../src/rules/evaluateEvent.js";
import { createMemoryRulesState } from "../src/rules/memoryRulesState.js";
import { DEFAULT_POLICY } from "../src/rules/policy.js";

const { values: args } = parseArgs({
  options: {
    actions: { type: "string", default: "1000000" },
    // Internal: a measured phase run in its own process by the bench itself.
    phase: { type: "string" },
    dir: { type: "string" },
    rpc: { type: "string" },
  },
});
const log = (line: string) => process.stderr.write(`bench:audit ${line}\n`);
const SITE = 1;
const FOLLOWED = 10_000;
/** Under the per-transaction gas cap (EIP-7825: 16,777,216) with room for a batch that costs more than the last. */
const GAS_TARGET = 14_500_000n;
const GAS_LIMIT = 16_700_000n;
/** Events per envelope, as the relayer's API takes them (one signed request). */
const ENVELOPE = 1_000;
const WORDS = 200;
/** Full reads a reader earns for per UTC day: the first step of DEFAULT_POLICY's ramp. */
const READS_PER_DAY = 8;
/** 00:00 UTC, after the posts were published. */
const READS_FROM = 1_800_057_600;
const UNLIMITED = 2n ** 200n;

interface PhaseResult {
  readonly ms: number;
  readonly logs?: number;
  readonly actions?: number;
  readonly maxRssMb: number;
}

const maxRssMb = () => process.resourceUsage().maxRSS / 1024;

/** Measured phases, each in a process of its own: `tsx scripts/bench-audit.ts --phase <name> --dir <dir> --rpc <url>`. */
if (args.phase !== undefined) {
  const dir = args.dir as string;
  const deployment = JSON.parse(await readFile(join(dir, "deployment.json"), "utf8")) as {
    chainId: number;
    ledger: Address;
    token: Address;
    deploymentBlock: string;
    toBlock: string;
  };
  const client = createPublicClient({ transport: http(args.rpc as string, { timeout: 120_000 }) });
  const start = performance.now();
  let result: PhaseResult;
  if (args.phase === "raw") {
    let logs = 0;
    for await (const chunk of readLogsAdaptively(client, {
      address: [deployment.ledger, deployment.token],
      fromBlock: BigInt(deployment.deploymentBlock),
      toBlock: BigInt(deployment.toBlock),
    }))
      logs += chunk.logs.length;
    result = { ms: performance.now() - start, logs, maxRssMb: maxRssMb() };
  } else if (args.phase === "indexer") {
    let actions = 0;
    const indexer = createIndexer({
      client,
      deployment: { ...deployment, deploymentBlock: BigInt(deployment.deploymentBlock) },
      dbPath: join(dir, `indexer-${Date.now()}.sqlite`),
      onEvent: (event) => {
        if (event.type !== "range") return;
        actions += event.actions;
        log(`  indexer: blocks ${event.fromBlock}…${event.toBlock}, ${actions} actions so far`);
      },
    });
    try {
      await indexer.syncOnce();
    } finally {
      await indexer.close();
    }
    result = { ms: performance.now() - start, actions, maxRssMb: maxRssMb() };
  } else throw new Error(`unknown phase ${args.phase}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

const total = Number(args.actions);
if (!Number.isInteger(total) || total < 1 || total > 10_000_000) throw new Error("--actions needs a whole number");
// Readers read posts once each: P posts and ceil(N / P) readers. A batch may refer to
// MAX_POST_REFS posts: the posts go in groups of at most that many, each read by every reader,
// reader after reader, and no batch spans two groups.
const posts = total >= 1_000_000 ? 1_000 : Math.max(1, Math.round(Math.sqrt(total)));
const readers = Math.ceil(total / posts);
const group = Math.min(posts, MAX_POST_REFS - 6);
const groupEvents = group * readers;
const followed = Math.min(FOLLOWED, Math.floor(total / 2));
const runStart = performance.now();
const dir = await mkdtemp(join(tmpdir(), "twei-bench-audit-"));
const evidenceDir = join(dir, "evidence");
await mkdir(evidenceDir);
log(`${total} reads (${posts} posts, ${readers} readers) + ${posts} posts published; working in ${dir}`);

const node = await startHardhatNode();
const children = new Set<ReturnType<typeof spawn>>();
try {
  const chain = { ...hardhat, rpcUrls: { default: { http: [node.url] } } };
  const publicClient = createPublicClient({ chain, transport: http(node.url, { timeout: 600_000 }) });
  // A 14M-gas settlement can take many seconds on a busy machine. (A retry sends the same signed
  // transaction: a socket the node closed under a kept-alive connection must not end the run.)
  const send = http(node.url, { timeout: 600_000 });
  const admin = createWalletClient({ chain, transport: send, account: hardhatAccount(0) });
  const relayer = createWalletClient({ chain, transport: send, account: hardhatAccount(1) });
  const siteSigner = privateKeyToAccount(generatePrivateKey());
  const deployed = await deployTwei({
    publicClient,
    walletClient: admin as unknown as DeployerClient,
    relayer: relayer.account.address,
    emissionCap: 10n ** 30n,
    burnCap: 10n ** 30n,
  });
  const wait = (hash: Hex) => waitForSuccess(publicClient, hash);
  await wait(
    await admin.writeContract({
      address: deployed.ledger,
      abi: tweiLedgerAbi,
      functionName: "registerSite",
      args: [SITE, siteSigner.address, 10n ** 30n, 10n ** 30n],
    }),
  );
  const chainId = await publicClient.getChainId();
  const domain = { chainId, ledger: deployed.ledger };
  const typed = envelopeDomain(domain);
  const version = (
    await publicClient.readContract({ address: deployed.ledger, abi: tweiLedgerAbi, functionName: "versionsInForce" })
  )[0];
  const deployment = {
    chainId,
    ledger: deployed.ledger,
    token: deployed.token,
    deploymentBlock: deployed.deploymentBlock,
  };
  await writeDeployment(
    {
      network: "bench",
      ...deployment,
      abiHash: deployed.abiHash,
      deployer: admin.account.address,
      deployedAt: new Date().toISOString(),
    },
    dir,
  );

  const addressOf = (role: string, i: number) => keccak256(toHex(`bench audit ${role} ${i}`)).slice(0, 42) as Address;
  const state = createMemoryRulesState({ defaultFunds: UNLIMITED });
  let occurredAt = 1_800_000_000;
  let nextEvent = 0;
  let nextBatchId = 1n;
  let nonce = 1n;
  const eventAt = (i: number): SiteEvent => {
    const g = Math.floor(i / groupEvents);
    const inGroup = i % groupEvents;
    const size = Math.min(group, posts - g * group);
    const reader = Math.floor(inGroup / size);
    const j = inGroup % size;
    // A reader's reads spread over UTC days, READS_PER_DAY a day: under the rules' new-account
    // ramp (version 3), as an honest reader's day is.
    const day = g * Math.ceil(group / READS_PER_DAY) + Math.floor(j / READS_PER_DAY);
    return siteEventSchema.parse({
      type: "post_read",
      eventId: `r${i}`,
      user: addressOf("reader", reader),
      postId: `p${g * group + j}`,
      occurredAt: READS_FROM + day * 86_400 + (reader % 3_600),
      secondsRead: 3_600,
    });
  };

  /** Settles `events` as the relayer would: the rules' actions, packed, envelopes signed, evidence written. */
  const settle = async (events: readonly SiteEvent[]) => {
    const registrations: PostRegistration[] = [];
    const actions: AccountAction[] = [];
    for (const event of events) {
      const outcome = evaluateEvent({
        siteId: SITE,
        event,
        policy: DEFAULT_POLICY,
        amounts: DEFAULT_RULE_AMOUNTS,
        state,
      });
      if (!outcome.accepted) throw new Error(`the rules reject ${event.eventId}: ${outcome.code}`);
      state.apply(outcome, DEFAULT_RULE_AMOUNTS);
      if (outcome.registers) registrations.push(outcome.registers);
      actions.push(...outcome.actions);
    }
    const { groups } = groupWithOrigins(actions.map((action, leafIndex) => ({ leafIndex, action })));
    const packed = encodePackedActions({ posts: registrations, groups });
    const eventHashes = events.map(hashSiteEvent);
    const envelopes: BatchEvidence["envelopes"][number][] = [];
    const leaves = [];
    for (let at = 0; at < events.length; at += ENVELOPE) {
      const hashes = eventHashes.slice(at, at + ENVELOPE);
      const envelope = { siteId: SITE, nonce: nonce++, eventsHash: hashEvents(hashes) };
      const digest = hashEnvelope(domain, envelope);
      const signature = await signEnvelope(siteSigner, domain, envelope);
      envelopes.push({
        nonce: envelope.nonce.toString(),
        eventsHash: envelope.eventsHash,
        digest,
        signature,
        eventHashes: hashes,
      });
      leaves.push(...hashes.map((eventHash, index) => ({ eventHash, envelopeDigest: digest, index })));
    }
    const root = buildEvidenceTree(leaves, EVIDENCE_VERSION).root;
    const batchId = nextBatchId++;
    const receipt = await wait(
      await relayer.writeContract({
        address: deployed.ledger,
        abi: tweiLedgerAbi,
        functionName: "settle",
        args: [batchId, SITE, version, root, packed],
        gas: GAS_LIMIT,
      }),
    );
    const evidence: BatchEvidence = {
      version: EVIDENCE_VERSION,
      batchId: batchId.toString(),
      siteId: SITE,
      evidenceRoot: root,
      actions: packed,
      domain: {
        name: typed.name as BatchEvidence["domain"]["name"],
        version: typed.version as BatchEvidence["domain"]["version"],
        chainId,
        verifyingContract: deployed.ledger,
      },
      envelopes,
      events: events.map((event, leafIndex) => ({
        leafIndex,
        envelopeNonce: (envelopes[Math.floor(leafIndex / ENVELOPE)] as { nonce: string }).nonce,
        envelopeIndex: leafIndex % ENVELOPE,
        eventHash: eventHashes[leafIndex] as Hex,
        event,
      })),
    };
    await writeFile(join(evidenceDir, `${batchId}.json`), JSON.stringify(evidence));
    return { receipt, actions: actions.length };
  };

  // The posts first, then the reads in batches sized from the gas the last one used.
  let settledActions = 0;
  let batches = 0;
  for (let first = 0; first < posts; first += group) {
    const published = await settle(
      Array.from({ length: Math.min(group, posts - first) }, (_, k) =>
        siteEventSchema.parse({
          type: "post_published",
          eventId: `p${first + k}`,
          user: addressOf("author", first + k),
          postId: `p${first + k}`,
          occurredAt: occurredAt++,
          wordCount: WORDS,
        }),
      ),
    );
    settledActions += published.actions;
    batches++;
  }
  let batchSize = 1_000;
  const settleStart = performance.now();
  let lastLog = 0;
  /** Settles reads up to event `until`; `onBatch` after each batch. */
  const settleReads = async (until: number, onBatch?: (block: bigint, actions: number) => void) => {
    while (nextEvent < until) {
      const groupEnd = (Math.floor(nextEvent / groupEvents) + 1) * groupEvents;
      const size = Math.min(batchSize, until - nextEvent, groupEnd - nextEvent);
      const events = Array.from({ length: size }, (_, k) => eventAt(nextEvent + k));
      const { receipt, actions } = await settle(events);
      nextEvent += size;
      settledActions += actions;
      batches++;
      onBatch?.(receipt.blockNumber, actions);
      if (size === batchSize) {
        const fitted = Number((BigInt(batchSize) * GAS_TARGET) / receipt.gasUsed);
        batchSize = Math.max(100, Math.min(fitted, batchSize * 2, 60_000));
      }
      if (performance.now() - lastLog > 5_000 || nextEvent === total) {
        lastLog = performance.now();
        const s = (performance.now() - settleStart) / 1000;
        log(
          `settled ${nextEvent}/${total} reads in ${batches} batches (${size} events, ${receipt.gasUsed} gas the last), ${s.toFixed(0)} s, ${(nextEvent / s).toFixed(0)} actions/s`,
        );
      }
    }
  };
  await settleReads(total - followed);

  /** Reads the peak resident memory of a child while it runs (VmHWM only grows). */
  const watchRss = (pid: number | undefined) => {
    let peak = 0;
    const timer = setInterval(() => {
      readFile(`/proc/${pid}/status`, "utf8")
        .then((status) => {
          const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
          if (kb / 1024 > peak) peak = kb / 1024;
        })
        .catch(() => {});
    }, 100);
    return { peak: () => peak, stop: () => clearInterval(timer) };
  };
  const auditArgs = [
    "scripts/service.mjs",
    "audit",
    "--network",
    "bench",
    "--deployments-root",
    dir,
    "--rpc",
    node.url,
    "--evidence-dir",
    evidenceDir,
  ];

  // The watchtower: catches up with the history, then follows the last reads as they settle.
  log(`starting the watchtower on ${settledActions} settled actions…`);
  const watch = spawn(process.execPath, [...auditArgs, "--follow", "--poll-ms", "200"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(watch);
  const watchRssOf = watchRss(watch.pid);
  let watchAudited = -1n;
  const watchLines: { type: string; [key: string]: unknown }[] = [];
  createInterface({ input: watch.stdout }).on("line", (line) => {
    const parsed = JSON.parse(line) as { type: string; toBlock?: string };
    if (parsed.type === "audited") watchAudited = BigInt(parsed.toBlock ?? "-1");
    else if (parsed.type !== "discrepancy") watchLines.push(parsed);
  });
  createInterface({ input: watch.stderr }).on("line", (line) => log(`  watchtower: ${line}`));
  const catchUpStart = performance.now();
  const head = await publicClient.getBlockNumber({ cacheTime: 0 });
  while (watchAudited < head) {
    if (watch.exitCode !== null) throw new Error(`the watchtower exited (${watch.exitCode})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const catchUpMs = performance.now() - catchUpStart;
  log(
    `watchtower caught up with ${settledActions} actions in ${(catchUpMs / 1000).toFixed(1)} s; settling the last ${followed}…`,
  );
  const lags: number[] = [];
  const pending: { block: bigint; at: number }[] = [];
  const lagTimer = setInterval(() => {
    while (pending.length > 0 && (pending[0] as { block: bigint }).block <= watchAudited)
      lags.push(performance.now() - (pending.shift() as { at: number }).at);
  }, 10);
  const followStart = performance.now();
  await settleReads(total, (block) => pending.push({ block, at: performance.now() }));
  const lastBlock = await publicClient.getBlockNumber({ cacheTime: 0 });
  while (watchAudited < lastBlock) await new Promise((resolve) => setTimeout(resolve, 10));
  const followMs = performance.now() - followStart;
  clearInterval(lagTimer);
  while (pending.length > 0) lags.push(performance.now() - (pending.shift() as { at: number }).at);
  const watchPeakMb = watchRssOf.peak();
  watchRssOf.stop();
  watch.kill("SIGTERM");
  await new Promise((resolve) => watch.once("exit", resolve));
  children.delete(watch);
  const unreadable = watchLines.filter((line) => line.type === "chain_unreadable").length;
  log(
    `settled ${settledActions} actions in ${batches} batches, ${((performance.now() - settleStart) / 1000).toFixed(0)} s`,
  );

  const toBlock = lastBlock;
  await writeFile(
    join(dir, "deployment.json"),
    JSON.stringify({
      ...deployment,
      deploymentBlock: deployment.deploymentBlock.toString(),
      toBlock: toBlock.toString(),
    }),
  );

  /** Runs a measured phase in its own process; resolves with what it printed. */
  const phase = async (name: string): Promise<PhaseResult> => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "scripts/bench-audit.ts", "--phase", name, "--dir", dir, "--rpc", node.url],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    children.add(child);
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    children.delete(child);
    if (code !== 0) throw new Error(`phase ${name} exited ${code}`);
    return JSON.parse(out) as PhaseResult;
  };

  log(`raw eth_getLogs over blocks ${deployment.deploymentBlock}…${toBlock}…`);
  const raw = await phase("raw");
  log(`  ${raw.logs} logs in ${(raw.ms / 1000).toFixed(1)} s`);

  log("full audit (npm run audit -- --evidence-dir …)…");
  // BENCH_PROFILE_DIR=<dir>: a CPU profile of the audit there (open it in Chrome's DevTools).
  const profile = process.env.BENCH_PROFILE_DIR
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    : [];
  const audit = spawn(process.execPath, [...profile, ...auditArgs, "--json", "--to-block", toBlock.toString()], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(audit);
  const auditRss = watchRss(audit.pid);
  // From its first step (the program loaded, the chain id checked) to its exit.
  let auditStart = performance.now();
  let auditOut = "";
  audit.stdout.on("data", (chunk: Buffer) => (auditOut += chunk.toString()));
  createInterface({ input: audit.stderr }).on("line", (line) => {
    if (/^audit: reading the ledger/.test(line)) auditStart = performance.now();
    if (!/^audit: batch \d+/.test(line)) log(`  ${line}`);
  });
  const auditCode = await new Promise<number | null>((resolve) => audit.once("exit", resolve));
  const auditMs = performance.now() - auditStart;
  auditRss.stop();
  children.delete(audit);
  const auditResult = JSON.parse(auditOut) as {
    summary: { batches: number; actions: number; events: number; accountsChecked: number };
    discrepancies: unknown[];
  };
  if (auditCode !== 0)
    throw new Error(`the audit exited ${auditCode}: ${JSON.stringify(auditResult.discrepancies.slice(0, 3))}`);
  const auditPeakMb = auditRss.peak();
  log(`  ${auditResult.summary.actions} actions, no discrepancy, in ${(auditMs / 1000).toFixed(1)} s`);

  log("fresh indexer sync (SQLite)…");
  const indexed = await phase("indexer");
  log(`  ${indexed.actions} actions in ${(indexed.ms / 1000).toFixed(1)} s`);

  const actions = auditResult.summary.actions;
  const perS = (n: number, ms: number) => (n / ms) * 1000;
  const auditRate = perS(actions, auditMs);
  const rawRate = perS(actions, raw.ms);
  lags.sort((a, b) => a - b);
  const p = (q: number) => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] ?? NaN;
  const table = new Table({ head: ["phase", "time", "actions/s", "peak RSS (MB)", "notes"] });
  table.push(
    [
      "raw eth_getLogs (adaptive ranges)",
      `${(raw.ms / 1000).toFixed(1)} s`,
      rawRate.toFixed(0),
      raw.maxRssMb.toFixed(0),
      `${raw.logs} logs`,
    ],
    [
      "full audit (CLI, evidence files)",
      `${(auditMs / 1000).toFixed(1)} s`,
      auditRate.toFixed(0),
      auditPeakMb.toFixed(0),
      `${auditResult.summary.batches} batches, ${auditResult.summary.events} events, ${auditResult.summary.accountsChecked} balances`,
    ],
    [
      "fresh indexer sync (SQLite)",
      `${(indexed.ms / 1000).toFixed(1)} s`,
      perS(indexed.actions ?? 0, indexed.ms).toFixed(0),
      indexed.maxRssMb.toFixed(0),
      `${indexed.actions} actions`,
    ],
    [
      "watchtower catch-up (CLI --follow)",
      `${(catchUpMs / 1000).toFixed(1)} s`,
      perS(settledActions - followed, catchUpMs).toFixed(0),
      "",
      "history before the followed part",
    ],
    [
      `watchtower following the last ${followed}`,
      `${(followMs / 1000).toFixed(1)} s`,
      perS(followed, followMs).toFixed(0),
      watchPeakMb.toFixed(0),
      `lag after a batch's receipt: p50 ${p(0.5).toFixed(0)} ms, max ${p(1).toFixed(0)} ms; chain_unreadable ${unreadable}`,
    ],
  );
  console.log(table.toString());
  console.log(`wall time ${((performance.now() - runStart) / 1000).toFixed(0)} s (settling included)`);
  console.log(
    `audit_actions_per_s=${auditRate.toFixed(0)} audit_ratio_to_raw_getlogs=${(auditRate / rawRate).toFixed(2)} indexer_fresh_actions_per_s=${perS(indexed.actions ?? 0, indexed.ms).toFixed(0)} rss_mb=${auditPeakMb.toFixed(0)}`,
  );
} finally {
  for (const child of children) child.kill("SIGTERM");
  await node.stop();
  await rm(dir, { recursive: true, force: true });
}
