import { expect } from "chai";
import { spawn } from "node:child_process";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import { createWalletClient, http } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { playDemoScenario } from "../../scripts/demo/playDemoScenario.js";
import { addressOf, ARTICLE } from "../../scripts/demo/scenario.js";
import { DEMO_ROLES, DEMO_SITE_ID, startDemoStack, type DemoStack } from "../../scripts/demo/startDemoStack.js";
import {
  directoryEvidenceSource,
  relayerEvidenceSource,
  savingEvidenceSource,
} from "../../src/auditor/evidenceSource.js";
import { runAudit, type AuditResult, type Discrepancy } from "../../src/auditor/runAudit.js";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { createLogRange } from "../../src/chain/createLogRange.js";
import { ActionKind } from "../../src/core/kinds.js";
import { encodePackedActions, groupByAccount } from "../../src/core/packedActions.js";
import { postIdFor } from "../../src/core/postId.js";
import { hardhatAccount } from "../../src/devnet/startHardhatNode.js";

interface EvidenceFile {
  envelopes: Array<{ nonce: string; signature: `0x${string}`; digest: `0x${string}`; eventHashes: string[] }>;
  events: Array<{
    leafIndex: number;
    envelopeNonce: string;
    envelopeIndex: number;
    event: { eventId: string; secondsRead?: number };
  }>;
}

/** Moves the events to the positions `order` gives (position i gets the event at order[i]) and renumbers leafIndex. */
/** The batches' evidence files of a directory, in batch order (the policies/ beside them left out). */
const batchFiles = async (dir: string) =>
  (await readdir(dir)).filter((name) => /^\d+\.json$/.test(name)).sort((a, b) => parseInt(a) - parseInt(b));

const reorder = (file: EvidenceFile, order: readonly number[]) => {
  file.events = order.map((from, leafIndex) => ({
    ...(file.events[from] as EvidenceFile["events"][number]),
    leafIndex,
  }));
};

describe("auditor: catches and names tampered evidence", function () {
  this.timeout(120_000);
  let dir: string;
  let clean: string;
  let stack: DemoStack;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), "twei-audit-"));
    stack = await startDemoStack({ dataDir: join(dir, "data"), deploymentsRoot: dir });
    await playDemoScenario(stack);
    clean = join(dir, "clean");
    // A clean audit, downloading the evidence from the relayer into a directory to tamper with.
    const result = await runAudit({
      publicClient: stack.publicClient,
      deployment: stack.deployment,
      evidence: savingEvidenceSource(relayerEvidenceSource(stack.relayerUrl), clean),
    });
    expect(result.discrepancies).to.deep.equal([]);
  });

  after(async function () {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Copies the clean evidence, lets `edit` change the file holding `eventId`, and audits the copy. */
  async function auditTampered(
    name: string,
    eventId: string,
    edit: (file: EvidenceFile) => Promise<void> | void,
  ): Promise<{ result: AuditResult; batchId: string; evidenceDir: string }> {
    const evidenceDir = join(dir, name);
    await cp(clean, evidenceDir, { recursive: true });
    for (const file of await batchFiles(evidenceDir)) {
      const path = join(evidenceDir, file);
      const evidence = JSON.parse(await readFile(path, "utf8")) as EvidenceFile;
      if (!evidence.events.some((e) => e.event.eventId === eventId)) continue;
      await edit(evidence);
      await writeFile(path, JSON.stringify(evidence, null, 2));
      const result = await runAudit({
        publicClient: stack.publicClient,
        deployment: stack.deployment,
        evidence: directoryEvidenceSource(evidenceDir),
      });
      return { result, batchId: file.replace(/\.json$/, ""), evidenceDir };
    }
    throw new Error(`no evidence file holds ${eventId}`);
  }

  const codes = (found: readonly Discrepancy[]) => [...new Set(found.map((d) => d.code))].sort();

  it("an edited event: its hash, the merkle root and the actions no longer match", async function () {
    const { result, batchId } = await auditTampered("edited", "read-r3", (file) => {
      const read = file.events.find((e) => e.event.eventId === "read-r3");
      if (read) read.event.secondsRead = 64; // claims a full read instead of half
    });
    expect(result.ok).to.equal(false);
    expect(result.discrepancies.every((d) => d.batchId === batchId)).to.equal(true);
    expect(codes(result.discrepancies)).to.deep.equal([
      "event_hash_mismatch",
      "missing_action",
      "root_mismatch",
      "unexplained_action",
    ]);
    const missing = result.discrepancies.find((d) => d.code === "missing_action");
    expect(missing?.where).to.equal("event read-r3");
    expect(missing?.expected).to.include("Read-to-Earn ×10000").and.include(addressOf("r3"));
    const unexplained = result.discrepancies.find((d) => d.code === "unexplained_action");
    expect(unexplained?.found).to.include("Read-to-Earn ×5000").and.include(addressOf("r3"));
    expect(result.discrepancies.find((d) => d.code === "event_hash_mismatch")?.where).to.include("read-r3");
  });

  it("a forged site signature: signed by a key that is not the site's registered signer", async function () {
    const forger = privateKeyToAccount(generatePrivateKey());
    const { result, batchId } = await auditTampered("forged", "comment-c-africa", async (file) => {
      const envelope = file.envelopes[0];
      if (envelope) envelope.signature = await forger.sign({ hash: envelope.digest });
    });
    expect(codes(result.discrepancies)).to.deep.equal(["signature_invalid"]);
    const [forged] = result.discrepancies;
    expect(forged?.batchId).to.equal(batchId);
    expect(forged?.what).to.include(`signed by ${forger.address}`).and.include(stack.siteSigner.address);
  });

  it("the site's own signature in another byte form: its high-s twin is signature_invalid (the relayer refuses it too); v as the bare parity holds", async function () {
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const twin = await auditTampered("high-s", "comment-c-africa", (file) => {
      const envelope = file.envelopes[0];
      if (!envelope) return;
      const s = BigInt(`0x${envelope.signature.slice(66, 130)}`);
      const v = envelope.signature.slice(130) === "1b" ? "1c" : "1b";
      envelope.signature = `0x${envelope.signature.slice(2, 66)}${(n - s).toString(16).padStart(64, "0")}${v}`;
    });
    expect(codes(twin.result.discrepancies)).to.deep.equal(["signature_invalid"]);
    expect(twin.result.discrepancies[0]?.what).to.include("upper half of the curve's order");
    const bare = await auditTampered("bare-v", "comment-c-africa", (file) => {
      const envelope = file.envelopes[0];
      if (envelope)
        envelope.signature = `0x${envelope.signature.slice(2, 130)}${envelope.signature.slice(130) === "1b" ? "00" : "01"}`;
    });
    expect(bare.result.discrepancies).to.deep.equal([]);
  });

  it("an event dropped from a batch: the root differs and the chain's action is unexplained", async function () {
    const { result } = await auditTampered("dropped", "read-r2", (file) => {
      file.events = file.events
        .filter((e) => e.event.eventId !== "read-r2")
        .map((e, leafIndex) => ({ ...e, leafIndex }));
    });
    expect(codes(result.discrepancies)).to.deep.equal(["event_dropped", "root_mismatch", "unexplained_action"]);
    const unexplained = result.discrepancies.filter((d) => d.code === "unexplained_action");
    const read = unexplained.filter((d) => d.found.includes("Read-to-Earn"));
    expect(read).to.have.length(1);
    expect(read[0]?.found).to.include("Read-to-Earn ×7500").and.include(addressOf("r2"));
    // Without the read, r2's votes pay nobody under rules version 3: what the chain paid for
    // them is named with the rule (src/rules/evaluateEvent.ts, vote_not_earning).
    const votes = unexplained.filter((d) => !d.found.includes("Read-to-Earn"));
    expect(votes.map((d) => d.found.split(" ×")[0])).to.deep.equal([
      "Earned for Pluses",
      "Likes Own",
      "Likes Commenter",
      "Likes Author",
    ]);
    for (const vote of votes)
      expect(vote.what).to.include("vote_not_earning").and.include(addressOf("r2").toLowerCase());
    expect(result.discrepancies.some((d) => d.code === "event_dropped")).to.equal(true);
  });

  it("replayed one block at a time (each eth_getLogs answer a chunk of its own), the audit finds exactly what one read finds", async function () {
    // The auditor replays the history chunk by chunk and keeps nothing of a chunk: the registry,
    // the rule schedule, the rules states, the replay gaps and the transfers carry across chunks.
    const { evidenceDir } = await auditTampered("chunked", "read-r2", (file) => {
      file.events = file.events
        .filter((e) => e.event.eventId !== "read-r2")
        .map((e, leafIndex) => ({ ...e, leafIndex }));
    });
    const last = (await batchFiles(evidenceDir)).at(-1);
    await rm(join(evidenceDir, last as string));
    const whole = await runAudit({
      publicClient: stack.publicClient,
      deployment: stack.deployment,
      evidence: directoryEvidenceSource(evidenceDir),
    });
    expect(codes(whole.discrepancies)).to.include.members(["root_mismatch", "unbacked_batch"]);
    const byBlock = await runAudit({
      publicClient: stack.publicClient,
      deployment: stack.deployment,
      evidence: directoryEvidenceSource(evidenceDir),
      logRange: createLogRange({ max: 1n }),
    });
    expect(byBlock.discrepancies).to.deep.equal(whole.discrepancies);
    expect(byBlock.summary).to.deep.equal(whole.summary);
  });

  it("a sibling swap (leaves 0 and 1, leafIndex renumbered) is named as a reordering, not blamed on the chain", async function () {
    const { result, batchId } = await auditTampered("sibling-swap", "read-r1", (file) =>
      reorder(
        file,
        file.events.map((_, i) => (i === 0 ? 1 : i === 1 ? 0 : i)),
      ),
    );
    expect(result.discrepancies.every((d) => d.batchId === batchId)).to.equal(true);
    expect(codes(result.discrepancies)).to.deep.equal(["evidence_reordered", "root_mismatch"]);
    const reordered = result.discrepancies.find((d) => d.code === "evidence_reordered");
    expect(reordered?.where).to.equal("leaves 0, 1");
    expect(reordered?.what)
      .to.include("leaf 0 holds read-r2")
      .and.include("which belongs at leaf 1")
      .and.include("the evidence was reordered");
    expect(reordered?.expected).to.include("0: read-r1");
    expect(reordered?.found).to.include("0: read-r2");
  });

  it("a subtree swap (leaves 0-1 with 2-3, leafIndex renumbered) is named as a reordering", async function () {
    const { result, batchId } = await auditTampered("subtree-swap", "read-r1", (file) =>
      reorder(file, [2, 3, 0, 1, ...[...file.events.keys()].slice(4)]),
    );
    expect(result.discrepancies.every((d) => d.batchId === batchId)).to.equal(true);
    expect(codes(result.discrepancies)).to.deep.equal(["evidence_reordered", "root_mismatch"]);
    const reordered = result.discrepancies.find((d) => d.code === "evidence_reordered");
    expect(reordered?.where).to.equal("leaves 0, 1, 2, 3");
    expect(reordered?.what).to.include("leaf 0 holds read-r3").and.include("which belongs at leaf 2");
  });

  it("malformed evidence files are discrepancies of their batches, and every other batch is still checked", async function () {
    const evidenceDir = join(dir, "malformed");
    await cp(clean, evidenceDir, { recursive: true });
    const files = await batchFiles(evidenceDir);
    const edit = async (file: string, change: (text: string) => string) => {
      const path = join(evidenceDir, file);
      await writeFile(path, change(await readFile(path, "utf8")));
    };
    const [launchReads, likes, report] = [files[1], files[5], files[6]] as [string, string, string];
    // An index beyond uint16, a nonce beyond uint64, a file that is not JSON.
    await edit(launchReads, (text) => {
      const file = JSON.parse(text) as EvidenceFile;
      (file.events[2] as { envelopeIndex: number }).envelopeIndex = 70_000;
      return JSON.stringify(file);
    });
    await edit(likes, (text) => {
      const file = JSON.parse(text) as EvidenceFile;
      const huge = (2n ** 64n + 1n).toString();
      (file.envelopes[0] as { nonce: string }).nonce = huge;
      for (const event of file.events) event.envelopeNonce = huge;
      return JSON.stringify(file);
    });
    await edit(report, (text) => text.slice(0, text.length / 2));
    const result = await runAudit({
      publicClient: stack.publicClient,
      deployment: stack.deployment,
      evidence: directoryEvidenceSource(evidenceDir),
    });
    const id = (file: string) => file.replace(/\.json$/, "");
    // One row per file, however many of its numbers are bad: the JSON paths are listed.
    const nonces = Array.from({ length: 7 }, (_, i) => `$.events[${i}].envelopeNonce`);
    expect(result.discrepancies.map((d) => [d.code, d.batchId, d.where])).to.deep.equal([
      ["evidence_malformed", id(launchReads), `${join(evidenceDir, launchReads)} $.events[2].envelopeIndex`],
      [
        "evidence_malformed",
        id(likes),
        `${join(evidenceDir, likes)} ${["$.envelopes[0].nonce", ...nonces].join(", ")}`,
      ],
      ["evidence_malformed", id(report), `${join(evidenceDir, report)} $`],
    ]);
    expect(result.discrepancies[0]?.found).to.equal("70000");
    expect(result.discrepancies[1]?.what).to.match(/^8 schema problems: \$\.envelopes\[0\]\.nonce: above uint64; /);
    expect(result.discrepancies.at(-1)?.what).to.include("is not valid JSON");
    // The other four batches were checked in full.
    expect(result.summary.batches).to.equal(7);
    expect(result.summary.batchesWithEvidence).to.equal(4);
  });

  it("a batch without evidence, and the CLI's exit code and table", async function () {
    const evidenceDir = join(dir, "missing");
    await cp(clean, evidenceDir, { recursive: true });
    // The last batch (the report purchase): no later event depends on it.
    const last = (await batchFiles(evidenceDir)).at(-1);
    await rm(join(evidenceDir, last as string));
    const cli = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn(
        join(process.cwd(), "node_modules/.bin/tsx"),
        [
          "src/auditor/main.ts",
          "--deployments-root",
          dir,
          "--rpc",
          stack.node.url,
          "--evidence-dir",
          evidenceDir,
          "--unbacked-after",
          "0",
          "--quiet",
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      let stdout = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.once("error", reject);
      child.once("exit", (code) => resolve({ code, stdout }));
    });
    expect(cli.code).to.equal(1);
    expect(cli.stdout).to.include("[unbacked_batch]").and.include("FAILED: 1 discrepancies");
  });

  // The tests below change the chain, so they run last, in this order.

  it("checks each batch against the signer registered when it settled, not today's", async function () {
    const admin = createWalletClient({
      chain: stack.chain,
      transport: http(stack.node.url),
      account: hardhatAccount(DEMO_ROLES.admin),
    });
    const hash = await admin.writeContract({
      address: stack.deployment.ledger,
      abi: tweiLedgerAbi,
      functionName: "setSiteSigner",
      args: [DEMO_SITE_ID, privateKeyToAccount(generatePrivateKey()).address],
    });
    await stack.publicClient.waitForTransactionReceipt({ hash });
    const result = await runAudit({
      publicClient: stack.publicClient,
      deployment: stack.deployment,
      evidence: directoryEvidenceSource(clean),
    });
    expect(result.discrepancies).to.deep.equal([]);
  });

  it("a batch settled straight on the ledger (a stolen relayer key) is unbacked, naming what it minted and burned from whom", async function () {
    const rogue = createWalletClient({
      chain: stack.chain,
      transport: http(stack.node.url),
      account: hardhatAccount(DEMO_ROLES.relayer),
    });
    const packed = encodePackedActions({
      posts: [],
      groups: groupByAccount([
        {
          account: addressOf("r6"),
          kind: ActionKind.ReadToEarn,
          units: 10_000,
          postId: postIdFor(DEMO_SITE_ID, ARTICLE.sitePostId),
        },
        {
          account: addressOf("r3"),
          kind: ActionKind.PnLReports,
          units: 1,
          postId: postIdFor(DEMO_SITE_ID, ARTICLE.sitePostId),
        },
      ]),
    });
    const batchId = 2n ** 63n;
    const hash = await rogue.writeContract({
      address: stack.deployment.ledger,
      abi: tweiLedgerAbi,
      functionName: "settle",
      args: [batchId, DEMO_SITE_ID, 2, `0x${"ab".repeat(32)}`, packed],
    });
    await stack.publicClient.waitForTransactionReceipt({ hash });
    const result = await runAudit({
      publicClient: stack.publicClient,
      deployment: stack.deployment,
      evidence: directoryEvidenceSource(clean),
    });
    // The mint itself is consistent (supply and balances agree): what is missing is its evidence.
    expect(result.discrepancies.map((d) => [d.code, d.batchId])).to.deep.equal([
      ["unbacked_batch", batchId.toString()],
    ]);
    expect(result.discrepancies[0]?.what)
      .to.include(`a batch that minted 1 Twei (to ${addressOf("r6")}: 1 Twei)`)
      .and.match(new RegExp(`and burned [1-9][0-9.]* Twei \\(from ${addressOf("r3")}: `));
  });
});
