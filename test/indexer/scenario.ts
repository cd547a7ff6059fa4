import { createPublicClient, createWalletClient, http, maxUint256, type Address, type PublicClient } from "viem";
import { hardhat } from "viem/chains";
import { tweiAbi, tweiLedgerAbi } from "../../src/chain/abi.js";
import { waitForSuccess } from "../../src/chain/waitForSuccess.js";
import { deployTwei, type DeployerClient } from "../../src/chain/deployTwei.js";
import { FIRST_BURN_KIND, KIND_COUNT, type ActionKind } from "../../src/core/kinds.js";
import { amountFor, DEFAULT_RULE_AMOUNTS, type RuleAmounts } from "../../src/core/ruleSet.js";

import type { AccountAction, PostRegistration } from "../../src/core/packedActions.js";
import { hardhatAccount, type HardhatNode } from "../../src/devnet/startHardhatNode.js";
import { packBatch, rootOf } from "../helpers/batches.js";

/** Wider unit bounds than the default rule set's, so that one action can pay several units. */
const TEST_UNIT_BOUNDS = [10_000, ...Array.from({ length: 12 }, () => 65_535)];

export const SITE = 7;

/** What the test settled, and what it expects each action to have done (computed here, not by the indexer). */
export interface SettledAction extends AccountAction {
  readonly amount: bigint;
  readonly paid: boolean;
  readonly blockNumber: bigint;
}

/**
 * A deployment on a real Hardhat node with a relayer that settles batches directly on the
 * ledger, keeping its own record of every action's expected amount and outcome.
 */
export async function createChainScenario(node: HardhatNode) {
  const chain = { ...hardhat, rpcUrls: { default: { http: [node.url] } } };
  const publicClient = createPublicClient({ chain, transport: http(node.url) }) as PublicClient;
  const wallet = (index: number) =>
    createWalletClient({ chain, transport: http(node.url), account: hardhatAccount(index) });
  const admin = wallet(0);
  const relayer = wallet(1);
  const deployed = await deployTwei({
    publicClient,
    walletClient: admin as unknown as DeployerClient,
    relayer: relayer.account.address,
    unitBounds: TEST_UNIT_BOUNDS,
  });
  const deployment = {
    chainId: await publicClient.getChainId(),
    ledger: deployed.ledger,
    token: deployed.token,
    deploymentBlock: deployed.deploymentBlock,
  };
  const wait = (hash: `0x${string}`) => waitForSuccess(publicClient, hash);
  await wait(
    await admin.writeContract({
      address: deployed.ledger,
      abi: tweiLedgerAbi,
      functionName: "registerSite",
      args: [SITE, hardhatAccount(2).address, 10n ** 30n, 10n ** 30n],
    }),
  );
  let rules: RuleAmounts = DEFAULT_RULE_AMOUNTS;
  const settled: SettledAction[] = [];
  let nextBatch = 1n;
  let version = 1;

  return {
    publicClient,
    deployment,
    settled,
    account: (index: number): Address => hardhatAccount(index).address,
    async approve(index: number) {
      await wait(
        await wallet(index).writeContract({
          address: deployed.token,
          abi: tweiAbi,
          functionName: "approve",
          args: [deployed.ledger, maxUint256],
        }),
      );
    },
    async transfer(fromIndex: number, to: Address, value: bigint) {
      return wait(
        await wallet(fromIndex).writeContract({
          address: deployed.token,
          abi: tweiAbi,
          functionName: "transfer",
          args: [to, value],
        }),
      );
    },
    async setRuleSet(amounts: RuleAmounts) {
      await wait(
        await admin.writeContract({
          address: deployed.ledger,
          abi: tweiLedgerAbi,
          functionName: "scheduleRuleSet",
          args: [amounts as never, TEST_UNIT_BOUNDS as never],
        }),
      );
      rules = amounts;
      version += 1;
    },
    /** Releases a registered post id (the policy admin's remedy for a squatted one). */
    async releasePost(postId: bigint) {
      await wait(
        await admin.writeContract({
          address: deployed.ledger,
          abi: tweiLedgerAbi,
          functionName: "releasePost",
          args: [postId],
        }),
      );
    },
    /**
     * Settles a batch; `unpaid` lists the indexes (in `actions`) of burns the test expects to
     * be shortfalls. Returns the receipt and the batch id.
     */
    async settle(posts: PostRegistration[], actions: AccountAction[], unpaid: number[] = []) {
      const batchId = nextBatch++;
      const receipt = await wait(
        await relayer.writeContract({
          address: deployed.ledger,
          abi: tweiLedgerAbi,
          functionName: "settle",
          args: [batchId, SITE, version, rootOf(`batch ${batchId}`), packBatch(posts, actions)],
        }),
      );
      actions.forEach((a, i) =>
        settled.push({
          ...a,
          amount: amountFor(rules, a.kind, a.units),
          paid: !unpaid.includes(i),
          blockNumber: receipt.blockNumber,
        }),
      );
      return { receipt, batchId };
    },
    async balanceOf(account: Address) {
      return publicClient.readContract({
        address: deployed.token,
        abi: tweiAbi,
        functionName: "balanceOf",
        args: [account],
      });
    },
  };
}

/** The expected lines (paid amount and count, shortfall amount and count per kind) of settled actions. */
export function expectedLines(actions: readonly SettledAction[], postId: bigint, account?: Address) {
  const lines = Array.from({ length: KIND_COUNT }, () => ({
    paid: 0n,
    paidCount: 0,
    shortfall: 0n,
    shortfallCount: 0,
  }));
  for (const a of actions) {
    if (a.postId !== postId || (account !== undefined && a.account.toLowerCase() !== account.toLowerCase())) continue;
    const line = lines[a.kind]!;
    if (a.paid) {
      line.paid += a.amount;
      line.paidCount++;
    } else {
      line.shortfall += a.amount;
      line.shortfallCount++;
    }
  }
  return lines;
}

export const isBurn = (kind: ActionKind) => kind >= FIRST_BURN_KIND;
