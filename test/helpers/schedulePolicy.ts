import type { Address, Chain, Hex, PublicClient, WalletClient } from "viem";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { waitForSuccess } from "../../src/chain/waitForSuccess.js";

/** What committing a policy needs of a test chain (the relayer tests' and the auditor's crafted one). */
export interface PolicyAdminChain {
  readonly publicClient: PublicClient;
  /** The chain's admin account, which holds the ledger's policy-admin role. */
  readonly admin: WalletClient;
  readonly deployed: { readonly ledger: Address };
  readonly chain: Chain;
}

/**
 * The policy admin commits `hash` as site `siteId`'s policy (`schedulePolicy`) and waits for the
 * receipt: in force at once on a test chain without a change delay, else from its effectiveAt.
 *
 * @example
 * await schedulePolicy(chain, 1, policyHash(SECOND))
 */
export async function schedulePolicy(chain: PolicyAdminChain, siteId: number, hash: Hex): Promise<void> {
  await waitForSuccess(
    chain.publicClient,
    await chain.admin.writeContract({
      address: chain.deployed.ledger,
      abi: tweiLedgerAbi,
      functionName: "schedulePolicy",
      args: [siteId, hash],
      chain: chain.chain,
    } as never),
  );
}
