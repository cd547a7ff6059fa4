import { BaseError, numberToHex, type Address, type Client, type Hex, type RpcLog } from "viem";
import { createLogRange, type LogRange } from "./createLogRange.js";
import { logQueryRefusal, type LogQueryRefusal } from "./logQueryRefusal.js";

export interface ReadLogsAdaptivelyParameters {
  readonly address: Address | readonly Address[];
  /** eth_getLogs topics (e.g. `[[topicA, topicB]]` for either event); every log of `address` when absent. */
  readonly topics?: readonly (Hex | readonly Hex[] | null)[];
  readonly fromBlock: bigint;
  readonly toBlock: bigint;
  /** The adaptive span, kept by the caller across reads (a follower polls again and again); a new one by default. */
  readonly range?: LogRange;
  /** Told of each refusal (metrics, logs), before the smaller query. */
  readonly onRefusal?: (refusal: LogQueryRefusal, span: bigint, nextSize: bigint) => void;
}

/** The logs of one answered query: every log of `fromBlock`…`toBlock`, in the node's order. */
export interface LogChunk {
  readonly fromBlock: bigint;
  readonly toBlock: bigint;
  readonly logs: RpcLog[];
}

/** A log read failed: the RPC refused or did not answer. `retryable` says whether the same read may pass later. */
export class ReadLogsError extends BaseError {
  readonly retryable: boolean = false;
  constructor(shortMessage: string, options: { cause?: Error; name?: string } = {}) {
    super(shortMessage, { ...(options.cause ? { cause: options.cause } : {}), name: options.name ?? "ReadLogsError" });
  }
}

/** The RPC refused the logs of a single block as too big: no range can be smaller, so reading cannot go on. */
export class LogBlockTooLargeError extends ReadLogsError {
  constructor(block: bigint, refusal: LogQueryRefusal, cause: Error) {
    super(`the RPC refuses the logs of block ${block} alone (${refusal.reason}: ${refusal.message})`, {
      cause,
      name: "LogBlockTooLargeError",
    });
  }
}

/** The RPC answered eth_getLogs with something else than a list of logs. */
export class LogAnswerInvalidError extends ReadLogsError {
  constructor(fromBlock: bigint, toBlock: bigint) {
    super(`eth_getLogs for blocks ${fromBlock}…${toBlock} answered something else than a list`, {
      name: "LogAnswerInvalidError",
    });
  }
}

/**
 * Reads logs from `fromBlock` to `toBlock` in block ranges the RPC accepts, one answered query
 * at a time, so a caller can process (and drop) each chunk before the next is fetched. A query
 * refused as too big (block span, result count, response size, time out: see logQueryRefusal)
 * is asked again over a smaller span; answered full-size queries grow the span back (see
 * createLogRange). Any other failure is thrown as it came (the client's own retries apply):
 * logs are raw (`RpcLog`, hex numbers); format them with viem's `formatLog` or decode them as
 * they are.
 *
 * @example
 * for await (const { logs } of readLogsAdaptively(client, { address: ledger, fromBlock, toBlock: head }))
 *   for (const log of parseEventLogs({ abi: tweiLedgerAbi, logs: logs.map((l) => formatLog(l)) })) …
 */
export async function* readLogsAdaptively(
  client: Client,
  parameters: ReadLogsAdaptivelyParameters,
): AsyncGenerator<LogChunk, void, undefined> {
  const range = parameters.range ?? createLogRange();
  const address = parameters.address;
  for (let from = parameters.fromBlock; from <= parameters.toBlock;) {
    const to = range.end(from, parameters.toBlock);
    const span = to - from + 1n;
    let logs: unknown;
    try {
      logs = await client.request({
        method: "eth_getLogs",
        params: [
          {
            address: address as Address | Address[],
            ...(parameters.topics ? { topics: parameters.topics as (Hex | Hex[] | null)[] } : {}),
            fromBlock: numberToHex(from),
            toBlock: numberToHex(to),
          },
        ],
      });
    } catch (error) {
      const refusal = logQueryRefusal(error);
      if (refusal === undefined) throw error;
      if (!range.refused(span, refusal)) {
        // A timeout over one block is the RPC being slow, not the block being too big.
        if (refusal.reason === "timeout") throw error;
        throw new LogBlockTooLargeError(from, refusal, error as Error);
      }
      parameters.onRefusal?.(refusal, span, range.size);
      continue;
    }
    if (!Array.isArray(logs)) throw new LogAnswerInvalidError(from, to);
    range.answered(span);
    yield { fromBlock: from, toBlock: to, logs: logs as RpcLog[] };
    from = to + 1n;
  }
}
