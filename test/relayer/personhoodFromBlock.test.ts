import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "mocha";
import { numberToHex, type Address, type Hex } from "viem";
import { deployEas, type DeployEasReturnType } from "../../src/chain/deployEas.js";
import type { DeployerClient } from "../../src/chain/deployTwei.js";
import { attestPersonhood } from "../../src/chain/personhoodAttestation.js";
import { ActionKind } from "../../src/core/kinds.js";
import { personhoodFromBlockFrom } from "../../src/relayer/config.js";
import { DEFAULT_POLICY, type PersonhoodPolicy, type RulePolicy } from "../../src/rules/policy.js";
import { publishEvent, readEvent } from "./helpers/siteEvents.js";
import { startTestChain, type TestChain } from "./helpers/testChain.js";
import {
  addSite,
  clientFor,
  removeDir,
  startTestRelayer,
  tempDir,
  waitFor,
  type TestSite,
} from "./helpers/testRelayer.js";

// Proof of personhood at production scale (issue 22, part 3): EAS was deployed long after block 0,
// and the relayer's personhood index starts at EAS's recorded block (RELAYER_PERSONHOOD_FROM_BLOCK,
// or the deployment file's eas.deployedAtBlock), never reading the logs of the history before it.
const SITE = 23;
/** Blocks mined before EAS is deployed (a live chain's history, short). */
const HISTORY = 20_000;

/** A real HTTP proxy in front of the node that records the block range of each eth_getLogs on `address`. */
async function startLogCountingProxy(target: string, address: Address) {
  const ranges: { fromBlock: bigint; toBlock: bigint }[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const calls = [JSON.parse(body)].flat() as { method: string; params?: unknown[] }[];
    for (const { method, params } of calls) {
      const filter = params?.[0] as { address?: string; fromBlock: Hex; toBlock: Hex } | undefined;
      if (method === "eth_getLogs" && filter?.address?.toLowerCase() === address.toLowerCase())
        ranges.push({ fromBlock: BigInt(filter.fromBlock), toBlock: BigInt(filter.toBlock) });
    }
    try {
      const upstream = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body });
      res.writeHead(upstream.status, { "content-type": "application/json" }).end(await upstream.text());
    } catch {
      res.writeHead(502).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ranges,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("relayer: the personhood index starts at the block EAS was deployed in", function () {
  this.timeout(180_000);
  let chain: TestChain;
  let dir: string;
  let easDeployed: DeployEasReturnType;
  let policy: PersonhoodPolicy;
  let sitePolicy: RulePolicy;
  let attester: DeployerClient;
  let site: TestSite;
  let proxy: Awaited<ReturnType<typeof startLogCountingProxy>>;
  let stopRelayer: (() => Promise<void>) | undefined;

  before(async function () {
    chain = await startTestChain();
    dir = await tempDir("personhood-from-block");
    await chain.publicClient.request({ method: "hardhat_mine", params: [numberToHex(HISTORY)] } as never);
    easDeployed = await deployEas({
      publicClient: chain.publicClient,
      walletClient: chain.admin as unknown as DeployerClient,
    });
    attester = chain.walletOf(chain.user(9)) as unknown as DeployerClient;
    policy = { eas: easDeployed.eas, schema: easDeployed.personhoodSchema, attesters: [attester.account.address] };
    sitePolicy = { ...DEFAULT_POLICY, personhood: policy };
    site = await addSite(chain, dir, SITE, { policy: sitePolicy });
    await chain.seed(SITE, [{ account: chain.user(0).address, kind: ActionKind.CommentRewards, units: 10 }]);
    await chain.approveLedger(chain.user(0));
    proxy = await startLogCountingProxy(chain.node.url, easDeployed.eas);
  });

  after(async function () {
    await stopRelayer?.();
    await proxy?.stop();
    await chain?.stop();
    await removeDir(dir);
  });

  it(`reads no Attested log below EAS's block after ${HISTORY} blocks of history, and finds attestations made before and after it started`, async function () {
    const [author, early, late] = [0, 1, 2].map((i) => chain.user(i).address) as [Hex, Hex, Hex];
    const { publicClient } = chain;
    await attestPersonhood({ publicClient, walletClient: attester, policy, recipient: early });
    // What the relayer's main.ts does with RELAYER_PERSONHOOD_FROM_BLOCK unset: the deployment
    // file records EAS and its block, and the policy names that EAS.
    const fromBlock = personhoodFromBlockFrom({}, { eas: easDeployed }, policy);
    expect(fromBlock).to.equal(easDeployed.deployedAtBlock);
    expect(fromBlock > BigInt(HISTORY)).to.equal(true);
    // deployEas's block is the one EAS's code appeared in.
    const code = (blockNumber: bigint) => publicClient.getCode({ address: easDeployed.eas, blockNumber });
    expect(await code(fromBlock - 1n)).to.equal(undefined);
    expect((await code(fromBlock))?.length).to.be.greaterThan(2);

    const relayer = await startTestRelayer(chain, dir, {
      rpcUrl: proxy.url,
      policy: sitePolicy,
      personhoodFromBlock: fromBlock,
    });
    stopRelayer = () => relayer.stop();
    const index = relayer.context.personhood;
    if (!index) throw new Error("the relayer built no personhood index");
    const started = await publicClient.getBlockNumber({ cacheTime: 0 });
    // The relayer warms its index at start, from fromBlock to the head.
    await waitFor("the index warmed", async () => (index.syncedTo >= started ? true : undefined));
    const warmedTo = index.syncedTo;
    const warm = proxy.ranges.splice(0);

    await attestPersonhood({ publicClient, walletClient: attester, policy, recipient: late });
    const client = clientFor(chain, relayer.url, site);
    await client.sendEvents([publishEvent("pub", author, "essay")]);
    const answer = await client.sendEvents([
      readEvent("read-early", early, "essay"),
      readEvent("read-late", late, "essay"),
    ]);
    // Unattested, a read is rejected (personhood_required): both readers' attestations were found.
    for (const result of answer.results) expect(result.status, result.eventId).to.equal("accepted");
    const next = proxy.ranges.splice(0);

    const lowest = [...warm, ...next].reduce((low, r) => (r.fromBlock < low ? r.fromBlock : low), started);
    expect(warm.length).to.be.greaterThan(0);
    expect(lowest).to.equal(fromBlock);
    const blocks = (ranges: typeof warm) => ranges.reduce((sum, r) => sum + r.toBlock - r.fromBlock + 1n, 0n);
    expect(blocks(warm)).to.equal(warmedTo - fromBlock + 1n);
    console.log(
      `      EAS deployed at block ${fromBlock} after ${HISTORY} blocks: the relayer's first read ${warm.length} eth_getLogs over ${blocks(warm)} blocks` +
        ` (from block 0 it would read ${warmedTo + 1n}); then, for the two readers at acceptance, ${next.length} over ${blocks(next)} blocks`,
    );
  });
});
