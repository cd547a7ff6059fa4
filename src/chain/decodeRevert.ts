import { BaseError, decodeErrorResult, type Abi, type Hex } from "viem";
import { scrubUrls } from "../observability/logger.js";
import { tweiAbi, tweiLedgerAbi } from "./abi.js";

/** A revert decoded by name: the contract's custom error (or Error(string) / Panic) and its arguments. */
export interface DecodedRevert {
  readonly name: string;
  readonly args: readonly unknown[];
  /** The raw revert data. */
  readonly data: Hex;
}

// Every error the ledger, the token and their OpenZeppelin bases can revert with (AccessControl,
// Pausable, ERC20, ERC2612, …): both ABIs carry them, being the compiled contracts'.
const errorAbi = [...tweiLedgerAbi, ...tweiAbi].filter((item) => item.type === "error") as Abi;

const isRevertData = (value: unknown): value is Hex =>
  typeof value === "string" && /^0x([0-9a-fA-F]{2})*$/.test(value) && value.length >= 10;

/** The revert data anywhere in an error's chain of causes (viem's errors, RPC error objects). */
export function revertDataOf(error: unknown): Hex | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== null && typeof current === "object" && !seen.has(current)) {
    seen.add(current);
    const { data, cause } = current as { data?: unknown; cause?: unknown };
    if (isRevertData(data)) return data;
    // Some nodes nest it: { code, message, data: { message, data: "0x…" } }.
    if (data !== null && typeof data === "object" && isRevertData((data as { data?: unknown }).data))
      return (data as { data: Hex }).data;
    current = cause;
  }
  return undefined;
}

/**
 * Decodes the revert behind a failed call, estimate or transaction by name, with every error of
 * the ledger, the token and their OpenZeppelin bases (`AccessControlUnauthorizedAccount`,
 * `EnforcedPause`, …), Error(string) and Panic. Undefined when the error carries no revert data
 * (a network fault, a timeout, out of gas); a selector nobody declared decodes as `unknown 0x…`.
 *
 * @example
 * const revert = decodeRevert(error); if (revert?.name === "EnforcedPause") …
 */
export function decodeRevert(error: unknown): DecodedRevert | undefined {
  const data = revertDataOf(error);
  if (!data) return undefined;
  try {
    const decoded = decodeErrorResult({ abi: errorAbi, data });
    return { name: decoded.errorName, args: decoded.args ?? [], data };
  } catch {
    return { name: `unknown ${data.slice(0, 10)}`, args: [], data };
  }
}

const show = (value: unknown): string => (typeof value === "bigint" ? value.toString() : String(value));

/**
 * A revert for people and logs: `TweiLedgerSiteInactive(7)`.
 *
 * @example
 * formatRevert({ name: "TweiLedgerUnknownSite", args: [3], data }) // "TweiLedgerUnknownSite(3)"
 */
export function formatRevert(revert: DecodedRevert): string {
  return `${revert.name}(${revert.args.map(show).join(", ")})`;
}

/** An error's message for logs and answers: the decoded revert when there is one, never an RPC URL. */
export function describeChainError(error: unknown): string {
  const revert = decodeRevert(error);
  if (revert) return `reverted: ${formatRevert(revert)}`;
  const text = error instanceof BaseError ? error.shortMessage : error instanceof Error ? error.message : String(error);
  return scrubUrls(text);
}
