import { expect } from "chai";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import { parseUnits, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createSettledEvents } from "../../src/auditor/checkReplays.js";
import type { Discrepancy } from "../../src/auditor/discrepancy.js";
import {
  directoryEvidenceSource,
  relayerEvidenceSource,
  savingEvidenceSource,
} from "../../src/auditor/evidenceSource.js";
import type { SettledBatchLog } from "../../src/auditor/readLedgerHistory.js";
import { runAudit } from "../../src/auditor/runAudit.js";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { waitForSuccess } from "../../src/chain/waitForSuccess.js";
import type { BatchEvidence } from "../../src/evidence/batchEvidence.js";
import { publishEvent, readEvent } from "../relayer/helpers/siteEvents.js";
import { CHAIN_ID, startTestChain, type TestChain, FREE_PUBLISHING_AMOUNTS } from "../relayer/helpers/testChain.js";
import {
  addSite,
  clientFor,
  removeDir,
  startTestRelayer,
  tempDir,
  waitFor,
  type TestSite,
} from "../relayer/helpers/testRelayer.js";

const SITE = 41;
const twei = (value: string) => parseUnits(value, 18);

describe("auditor: a signed event settled twice is event_replayed", function () {
  this.timeout(120_000);
  let chain: TestChain;
  let dir: string;
  let site: TestSite;
  let stopRelayer: (() => Promise<void>) | undefined;
  let evidenceDir: string;
  let relayerUrl: string;
  let purchaseBatch: bigint;
  const buyerOf = () => chain.user(1);
  const deployment = () => ({
    chainId: CHAIN_ID,
    ledger: chain.deployed.ledger,
    token: chain.deployed.token,
    deploymentBlock: chain.deployed.deploymentBlock,
  });

  before(async function () {
    // Publishing is free (as under the launch rules), so nothing but the relayer's batches settles.
    chain = await startTestChain({
      ruleAmounts: FREE_PUBLISHING_AMOUNTS,
    });
    dir = await tempDir("replayed");
    site = await addSite(chain, dir, SITE);
    const relayer = await startTestRelayer(chain, dir);
    relayerUrl = relayer.url;
    stopRelayer = async () => {
      stopRelayer = undefined;
      await relayer.stop();
    };
    const client = clientFor(chain, relayer.url, site);
    const author = chain.user(0).address;
    const buyer = buyerOf();
    await chain.approveLedger(buyer);
    // The buyer earns 2 Twei reading two posts, then buys one report (1 Twei), in a batch of its own.
    await client.sendEvents([
      publishEvent("pub-1", author, "p1"),
      publishEvent("pub-2", author, "p2"),
      readEvent("read-1", buyer.address, "p1"),
      readEvent("read-2", buyer.address, "p2"),
    ]);
    await waitFor("the reads settled", async () =>
      (await client.event("read-2")).status === "settled" ? true : undefined,
    );
    await client.sendEvents([
      { eventId: "buy-1", type: "report_purchased", occurredAt: 3, user: buyer.address, postId: "p1" },
    ]);
    const settled = await waitFor("the purchase settled", async () => {
      const event = await client.event("buy-1");
      return event.status === "settled" ? event : undefined;
    });
    purchaseBatch = BigInt(settled.batchId as string);
    expect(await chain.balanceOf(buyer.address)).to.equal(twei("1"));
    evidenceDir = join(dir, "evidence");
    await mkdir(evidenceDir);
  });

  after(async function () {
    await stopRelayer?.();
    await chain?.stop();
    if (dir) await removeDir(dir);
  });

  it("a clean chain: every event settled once, no discrepancy", async function () {
    const result = await runAudit({
      publicClient: chain.publicClient,
      deployment: deployment(),
      evidence: savingEvidenceSource(relayerEvidenceSource(relayerUrl), evidenceDir),
    });
    expect(result.discrepancies).to.deep.equal([]);
    expect(result.summary.events).to.equal(5);
  });

  it("the relayer's key settles the same signed purchase again under a new batch id: event_replayed, and nothing else differs", async function () {
    await stopRelayer?.();
    const original = JSON.parse(await readFile(join(evidenceDir, `${purchaseBatch}.json`), "utf8")) as BatchEvidence;
    const [log] = await chain.publicClient.getContractEvents({
      address: chain.deployed.ledger,
      abi: tweiLedgerAbi,
      eventName: "BatchSettled",
      args: { batchId: purchaseBatch },
      fromBlock: chain.deployed.deploymentBlock,
    });
    const { ruleSetVersion, evidenceRoot, actions } = log?.args ?? {};
    // Same root, same actions, same signed envelope: only the batch id is new.
    const replayId = 2n ** 62n + 7n;
    const relayerWallet = chain.walletOf(privateKeyToAccount(chain.relayerKey));
    await waitForSuccess(
      chain.publicClient,
      await relayerWallet.writeContract({
        address: chain.deployed.ledger,
        abi: tweiLedgerAbi,
        functionName: "settle",
        args: [replayId, SITE, ruleSetVersion as number, evidenceRoot as Hex, actions as Hex],
        chain: chain.chain,
      }),
    );
    await writeFile(
      join(evidenceDir, `${replayId}.json`),
      JSON.stringify({ ...original, batchId: replayId.toString() }, null, 2),
    );
    expect(await chain.balanceOf(buyerOf().address)).to.equal(0n); // burned twice for one purchase

    const result = await runAudit({
      publicClient: chain.publicClient,
      deployment: deployment(),
      evidence: directoryEvidenceSource(evidenceDir),
    });
    expect(result.discrepancies.map((d) => [d.code, d.batchId, d.where])).to.deep.equal([
      ["event_replayed", replayId.toString(), "event buy-1"],
    ]);
    const replayed = result.discrepancies[0] as Discrepancy;
    expect(replayed.expected).to.equal(`settled once, in batch ${purchaseBatch}`);
    expect(replayed.found).to.equal(`settled again in batch ${replayId}`);
  });

  describe("envelope nonces (pure)", function () {
    const batch = (batchId: bigint) => ({ batchId, siteId: SITE }) as SettledBatchLog;
    const digest = (byte: string) => `0x${byte.repeat(32)}` as Hex;
    const evidence = (nonce: string, envelopeDigest: Hex, eventIds: readonly string[]) =>
      ({
        envelopes: [{ nonce, digest: envelopeDigest }],
        events: eventIds.map((eventId) => ({ event: { eventId } })),
      }) as unknown as BatchEvidence;
    const check = (...batches: [bigint, BatchEvidence][]) => {
      const settled = createSettledEvents();
      const found: string[][] = [];
      for (const [id, file] of batches)
        settled.check(batch(id), file, (code, where) => found.push([code, id.toString(), where]));
      return found;
    };

    it("one envelope split over two batches is no repeat; a nonce that signed other events is", function () {
      expect(
        check([1n, evidence("5", digest("aa"), ["a", "b"])], [2n, evidence("5", digest("aa"), ["c"])]),
      ).to.deep.equal([]);
      expect(check([1n, evidence("5", digest("aa"), ["a"])], [2n, evidence("5", digest("bb"), ["c"])])).to.deep.equal([
        ["event_replayed", "2", "envelope 5"],
      ]);
    });

    it("an event id twice, in one batch or in two, whatever envelope carries it", function () {
      expect(check([1n, evidence("5", digest("aa"), ["a", "a"])])).to.deep.equal([["event_replayed", "1", "event a"]]);
      expect(check([1n, evidence("5", digest("aa"), ["a"])], [2n, evidence("6", digest("bb"), ["a"])])).to.deep.equal([
        ["event_replayed", "2", "event a"],
      ]);
      // Another site's event of the same id is its own.
      const settled = createSettledEvents();
      const found: string[] = [];
      settled.check(batch(1n), evidence("5", digest("aa"), ["a"]), (code) => found.push(code));
      settled.check({ ...batch(2n), siteId: SITE + 1 }, evidence("5", digest("bb"), ["a"]), (code) => found.push(code));
      expect(found).to.deep.equal([]);
    });
  });
});
