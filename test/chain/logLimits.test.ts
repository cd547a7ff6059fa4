import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import { createPublicClient, createWalletClient, http, keccak256, toHex, type Address, type PublicClient } from "viem";
import { hardhat } from "viem/chains";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { deployTwei, type DeployerClient } from "../../src/chain/deployTwei.js";
import { writeDeployment } from "../../src/chain/deployments.js";
import { waitForSuccess } from "../../src/chain/waitForSuccess.js";
import { createAuditor } from "../../src/auditor/createAuditor.js";
import type { EvidenceSource } from "../../src/auditor/evidenceSource.js";
import { runAudit } from "../../src/auditor/runAudit.js";
import { followAudit, type WatchEvent } from "../../src/auditor/watch/followAudit.js";
import { createLogRange } from "../../src/chain/createLogRange.js";
import { ActionKind } from "../../src/core/kinds.js";
import { encodePackedActions, groupByAccount, type AccountAction } from "../../src/core/packedActions.js";
import { hardhatAccount, startHardhatNode, type HardhatNode } from "../../src/devnet/startHardhatNode.js";
import { createIndexer } from "../../src/indexer/createIndexer.js";
import { buildPostReport } from "../../src/indexer/reports/buildPostReport.js";
import { canonicalReportJson } from "../../src/indexer/reports/canonicalReport.js";
import { recomputePostReport } from "../../src/indexer/reports/recomputePostReport.js";

const BATCHES = 12;
const ACCOUNTS = 25;
const ACTIONS_PER_ACCOUNT = 4;
const SITE = 1;
const POST = 1n;
/**
 * Small enough that a dozen blocks' logs of the ledger alone, or of the token alone, pass it
 * (about 9 KB and 10 KB a block), large enough for the logs of one block of both (about 19 KB).
 */
const MAX_BODY = 60_000;
const MAX_RESULTS = 250;
const MAX_BLOCKS = 3n;

/** How the proxy (or the client) refuses a log query, each as some RPC provider words it. */
type Limit =
  | "viem-response-size" // viem's own maxResponseBodySize (10 MB by default): the reported failure
  | "provider-response-size" // a provider that refuses answers over N bytes
  | "max-results" // "query returned more than 10000 results" (Infura, geth-like)
  | "block-range"; // "block range too large" (a fixed span)

/**
 * A real HTTP proxy in front of the node that refuses eth_getLogs answers as providers do:
 * by the answer's size, its number of logs or its block span (the node answers in full; the
 * proxy looks at the answer before passing it on).
 */
async function startLimitingProxy(target: string, limit: Limit) {
  const refused = { count: 0 };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const call = JSON.parse(body) as { id: number; method: string; params: { fromBlock: string; toBlock: string }[] };
    const upstream = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body });
    const text = await upstream.text();
    const refuse = (code: number, message: string) => {
      refused.count++;
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ jsonrpc: "2.0", id: call.id, error: { code, message } }));
    };
    if (call.method === "eth_getLogs") {
      const filter = call.params[0] as { fromBlock: string; toBlock: string };
      const logs = (JSON.parse(text) as { result?: unknown[] }).result ?? [];
      // viem refuses it itself (maxResponseBodySize): count what it will refuse.
      if (limit === "viem-response-size" && text.length > MAX_BODY) refused.count++;
      if (limit === "provider-response-size" && text.length > MAX_BODY)
        return refuse(-32000, `response size exceeded: ${text.length} bytes is over the ${MAX_BODY} limit`);
      if (limit === "max-results" && logs.length > MAX_RESULTS)
        return refuse(-32005, `query returned more than ${MAX_RESULTS} results`);
      if (limit === "block-range" && BigInt(filter.toBlock) - BigInt(filter.fromBlock) + 1n > MAX_BLOCKS)
        return refuse(-32602, `block range too large: the maximum is ${MAX_BLOCKS} blocks`);
    }
    res.writeHead(upstream.status, { "content-type": "application/json" }).end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    refused,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const addressOf = (i: number) => keccak256(toHex(`log limits participant ${i}`)).slice(0, 42) as Address;
const noEvidence: EvidenceSource = async () => ({ found: false, kind: "missing", reason: "none", from: "test" });

describe("every log reader gets through an RPC that refuses large eth_getLogs answers", function () {
  let node: HardhatNode;
  let dir: string;
  let deployment: { chainId: number; ledger: Address; token: Address; deploymentBlock: bigint };
  let head: bigint;
  let actionCount = 0;

  before(async function () {
    node = await startHardhatNode();
    dir = await mkdtemp(join(tmpdir(), "twei-log-limits-"));
    const chain = { ...hardhat, rpcUrls: { default: { http: [node.url] } } };
    const publicClient = createPublicClient({ chain, transport: http(node.url) }) as PublicClient;
    const admin = createWalletClient({ chain, transport: http(node.url), account: hardhatAccount(0) });
    const relayer = createWalletClient({ chain, transport: http(node.url), account: hardhatAccount(1) });
    const deployed = await deployTwei({
      publicClient,
      walletClient: admin as unknown as DeployerClient,
      relayer: relayer.account.address,
      emissionCap: 10n ** 30n,
      burnCap: 10n ** 30n,
    });
    const wait = (hash: `0x${string}`) => waitForSuccess(publicClient, hash);
    await wait(
      await admin.writeContract({
        address: deployed.ledger,
        abi: tweiLedgerAbi,
        functionName: "registerSite",
        args: [SITE, hardhatAccount(2).address, 10n ** 30n, 10n ** 30n],
      }),
    );
    // Each batch is one block with about 60 KB of logs: twelve together pass every limit above.
    for (let b = 0; b < BATCHES; b++) {
      const actions: AccountAction[] = [];
      for (let a = 0; a < ACCOUNTS; a++)
        for (let k = 0; k < ACTIONS_PER_ACCOUNT; k++)
          actions.push({
            account: addressOf(b * ACCOUNTS + a),
            kind: k === 0 ? ActionKind.ReadToEarn : ActionKind.LikesOwn,
            units: k === 0 ? 5_000 : 1,
            postId: k === 0 ? POST : 2n,
          });
      const posts =
        b === 0
          ? [
              { postId: POST, author: addressOf(100_000) },
              { postId: 2n, author: addressOf(100_001) },
            ]
          : [];
      await wait(
        await relayer.writeContract({
          address: deployed.ledger,
          abi: tweiLedgerAbi,
          functionName: "settle",
          args: [
            BigInt(b + 1),
            SITE,
            1,
            keccak256(toHex(`batch ${b}`)),
            encodePackedActions({ posts, groups: groupByAccount(actions) }),
          ],
          gas: 16_000_000n,
        }),
      );
      actionCount += actions.length;
    }
    head = await publicClient.getBlockNumber();
    deployment = {
      chainId: await publicClient.getChainId(),
      ledger: deployed.ledger,
      token: deployed.token,
      deploymentBlock: deployed.deploymentBlock,
    };
    await writeDeployment(
      {
        network: "limited",
        ...deployment,
        abiHash: deployed.abiHash,
        deployer: admin.account.address,
        deployedAt: new Date().toISOString(),
      },
      dir,
    );
  });

  after(async function () {
    await node?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const limit of ["viem-response-size", "provider-response-size", "max-results", "block-range"] as const)
    describe(`limit: ${limit}`, function () {
      let proxy: Awaited<ReturnType<typeof startLimitingProxy>>;
      let client: PublicClient;

      before(async function () {
        proxy = await startLimitingProxy(node.url, limit);
        client = createPublicClient({
          transport: http(proxy.url, {
            retryCount: 0,
            ...(limit === "viem-response-size" ? { maxResponseBodySize: MAX_BODY } : {}),
          }),
        }) as PublicClient;
      });

      after(async function () {
        await proxy?.close();
      });

      it("the auditor reads every batch", async function () {
        const { summary, discrepancies } = await runAudit({ publicClient: client, deployment, evidence: noEvidence });
        expect(summary.toBlock).to.equal(head);
        expect(summary.batches).to.equal(BATCHES);
        expect(summary.actions).to.equal(actionCount);
        expect(new Set(discrepancies.map((d) => d.code))).to.deep.equal(new Set(["unbacked_batch"]));
        expect(proxy.refused.count).to.be.greaterThan(0);
      });

      it("the watchtower follows to the head without chain_unreadable", async function () {
        const events: WatchEvent[] = [];
        const logRange = createLogRange();
        const follower = await followAudit({
          publicClient: client,
          createAuditor: () => createAuditor({ publicClient: client, deployment, evidence: noEvidence, logRange }),
          confirmations: 0,
          pollMs: 50,
          emit: (event) => events.push(event),
        });
        const deadline = Date.now() + 60_000;
        while (!events.some((e) => e.type === "audited") && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 50));
        await follower.stop();
        expect(events.filter((e) => e.type === "chain_unreadable")).to.deep.equal([]);
        const audited = events.find((e) => e.type === "audited");
        expect(audited).to.include({ toBlock: head.toString(), batches: BATCHES });
      });

      it("a fresh indexer syncs to the head, and its report matches one recomputed from the chain", async function () {
        const indexer = createIndexer({ client, deployment, retry: { retries: 2, baseDelayMs: 10, maxDelayMs: 50 } });
        try {
          const reached = await indexer.syncOnce();
          expect(reached?.number).to.equal(head);
          const fromChain = await recomputePostReport({ client, deployment, postId: POST, blockNumber: head });
          const indexed = await buildPostReport(indexer.store, { postId: POST });
          expect(canonicalReportJson(indexed)).to.equal(canonicalReportJson(fromChain));
          expect(fromChain.participants).to.equal(BATCHES * ACCOUNTS);
        } finally {
          await indexer.close();
        }
      });
    });

  it("npm run audit gets through a provider's result limit (exits 1 for the missing evidence, not 3)", async function () {
    const proxy = await startLimitingProxy(node.url, "max-results");
    try {
      await mkdir(join(dir, "evidence"), { recursive: true });
      const child = spawn(
        join(process.cwd(), "node_modules/.bin/tsx"),
        [
          "src/auditor/main.ts",
          "--network",
          "limited",
          "--deployments-root",
          dir,
          "--rpc",
          proxy.url,
          "--evidence-dir",
          join(dir, "evidence"),
          "--json",
          "--quiet",
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect(stderr).to.equal("");
      expect(code).to.equal(1);
      const result = JSON.parse(stdout) as { summary: { batches: number; actions: number } };
      expect(result.summary).to.include({ batches: BATCHES, actions: actionCount });
      expect(proxy.refused.count).to.be.greaterThan(0);
    } finally {
      await proxy.close();
    }
  });
});
