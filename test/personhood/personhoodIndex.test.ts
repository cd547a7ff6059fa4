import { expect } from "chai";
import { network } from "hardhat";
import { describe, it } from "mocha";
import {
  createPublicClient,
  custom,
  encodeEventTopics,
  hexToBigInt,
  numberToHex,
  type Hex,
  type PublicClient,
} from "viem";
import { createPersonhoodIndex } from "../../src/chain/createPersonhoodIndex.js";
import { deployEas } from "../../src/chain/deployEas.js";
import type { DeployerClient } from "../../src/chain/deployTwei.js";
import { easAbi } from "../../src/chain/easAbi.js";
import { attestPersonhood, revokePersonhood } from "../../src/chain/personhoodAttestation.js";
import { readLogsAdaptively } from "../../src/chain/readLogsAdaptively.js";
import type { PersonhoodPolicy } from "../../src/rules/policy.js";

const { viem, provider } = await network.create();
/** Blocks of history mined before the lookups (a short live chain's worth of empty blocks). */
const HISTORY = 20_000;

/** A client on the in-process chain that records each eth_getLogs query's block span. */
function countingClient(publicClient: PublicClient) {
  const spans: bigint[] = [];
  const client = createPublicClient({
    transport: custom({
      async request({ method, params }) {
        if (method === "eth_getLogs") {
          const [{ fromBlock, toBlock }] = params as [{ fromBlock: Hex; toBlock: Hex }];
          spans.push(hexToBigInt(toBlock) - hexToBigInt(fromBlock) + 1n);
        }
        return publicClient.request({ method, params } as never);
      },
    }),
  });
  const taken = () => {
    const out = { queries: spans.length, blocks: spans.reduce((a, b) => a + b, 0n) };
    spans.length = 0;
    return out;
  };
  return { client, taken };
}

describe("the relayer's personhood index: a lookup's cost does not grow with the chain's history", function () {
  this.timeout(120_000);

  it(`reads ${HISTORY} blocks of logs once, then only the new blocks; finds as of a block; survives a reorganization`, async function () {
    const publicClient = (await viem.getPublicClient()) as unknown as PublicClient;
    const [deployer, site, reader, late] = (await viem.getWalletClients()) as unknown as DeployerClient[];
    if (!deployer || !site || !reader || !late) throw new Error("four accounts needed");
    const { eas, personhoodSchema } = await deployEas({ publicClient, walletClient: deployer });
    const policy: PersonhoodPolicy = { eas, schema: personhoodSchema, attesters: [site.account.address] };
    const uid = await attestPersonhood({ publicClient, walletClient: site, policy, recipient: reader.account.address });
    await provider.request({ method: "hardhat_mine", params: [numberToHex(HISTORY)] });
    const { client, taken } = countingClient(publicClient);
    const index = createPersonhoodIndex(client, { policy, reorgDepth: 16n });

    const head = await publicClient.getBlockNumber({ cacheTime: 0 });
    let started = performance.now();
    expect(await index.find(reader.account.address, head)).to.equal(uid);
    const first = { ...taken(), ms: performance.now() - started };
    expect(first.blocks).to.equal(head + 1n);

    // What each lookup cost before the index: every Attested log of the policy from block 0.
    started = performance.now();
    const topics = encodeEventTopics({
      abi: easAbi,
      eventName: "Attested",
      args: { recipient: reader.account.address, attester: [...policy.attesters], schemaUID: policy.schema },
    });
    for await (const chunk of readLogsAdaptively(client, { address: eas, topics, fromBlock: 0n, toBlock: head }))
      void chunk;
    const fullScan = { ...taken(), ms: performance.now() - started };

    // Later lookups read only the blocks mined since (and reorgDepth below them).
    await provider.request({ method: "hardhat_mine", params: [numberToHex(10)] });
    const later = await publicClient.getBlockNumber({ cacheTime: 0 });
    started = performance.now();
    expect(await index.find(reader.account.address, later)).to.equal(uid);
    expect(await index.find(late.account.address, later)).to.equal(undefined);
    const next = { ...taken(), ms: performance.now() - started };
    expect(next).to.include({ queries: 1, blocks: 10n + 16n });
    console.log(
      `      ${HISTORY} blocks of history: a full scan (each lookup before) ${fullScan.queries} eth_getLogs over ${fullScan.blocks} blocks, ${fullScan.ms.toFixed(0)} ms;` +
        ` the index: first lookup ${first.queries} over ${first.blocks} blocks (${first.ms.toFixed(0)} ms), then two lookups 10 blocks later ${next.queries} over ${next.blocks} blocks (${next.ms.toFixed(1)} ms)`,
    );

    // As of a block: revoked now, still valid at a block before the revocation.
    await revokePersonhood({ publicClient, walletClient: site, policy, uid });
    expect(await index.find(reader.account.address, await publicClient.getBlockNumber({ cacheTime: 0 }))).to.equal(
      undefined,
    );
    expect(await index.find(reader.account.address, later)).to.equal(uid);

    // A reorganization puts a new attestation into blocks the index has read: found again.
    const snapshot = await provider.request({ method: "evm_snapshot" });
    await provider.request({ method: "hardhat_mine", params: [numberToHex(5)] });
    await index.sync(await publicClient.getBlockNumber({ cacheTime: 0 }));
    await provider.request({ method: "evm_revert", params: [snapshot] });
    const moved = await attestPersonhood({ publicClient, walletClient: site, policy, recipient: late.account.address });
    const reorganized = await publicClient.getBlockNumber({ cacheTime: 0 });
    expect(reorganized <= index.syncedTo).to.equal(true);
    await provider.request({ method: "hardhat_mine", params: [numberToHex(5)] });
    expect(await index.find(late.account.address, await publicClient.getBlockNumber({ cacheTime: 0 }))).to.equal(moved);
  });
});
