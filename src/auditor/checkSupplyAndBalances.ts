import { getAddress, isAddressEqual, zeroAddress, type Address, type PublicClient } from "viem";
import { tweiAbi } from "../chain/abi.js";
import { twei, type Add } from "./discrepancy.js";
import type { TransferLog } from "./readLedgerHistory.js";

export interface CheckSupplyAndBalancesParameters {
  readonly publicClient: PublicClient;
  readonly token: Address;
  /** The block the supply and balances are read at. */
  readonly toBlock: bigint;
  readonly transfers: readonly TransferLog[];
  /** Twei minted and burned by the settled batches. */
  readonly minted: bigint;
  readonly burned: bigint;
  /** The balances the settled actions explain, by lowercase address; `credit` adds to them. */
  readonly balances: ReadonlyMap<string, bigint>;
  readonly credit: (account: Address, delta: bigint) => void;
  readonly add: Add;
}

/**
 * Checks the token against the settled batches: its Transfer logs mint and burn what the
 * batches did, its supply is all mints minus all burns, and every balance is what the
 * actions and ordinary transfers explain. Returns the supply and how many balances it checked.
 *
 * @example
 * const { totalSupply } = await checkSupplyAndBalances({ publicClient, token, toBlock, transfers, minted, burned, balances, credit, add })
 */
export async function checkSupplyAndBalances(
  parameters: CheckSupplyAndBalancesParameters,
): Promise<{ totalSupply: bigint; accountsChecked: number }> {
  const { publicClient, token, toBlock, minted, burned, balances, credit, add } = parameters;
  // The token: supply = mints − burns, and every balance explained by actions and transfers.
  let tokenMints = 0n;
  let tokenBurns = 0n;
  for (const { from, to, value } of parameters.transfers) {
    if (isAddressEqual(from, zeroAddress)) tokenMints += value;
    else if (isAddressEqual(to, zeroAddress)) tokenBurns += value;
    else {
      credit(from, -value);
      credit(to, value);
    }
  }
  if (tokenMints !== minted)
    add(
      "token_mints_mismatch",
      "Transfer logs",
      "the token minted other than the settled batches",
      twei(minted),
      twei(tokenMints),
    );
  if (tokenBurns !== burned)
    add(
      "token_burns_mismatch",
      "Transfer logs",
      "the token burned other than the settled batches",
      twei(burned),
      twei(tokenBurns),
    );
  const totalSupply = await publicClient.readContract({
    address: token,
    abi: tweiAbi,
    functionName: "totalSupply",
    blockNumber: toBlock,
  });
  if (totalSupply !== minted - burned)
    add(
      "supply_mismatch",
      "totalSupply()",
      "the supply is not all mints minus all burns",
      twei(minted - burned),
      twei(totalSupply),
    );
  const accounts = [...balances.keys()];
  const onChainBalances = await Promise.all(
    accounts.map((account) =>
      publicClient.readContract({
        address: token,
        abi: tweiAbi,
        functionName: "balanceOf",
        args: [account as Address],
        blockNumber: toBlock,
      }),
    ),
  );
  accounts.forEach((account, i) => {
    const expected = balances.get(account) ?? 0n;
    const found = onChainBalances[i] ?? 0n;
    if (expected !== found)
      add(
        "balance_mismatch",
        getAddress(account),
        "the balance is not what actions and transfers explain",
        twei(expected),
        twei(found),
      );
  });
  return { totalSupply, accountsChecked: accounts.length };
}
