import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import type { Address } from "viem";
import { playDemoScenario, type DemoOutcome } from "../../scripts/demo/playDemoScenario.js";
import {
  addressOf,
  ARTICLE_READS,
  ARTICLE_WORDS,
  COMMENTS,
  LAUNCH_READERS,
  PEOPLE,
  REACTIONS,
  REPORT_BUYER,
  REPORTED_READER,
  VOTES,
  type Person,
} from "../../scripts/demo/scenario.js";
import { startDemoStack, type DemoStack } from "../../scripts/demo/startDemoStack.js";
import { relayerEvidenceSource } from "../../src/auditor/evidenceSource.js";
import { runAudit } from "../../src/auditor/runAudit.js";
import { ActionKind, KINDS, type ActionKind as Kind } from "../../src/core/kinds.js";
import { amountFor, DEFAULT_RULE_AMOUNTS } from "../../src/core/ruleSet.js";
import { buildPostReport } from "../../src/indexer/reports/buildPostReport.js";
import { formatReportTable } from "../../src/indexer/reports/formatReportTable.js";
import type { PostReport } from "../../src/indexer/reports/postReportFrom.js";

type Lines = Map<Kind, { amount: bigint; count: number }>;

/**
 * The article's expected lines per person, computed here from the scenario's own numbers and
 * the default rule amounts (src/core's amountFor), with the design's rules written out by hand:
 * not from the relayer, the indexer or src/rules.
 */
function expectedLines(): Map<Person | "everyone", Lines> {
  const lines = new Map<Person | "everyone", Lines>();
  const add = (person: Person, kind: Kind, units = 1) => {
    for (const key of [person, "everyone"] as const) {
      const byKind = lines.get(key) ?? new Map();
      const line = byKind.get(kind) ?? { amount: 0n, count: 0 };
      byKind.set(kind, { amount: line.amount + amountFor(DEFAULT_RULE_AMOUNTS, kind, units), count: line.count + 1 });
      lines.set(key, byKind);
    }
  };
  add("author", ActionKind.PostPublishTribute);
  // 200 words a minute; paid in proportion to the time read, capped at a full read, nothing below 20 %.
  const secondsToRead = Math.ceil((ARTICLE_WORDS * 60) / 200);
  const paidReaders = new Set<Person>(["author"]); // the author counts as a reader of their own post
  for (const { person, seconds } of ARTICLE_READS) {
    const bps = Math.min(10_000, Math.floor((seconds * 10_000) / secondsToRead));
    if (bps >= 2_000) {
      add(person, ActionKind.ReadToEarn, bps);
      paidReaders.add(person);
    }
  }
  // Rules version 3: a vote mints only from a reader of the article at level 2 (0.5 Twei earned
  // before): the launch readers. The new reader's votes pay nobody (her burns still apply).
  const votePays = (person: Person) => paidReaders.has(person) && LAUNCH_READERS.includes(person);
  for (const { person, vote } of VOTES)
    if (vote === "plus") {
      if (votePays(person)) add("author", ActionKind.EarnedForPluses);
    } else add(person, ActionKind.SpentForMinuses);
  // Comment-to-Earn from level 13 (72 Twei earned): the launch readers earned 100 Twei each on
  // the launch post; the new reader only earned her read of the article.
  for (const { person } of COMMENTS) {
    add(person, ActionKind.CommentTributes);
    if (LAUNCH_READERS.includes(person)) add(person, ActionKind.CommentRewards);
  }
  const commenter = new Map(COMMENTS.map((c) => [c.commentId, c.person]));
  for (const { person, commentId, reaction } of REACTIONS) {
    const author = commenter.get(commentId) as Person;
    const like = reaction === "like";
    const pays = votePays(person);
    if (like) {
      if (!pays) continue;
      add(person, ActionKind.LikesOwn);
      add(author, ActionKind.LikesCommenter);
      if (person !== "author") add("author", ActionKind.LikesAuthor);
    } else {
      add(person, ActionKind.DislikesOwn);
      add(author, ActionKind.DislikesCommenter);
      if (pays && person !== "author") add("author", ActionKind.DislikesAuthor);
    }
  }
  add(REPORT_BUYER, ActionKind.PnLReports);
  return lines;
}

function expectReport(report: PostReport, expected: Lines) {
  let earned = 0n;
  let profit = 0n;
  let loss = 0n;
  for (const { kind, label, section } of KINDS) {
    const want = expected.get(kind) ?? { amount: 0n, count: 0 };
    const line = report.lines.find((l) => l.kind === kind);
    expect({ label: line?.label, amount: line?.amount, count: line?.count }, label).to.deep.equal({
      label,
      amount: want.amount,
      count: want.count,
    });
    expect(line?.shortfall.count, `${label} shortfalls`).to.equal(0);
    if (section === "earned") earned += want.amount;
    else if (section === "profit") profit += want.amount;
    else loss += want.amount;
  }
  expect(report.readToEarn).to.equal(earned);
  expect(report.profitSubtotal).to.equal(profit);
  expect(report.lossSubtotal).to.equal(loss);
  expect(report.totalEarned).to.equal(earned + profit - loss);
  expect(report.reportPrice).to.equal(DEFAULT_RULE_AMOUNTS[ActionKind.PnLReports]);
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(process.cwd(), "node_modules/.bin/tsx"), args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

// The same story on two independent EVM implementations: Hardhat's EDR and Foundry's anvil.
for (const node of ["hardhat", "anvil"] as const)
  describe(`e2e: the demo's scenario on a fresh ${node} node, relayer and indexer`, function () {
    this.timeout(120_000);
    let dir: string;
    let stack: DemoStack;
    let outcome: DemoOutcome;
    const expected = expectedLines();

    before(async function () {
      dir = await mkdtemp(join(tmpdir(), "twei-e2e-"));
      stack = await startDemoStack({ dataDir: join(dir, "data"), deploymentsRoot: dir, node });
      outcome = await playDemoScenario(stack);
    });

    after(async function () {
      await stack?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("refuses the skimmer's too-short read and Comment-to-Earn below level 13, and accepts the rest", function () {
      const skim = outcome.results.get("read-r6");
      expect(skim).to.deep.include({ status: "rejected", code: "read_too_short" });
      const muchacho = outcome.results.get("comment-c-muchacho");
      expect(muchacho?.status).to.equal("accepted");
      expect(muchacho && "notes" in muchacho ? muchacho.notes?.join(" ") : "").to.match(/level \d+ is below 13/);
      const rejected = [...outcome.results.values()].filter((r) => r.status !== "accepted").map((r) => r.eventId);
      expect(rejected).to.deep.equal(["read-r6"]);
      expect(outcome.batches.length).to.be.at.least(7);
    });

    it("reports every line of the author's PnL as computed from the rule amounts", async function () {
      const report = await buildPostReport(stack.indexer.store, {
        postId: outcome.articlePostId,
        account: addressOf("author"),
      });
      expect(report.block.number >= outcome.lastBlock).to.equal(true);
      expectReport(report, expected.get("author") as Lines);
      expect(formatReportTable(report)).to.include("Post Publish Tribute").and.include("Total Twei Earned");
    });

    it(`reports every line of ${PEOPLE[REPORTED_READER].name}'s PnL, and the post's for everyone`, async function () {
      const reader = await buildPostReport(stack.indexer.store, {
        postId: outcome.articlePostId,
        account: addressOf(REPORTED_READER),
      });
      expectReport(reader, expected.get(REPORTED_READER) as Lines);
      for (const person of Object.keys(PEOPLE) as Person[]) {
        const report = await buildPostReport(stack.indexer.store, {
          postId: outcome.articlePostId,
          account: addressOf(person) as Address,
        });
        expectReport(report, expected.get(person) ?? new Map());
      }
      expectReport(
        await buildPostReport(stack.indexer.store, { postId: outcome.articlePostId }),
        expected.get("everyone") as Lines,
      );
    });

    it("audits clean from the chain and the relayer's evidence (in-process and through the CLI)", async function () {
      const result = await runAudit({
        publicClient: stack.publicClient,
        deployment: stack.deployment,
        evidence: relayerEvidenceSource(stack.relayerUrl),
      });
      expect(result.discrepancies).to.deep.equal([]);
      expect(result.summary.batches).to.equal(outcome.batches.length);
      expect(result.summary.batchesWithEvidence).to.equal(outcome.batches.length);
      expect(result.summary.ruleSetVersions).to.deep.equal([1, 2]);
      expect(result.summary.totalSupply).to.equal(result.summary.minted - result.summary.burned);

      const cli = await runCli([
        "src/auditor/main.ts",
        "--network",
        "localhost",
        "--deployments-root",
        dir,
        "--rpc",
        stack.node.url,
        "--relayer",
        stack.relayerUrl,
        "--json",
        "--quiet",
      ]);
      expect(cli.code, cli.stderr).to.equal(0);
      const json = JSON.parse(cli.stdout) as { ok: boolean; summary: { batches: number } };
      expect(json.ok).to.equal(true);
      expect(json.summary.batches).to.equal(outcome.batches.length);
    });
  });
