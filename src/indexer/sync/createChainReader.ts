import { numberToHex, type Address, type Client, type Hex, type RpcLog } from "viem";
import { RpcRejectedError, type IndexerError } from "../errors.js";
import { classifyRpcError } from "./classifyRpcError.js";
import { withRetry, type RetryOptions } from "./withRetry.js";

export interface ChainBlock {
  readonly number: bigint;
  readonly hash: Hex;
  readonly parentHash: Hex;
}

export interface ChainReader {
  chainId(): Promise<number>;
  head(): Promise<bigint>;
  /** The canonical block at `number`, or null past the head. */
  block(number: bigint): Promise<ChainBlock | null>;
  /** The raw logs of `address` with one of `topics` in [from, to]; throws RangeTooLargeError to be split. */
  logs(from: bigint, to: bigint): Promise<RpcLog[]>;
}

export interface CreateChainReaderParameters {
  readonly client: Client;
  readonly address: readonly Address[];
  readonly topics: readonly Hex[];
  readonly retry: RetryOptions;
  /** Told of every failed call, retried or not (for the metrics). */
  readonly onError?: (error: IndexerError, method: string) => void;
}

/**
 * The JSON-RPC calls the indexer makes, raw (no per-log formatting: logs are decoded once,
 * by the indexer), each classified and retried with backoff when the failure may pass.
 *
 * @example
 * const reader = createChainReader({ client, address: [ledger, token], topics, retry })
 */
export function createChainReader(parameters: CreateChainReaderParameters): ChainReader {
  const { client, retry } = parameters;
  const call = <T>(method: string, params: unknown[]): Promise<T> =>
    withRetry(async () => {
      try {
        return (await client.request({ method, params } as never)) as T;
      } catch (error) {
        const classified = classifyRpcError(error, method);
        parameters.onError?.(classified, method);
        throw classified;
      }
    }, retry);
  return {
    async chainId() {
      return Number(BigInt(await call<Hex>("eth_chainId", [])));
    },
    async head() {
      return BigInt(await call<Hex>("eth_blockNumber", []));
    },
    async block(number) {
      const block = await call<{ number: Hex; hash: Hex; parentHash: Hex } | null>("eth_getBlockByNumber", [
        numberToHex(number),
        false,
      ]);
      if (block === null) return null;
      if (BigInt(block.number) !== number) throw new RpcRejectedError(`asked for block ${number}, got ${block.number}`);
      return { number, hash: block.hash, parentHash: block.parentHash };
    },
    async logs(from, to) {
      const logs = await call<RpcLog[]>("eth_getLogs", [
        {
          address: parameters.address,
          topics: [parameters.topics],
          fromBlock: numberToHex(from),
          toBlock: numberToHex(to),
        },
      ]);
      if (!Array.isArray(logs)) throw new RpcRejectedError("eth_getLogs answered something else than a list");
      return logs;
    },
  };
}
