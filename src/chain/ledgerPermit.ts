import { isAddressEqual, recoverTypedDataAddress, type Address, type Hex, type PublicClient } from "viem";
import { tweiAbi } from "./abi.js";
import { PERMIT_TYPES } from "../sdk/signLedgerPermit.js";

/** A user's EIP-2612 permit letting the ledger burn up to `value` of their Twei. */
export interface LedgerPermit {
  readonly owner: Address;
  readonly value: bigint;
  readonly deadline: bigint;
  readonly signature: Hex;
}

/** How many of the owner's used nonces are tried when matching a permit to one. */
const USED_NONCES_TRIED = 16n;

/**
 * Whether a permit's effect is already in place: its signature is the owner's over one of the
 * nonces the owner already used (someone submitted it, or a later one), and the ledger's
 * allowance is at least its value. A front-run permit is then done, not an error.
 *
 * @example
 * const { inEffect, allowance } = await ledgerPermitInEffect(publicClient, { token, ledger, chainId }, permit)
 */
export async function ledgerPermitInEffect(
  publicClient: PublicClient,
  deployment: { readonly token: Address; readonly ledger: Address; readonly chainId: number },
  permit: LedgerPermit,
): Promise<{ inEffect: boolean; allowance: bigint; nonce: bigint | null }> {
  const { token, ledger, chainId } = deployment;
  const [nextNonce, allowance, domain] = await Promise.all([
    publicClient.readContract({ address: token, abi: tweiAbi, functionName: "nonces", args: [permit.owner] }),
    publicClient.readContract({
      address: token,
      abi: tweiAbi,
      functionName: "allowance",
      args: [permit.owner, ledger],
    }),
    publicClient.readContract({ address: token, abi: tweiAbi, functionName: "eip712Domain" }),
  ]);
  const [, name, version] = domain;
  for (let nonce = nextNonce - 1n; nonce >= 0n && nonce >= nextNonce - USED_NONCES_TRIED; nonce--) {
    let signer: Address;
    try {
      signer = await recoverTypedDataAddress({
        domain: { name, version, chainId, verifyingContract: token },
        types: PERMIT_TYPES,
        primaryType: "Permit",
        message: { owner: permit.owner, spender: ledger, value: permit.value, nonce, deadline: permit.deadline },
        signature: permit.signature,
      });
    } catch {
      return { inEffect: false, allowance, nonce: null };
    }
    if (isAddressEqual(signer, permit.owner)) return { inEffect: allowance >= permit.value, allowance, nonce };
  }
  return { inEffect: false, allowance, nonce: null };
}
