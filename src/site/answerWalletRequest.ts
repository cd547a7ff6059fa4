import { BaseError, getAddress, type Hex, type LocalAccount } from "viem";
import { z } from "zod";
import { HttpProblem, parseInput } from "../http/problem.js";
import { parseTypedDataV4 } from "./parseTypedDataV4.js";

/** The EIP-1193 methods a Twei widget asks of a wallet. */
export const WALLET_METHODS = [
  "eth_chainId",
  "eth_accounts",
  "eth_requestAccounts",
  "personal_sign",
  "eth_signTypedData_v4",
] as const;
export type WalletMethod = (typeof WALLET_METHODS)[number];

const rawMessage = z.string().regex(/^0x[0-9a-fA-F]*$/, "a hex message");

/**
 * Answers a wallet request as a wallet holding `account` would: the demo wallet's signer (on the
 * demo server) and the browser test's injected wallet. Bad parameters are 400 `invalid_request`;
 * typed data it cannot sign is 400 `invalid_typed_data` (see {@link parseTypedDataV4}).
 *
 * @example
 * await answerWalletRequest(hardhatAccount(12), 31337, "personal_sign", [hex, address])
 */
export async function answerWalletRequest(
  account: LocalAccount,
  chainId: number,
  method: WalletMethod,
  params: readonly unknown[],
): Promise<unknown> {
  switch (method) {
    case "eth_chainId":
      return `0x${chainId.toString(16)}`;
    case "eth_accounts":
    case "eth_requestAccounts":
      return [getAddress(account.address)];
    case "personal_sign":
      return account.signMessage({ message: { raw: parseInput(rawMessage, params[0], "message") as Hex } });
    case "eth_signTypedData_v4": {
      const definition = parseTypedDataV4(params[1], chainId);
      try {
        return await account.signTypedData(definition);
      } catch (error) {
        // What parseTypedDataV4 let through and viem still refuses is the typed data's fault too.
        if (error instanceof BaseError)
          throw new HttpProblem(400, "invalid_typed_data", "The typed data cannot be signed", {
            detail: error.shortMessage,
          });
        throw error;
      }
    }
  }
}
