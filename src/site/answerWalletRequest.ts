import { getAddress, type Hex, type LocalAccount, type TypedDataDefinition } from "viem";
import { z } from "zod";
import { parseInput } from "../http/problem.js";

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
const typedData = z.object({
  domain: z.record(z.string(), z.unknown()),
  types: z.record(z.string(), z.array(z.object({ name: z.string(), type: z.string() }))),
  primaryType: z.string(),
  message: z.record(z.string(), z.unknown()),
});

/**
 * Answers a wallet request as a wallet holding `account` would: the demo wallet's signer (on the
 * demo server) and the browser test's injected wallet. Bad parameters are 400 `invalid_request`.
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
      let json: unknown = params[1];
      try {
        if (typeof json === "string") json = JSON.parse(json);
      } catch {
        json = undefined;
      }
      const data = parseInput(typedData, json, "typed data");
      const types = Object.fromEntries(Object.entries(data.types).filter(([name]) => name !== "EIP712Domain"));
      const uints = new Set(
        (types[data.primaryType] ?? []).filter((f) => f.type.startsWith("uint")).map((f) => f.name),
      );
      const message = Object.fromEntries(
        Object.entries(data.message).map(([k, v]) => [k, uints.has(k) ? BigInt(String(v)) : v]),
      );
      return account.signTypedData({
        domain: { ...data.domain, chainId: Number(data.domain.chainId) },
        types,
        primaryType: data.primaryType,
        message,
      } as unknown as TypedDataDefinition);
    }
  }
}
