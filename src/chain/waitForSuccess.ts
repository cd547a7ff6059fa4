import type { Hex, PublicClient, TransactionReceipt } from "viem";

/** A transaction that was mined but reverted. */
export class TransactionRevertedError extends Error {
  override name = "TransactionRevertedError";
  constructor(readonly hash: Hex) {
    super(`transaction ${hash} reverted`);
  }
}

/**
 * Waits for a transaction's receipt and throws a TransactionRevertedError when it reverted.
 *
 * @example
 * const receipt = await waitForSuccess(publicClient, await walletClient.writeContract(…))
 */
export async function waitForSuccess(
  publicClient: Pick<PublicClient, "waitForTransactionReceipt">,
  hash: Hex,
): Promise<TransactionReceipt> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new TransactionRevertedError(hash);
  return receipt;
}
