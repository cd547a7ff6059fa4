import type { Address, Hex, LocalAccount } from "viem";

/** EIP-2612's Permit type, as the token's EIP-712 domain `{ name: "Twei", version: "1" }` signs it. */
export const PERMIT_TYPES = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

/**
 * Signs a user's EIP-2612 permit letting the ledger burn up to `value` of their Twei, for the
 * relayer to submit (`POST /v1/permits`); the user pays no gas.
 *
 * @example
 * const signature = await signLedgerPermit({ owner: account, token, ledger, chainId, value, nonce: 0n, deadline })
 */
export async function signLedgerPermit(parameters: {
  owner: LocalAccount;
  token: Address;
  ledger: Address;
  chainId: number;
  value: bigint;
  /** The owner's permit nonce on the token (`nonces(owner)`). */
  nonce: bigint;
  deadline: bigint;
}): Promise<Hex> {
  const { owner, token, ledger, chainId, value, nonce, deadline } = parameters;
  return owner.signTypedData({
    domain: { name: "Twei", version: "1", chainId, verifyingContract: token },
    types: PERMIT_TYPES,
    primaryType: "Permit",
    message: { owner: owner.address, spender: ledger, value, nonce, deadline },
  });
}
