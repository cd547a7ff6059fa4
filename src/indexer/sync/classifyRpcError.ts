import { BaseError, HttpRequestError, RpcRequestError, TimeoutError } from "viem";
import { logQueryRefusal } from "../../chain/logQueryRefusal.js";
import { IndexerError, RangeTooLargeError, RpcRejectedError, RpcUnavailableError } from "../errors.js";

/**
 * Sorts an RPC failure into the indexer's errors: RangeTooLargeError (try a smaller block
 * range), RpcUnavailableError (try again later) or RpcRejectedError (give up).
 *
 * @example
 * catch (error) { throw classifyRpcError(error, "eth_getLogs") }
 */
export function classifyRpcError(error: unknown, method: string): IndexerError {
  if (error instanceof IndexerError) return error;
  const options = { cause: error };
  const short = error instanceof BaseError ? error.shortMessage : String(error);
  const chain = error instanceof BaseError ? [error, ...causes(error)] : [];
  const rpc = chain.find((e): e is RpcRequestError => e instanceof RpcRequestError);
  const http = chain.find((e): e is HttpRequestError => e instanceof HttpRequestError);
  const timedOut = chain.some((e) => e instanceof TimeoutError);
  // Block span, result count, response size (the provider's or viem's own 10 MB), time out.
  const refusal = method === "eth_getLogs" ? logQueryRefusal(error) : undefined;
  if (refusal)
    return new RangeTooLargeError(`${method}: the range is too large (${refusal.reason}: ${short})`, refusal, options);
  if (timedOut) return new RpcUnavailableError(`${method} timed out`, options);
  if (http) {
    const status = http.status;
    if (status === undefined || status === 408 || status === 429 || status >= 500)
      return new RpcUnavailableError(`${method} failed: ${status ?? "no response"}`, options);
    return new RpcRejectedError(`${method} was refused with HTTP ${status}`, options);
  }
  if (rpc) {
    // -32603 internal, -32005 limit exceeded, -32000 server error: providers use them for overload.
    if ([-32603, -32005, -32000, -32002, 429].includes(rpc.code))
      return new RpcUnavailableError(`${method} failed: ${short}`, options);
    return new RpcRejectedError(`${method} was refused: ${short}`, options);
  }
  if (error instanceof TypeError || /fetch failed|socket|ECONN|EPIPE|network/i.test(String(error)))
    return new RpcUnavailableError(`${method} failed: no response`, options);
  return new RpcRejectedError(`${method} failed: ${short}`, options);
}

function causes(error: Error): Error[] {
  const found: Error[] = [];
  let current: unknown = error.cause;
  while (current instanceof Error && found.length < 10) {
    found.push(current);
    current = current.cause;
  }
  return found;
}
