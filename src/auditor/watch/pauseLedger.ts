import type { Address, PublicClient, WalletClient } from "viem";
import { tweiLedgerAbi } from "../../chain/abi.js";

export interface PauseLedgerResult {
  /** The pause transaction, or undefined when the ledger was already paused. */
  readonly hash: `0x${string}` | undefined;
}

/**
 * Pauses the ledger with a pauser's key unless it is already paused, and waits for the receipt.
 *
 * @example
 * const { hash } = await pauseLedger({ publicClient, walletClient, ledger })
 */
export async function pauseLedger(parameters: {
  publicClient: PublicClient;
  walletClient: WalletClient;
  ledger: Address;
}): Promise<PauseLedgerResult> {
  const { publicClient, walletClient, ledger } = parameters;
  const paused = await publicClient.readContract({ address: ledger, abi: tweiLedgerAbi, functionName: "paused" });
  if (paused) return { hash: undefined };
  const hash = await walletClient.writeContract({
    address: ledger,
    abi: tweiLedgerAbi,
    functionName: "pause",
    account: walletClient.account ?? null,
    chain: walletClient.chain ?? null,
  });
  const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 100 });
  if (receipt.status !== "success") throw new Error(`the pause transaction ${hash} reverted`);
  return { hash };
}

/**
 * Whether `account` holds the ledger's PAUSER_ROLE (checked at start-up, so a watchtower that could not pause says so at once).
 *
 * @example
 * if (!(await canPause({ publicClient, ledger, account }))) process.exit(3)
 */
export async function canPause(parameters: { publicClient: PublicClient; ledger: Address; account: Address }) {
  const { publicClient, ledger, account } = parameters;
  const role = await publicClient.readContract({ address: ledger, abi: tweiLedgerAbi, functionName: "PAUSER_ROLE" });
  return publicClient.readContract({
    address: ledger,
    abi: tweiLedgerAbi,
    functionName: "hasRole",
    args: [role, account],
  });
}
