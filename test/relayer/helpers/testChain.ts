import {
  bytesToHex,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  maxUint256,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { tweiAbi, tweiLedgerAbi } from "../../../src/chain/abi.js";
import { deployTwei, type DeployerClient } from "../../../src/chain/deployTwei.js";
import { ActionKind } from "../../../src/core/kinds.js";
import { encodePackedActions, groupByAccount, type AccountAction } from "../../../src/core/packedActions.js";
import { postIdFor } from "../../../src/core/postId.js";
import { DEFAULT_RULE_AMOUNTS, type RuleAmounts } from "../../../src/core/ruleSet.js";
import type { DevNode } from "../../../src/devnet/spawnDevNode.js";
import { startAnvilNode } from "../../../src/devnet/startAnvilNode.js";
import { hardhatAccount, startHardhatNode } from "../../../src/devnet/startHardhatNode.js";
import { waitForSuccess } from "../../../src/chain/waitForSuccess.js";

export const CHAIN_ID = 31337;

/** The default rule set with publishing free: a fresh chain's author (holding no Twei) can publish without allowances. */
export const FREE_PUBLISHING_AMOUNTS: RuleAmounts = DEFAULT_RULE_AMOUNTS.map((amount, kind) =>
  kind === ActionKind.PostPublishTribute ? 0n : amount,
);

export const testChainDefinition = (url: string) =>
  defineChain({
    id: CHAIN_ID,
    name: "hardhat",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [url] } },
  });

export function privateKeyOf(index: number): Hex {
  const key = hardhatAccount(index).getHdKey().privateKey;
  if (!key) throw new Error("no private key");
  return bytesToHex(key);
}

/**
 * A real Hardhat node with Twei deployed by the production deploy code: account 0 administers,
 * account 1 is the relayer, account 2 may seed balances directly (its own RELAYER_ROLE),
 * accounts 3.. are users.
 */
export async function startTestChain(
  options: {
    ruleAmounts?: RuleAmounts;
    emissionCap?: bigint;
    node?: DevNode["kind"];
    /** Seconds from a rule-set announcement to its effect, and how long the replaced one stays accepted. */
    changeDelay?: number;
    ruleSetGrace?: number;
  } = {},
) {
  const node: DevNode = options.node === "anvil" ? await startAnvilNode() : await startHardhatNode();
  const chain = testChainDefinition(node.url);
  const publicClient = createPublicClient({ chain, transport: http(node.url), pollingInterval: 100 }) as PublicClient;
  const walletOf = (account: LocalAccount) => createWalletClient({ chain, transport: http(node.url), account });
  const admin = walletOf(hardhatAccount(0));
  const relayerKey = privateKeyOf(1);
  const deployed = await deployTwei({
    publicClient,
    walletClient: admin as unknown as DeployerClient,
    relayer: hardhatAccount(1).address,
    ...(options.ruleAmounts ? { ruleAmounts: options.ruleAmounts } : {}),
    ...(options.emissionCap ? { emissionCap: options.emissionCap } : {}),
    ...(options.changeDelay === undefined ? {} : { changeDelay: options.changeDelay }),
    ...(options.ruleSetGrace === undefined ? {} : { ruleSetGrace: options.ruleSetGrace }),
  });
  const write = async (wallet: ReturnType<typeof walletOf>, request: Parameters<typeof wallet.writeContract>[0]) => {
    return waitForSuccess(publicClient, await wallet.writeContract(request));
  };
  const seeder = walletOf(hardhatAccount(2));
  const relayerRole = await publicClient.readContract({
    address: deployed.ledger,
    abi: tweiLedgerAbi,
    functionName: "RELAYER_ROLE",
  });
  await write(admin, {
    address: deployed.ledger,
    abi: tweiLedgerAbi,
    functionName: "grantRole",
    args: [relayerRole, seeder.account.address],
    chain,
  } as never);
  let seedBatch = 2n ** 63n;
  const versionInForce = async () =>
    (
      await publicClient.readContract({ address: deployed.ledger, abi: tweiLedgerAbi, functionName: "versionsInForce" })
    )[0];

  return {
    node,
    chain,
    publicClient,
    admin,
    relayerKey,
    relayerAddress: hardhatAccount(1).address,
    deployed,
    walletOf,
    /** A fresh site signer key. */
    newSigner: () => privateKeyToAccount(generatePrivateKey()),
    user: (index: number) => hardhatAccount(3 + index),
    async balanceOf(account: Address) {
      return publicClient.readContract({
        address: deployed.token,
        abi: tweiAbi,
        functionName: "balanceOf",
        args: [account],
      });
    },
    async approveLedger(account: LocalAccount) {
      await write(walletOf(account), {
        address: deployed.token,
        abi: tweiAbi,
        functionName: "approve",
        args: [deployed.ledger, maxUint256],
        chain,
      } as never);
    },
    async setSiteCap(siteId: number, cap: bigint) {
      await write(admin, {
        address: deployed.ledger,
        abi: tweiLedgerAbi,
        functionName: "scheduleSiteCaps",
        args: [siteId, cap, cap],
        chain,
      } as never);
    },
    async setSiteActive(siteId: number, active: boolean) {
      await write(admin, {
        address: deployed.ledger,
        abi: tweiLedgerAbi,
        functionName: "setSiteActive",
        args: [siteId, active],
        chain,
      } as never);
    },
    /**
     * Pays accounts Twei directly (batch ids from 2^63, which the relayer never allocates), on a
     * post of its own, so tests can start with users who can afford spends.
     */
    async seed(siteId: number, actions: readonly Omit<AccountAction, "postId">[]) {
      const postId = postIdFor(siteId, `seed-${seedBatch}`);
      const author = hardhatAccount(19).address;
      // Every kind but Read-to-Earn is bounded to one unit an action: n units are n actions.
      const unitActions = actions.flatMap((a) =>
        a.kind === ActionKind.ReadToEarn
          ? [{ ...a, postId }]
          : Array.from({ length: a.units }, () => ({ ...a, units: 1, postId })),
      );
      const packed = encodePackedActions({ posts: [{ postId, author }], groups: groupByAccount(unitActions) });
      await write(seeder, {
        address: deployed.ledger,
        abi: tweiLedgerAbi,
        functionName: "settle",
        args: [seedBatch++, siteId, await versionInForce(), `0x${"11".repeat(32)}`, packed],
        chain,
      } as never);
    },
    /** Registers a post id on the ledger for a site, straight from the seeder's role (as a colliding post would be). */
    async registerPost(siteId: number, postId: bigint, author: Address) {
      const packed = encodePackedActions({ posts: [{ postId, author }], groups: [] });
      await write(seeder, {
        address: deployed.ledger,
        abi: tweiLedgerAbi,
        functionName: "settle",
        args: [seedBatch++, siteId, await versionInForce(), `0x${"11".repeat(32)}`, packed],
        chain,
      } as never);
    },
    /** Calls a node's JSON-RPC method (evm_mine, anvil_reorg, …). */
    rpc(method: string, params: unknown[] = []) {
      return publicClient.request({ method, params } as never) as Promise<unknown>;
    },
    async stop() {
      await node.stop();
    },
  };
}

export type TestChain = Awaited<ReturnType<typeof startTestChain>>;
