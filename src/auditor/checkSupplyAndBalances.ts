import { getAddress, isAddressEqual, zeroAddress, type Address, type PublicClient } from "viem";
import { tweiAbi } from "../chain/abi.js";
import { twei, type Add } from "./discrepancy.js";
import type { TransferLog } from "./readLedgerHistory.js";

export interface CheckSupplyAndBalancesParameters {
  readonly publicClient: PublicClient;
  readonly token: Address;
  /** The block the supply and balances are read at. */
  readonly toBlock: bigint;
  /** The token's Transfer logs not yet counted (all of them for a one-off audit). */
  readonly transfers: readonly TransferLog[];
  /** What the token's Transfer logs minted and burned so far (updated in place with `transfers`). */
  readonly tokenTotals: { mints: bigint; burns: bigint };
  /** Twei minted and burned by the settled batches. */
  readonly minted: bigint;
  readonly burned: bigint;
  /** The balances the settled actions explain, by lowercase address; `credit` adds to them. */
  readonly balances: ReadonlyMap<string, bigint>;
  /** The accounts whose balances to check (lowercase); every account in `balances` when absent. */
  readonly accounts?: ReadonlySet<string>;
  readonly credit: (account: Address, delta: bigint) => void;
  readonly add: Add;
}

/**
 * Checks the token against the settled batches: its Transfer logs mint and burn what the
 * batches did, its supply is all mints minus all burns, and every balance is what the
 * actions and ordinary transfers explain. Returns the supply and how many balances it checked.
 * A follower passes only the new transfers and the accounts they and the new batches touched.
 *
 * @example
 * const { totalSupply } = await checkSupplyAndBalances({ publicClient, token, toBlock, transfers, minted, burned, balances, credit, add })
 */
export async function checkSupplyAndBalances(
  parameters: CheckSupplyAndBalancesParameters,
): Promise<{ totalSupply: bigint; accountsChecked: number }> {
  const { publicClient, token, toBlock, minted, burned, balances, credit, add } = parameters;
  // The token: supply = mints − burns, and every balance explained by actions and transfers.
  countTransfers(parameters.transfers, parameters.tokenTotals, credit);
  const { mints: tokenMints, burns: tokenBurns } = parameters.tokenTotals;
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
  const accounts = [...(parameters.accounts ?? balances.keys())];
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

/**
 * Counts Transfer logs into the token's totals (mints from and burns to the zero address) and
 * the expected balances (an ordinary transfer moves Twei from one account to another): the
 * auditor counts each chunk of logs as it reads it, and keeps none of them.
 *
 * @example
 * countTransfers(history.transfers, tokenTotals, credit) // then checkSupplyAndBalances({ transfers: [], … })
 */
export function countTransfers(
  transfers: readonly TransferLog[],
  totals: { mints: bigint; burns: bigint },
  credit: (account: Address, delta: bigint) => void,
): void {
  for (const { from, to, value } of transfers) {
    if (isAddressEqual(from, zeroAddress)) totals.mints += value;
    else if (isAddressEqual(to, zeroAddress)) totals.burns += value;
    else {
      credit(from, -value);
      credit(to, value);
    }
  }
}
