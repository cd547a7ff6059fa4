import { BaseError } from "viem";

/**
 * Why an RPC refused a log query as too big: its block span (a provider's fixed limit, e.g.
 * 2,000 blocks), its result count (e.g. 10,000 logs), its response size (the provider's, or
 * viem's own 10 MB `maxResponseBodySize`), or it ran out of time.
 */
export type LogQueryRefusalReason = "block-range" | "result-count" | "response-size" | "timeout";

export interface LogQueryRefusal {
  readonly reason: LogQueryRefusalReason;
  /** The provider's words (its first line), for logs. */
  readonly message: string;
  /** A range the provider suggested ("Try with this block range [0x…, 0x…]"), when it did. */
  readonly suggested?: { readonly fromBlock: bigint; readonly toBlock: bigint };
}

// How providers word each refusal (geth, Erigon, Infura, Alchemy, QuickNode, Ankr, Hardhat, anvil…).
const RESULT_COUNT =
  /more than \d+ (results|logs)|too many (results|logs)|max(imum)? (number of )?(results|logs)|(results|logs)( count)? (limit|exceed)|log response size exceeded/i;
const RESPONSE_SIZE = /response (body )?(size|too large|too big)|body (size|too large)|payload too large|size limit/i;
const BLOCK_RANGE =
  /block range|range (is )?too (large|big|wide)|max(imum)? (block )?range|range (limit|exceed)|too many blocks|blocks? (span|limit)|limited to an? [\d,]+ (blocks? )?range|ranges? (over|above) [\d,]+ blocks|number of requested blocks/i;
const TIMEOUT = /query timeout|timed? ?out|execution (timeout|aborted)/i;
const SUGGESTED = /\[\s*(0x[0-9a-f]+)\s*,\s*(0x[0-9a-f]+)\s*\]/i;

/**
 * Whether an eth_getLogs failure says the query was too big, and why; undefined for any other
 * failure (network down, bad request, …), which a smaller range would not help. Looks through
 * the error's causes (viem wraps the provider's JSON-RPC error in its own).
 *
 * @example
 * const refusal = logQueryRefusal(error)
 * if (refusal?.reason === "block-range") ceiling = span - 1n
 */
export function logQueryRefusal(error: unknown): LogQueryRefusal | undefined {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && chain.length < 10; current = (current as Error).cause)
    chain.push(current);
  const names = chain.map((e) => (e instanceof Error ? e.name : ""));
  const texts = chain.map((e) =>
    e instanceof BaseError ? `${e.shortMessage} ${e.details ?? ""}` : e instanceof Error ? e.message : String(e),
  );
  const text = texts.join("\n");
  const first = (
    texts.find((t) => RESULT_COUNT.test(t) || RESPONSE_SIZE.test(t) || BLOCK_RANGE.test(t)) ??
    texts[0] ??
    ""
  )
    .split("\n")[0]
    ?.trim();
  const message = first ?? "";
  const match = SUGGESTED.exec(text);
  const suggested = match ? { fromBlock: BigInt(match[1] as string), toBlock: BigInt(match[2] as string) } : undefined;
  const refusal = (reason: LogQueryRefusalReason): LogQueryRefusal =>
    suggested ? { reason, message, suggested } : { reason, message };
  if (names.includes("ResponseBodyTooLargeError")) return refusal("response-size");
  if (chain.some((e) => (e as { status?: unknown }).status === 413)) return refusal("response-size");
  if (RESULT_COUNT.test(text)) return refusal("result-count");
  if (RESPONSE_SIZE.test(text)) return refusal("response-size");
  if (BLOCK_RANGE.test(text)) return refusal("block-range");
  if (names.includes("TimeoutError") || TIMEOUT.test(text)) return refusal("timeout");
  return undefined;
}
