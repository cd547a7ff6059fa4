import type { LogQueryRefusal } from "../chain/logQueryRefusal.js";
import { scrubUrls } from "../observability/logger.js";

/**
 * The indexer's one error base: a short message and the `cause`. Subclasses say whether
 * trying again can help (`retryable`), so the sync loop backs off or stops.
 */
export class IndexerError extends Error {
  override name = "IndexerError";
  readonly retryable: boolean = false;
  constructor(message: string, options: { cause?: unknown } = {}) {
    // RPC URLs can carry API keys: never let one into a message.
    super(scrubUrls(message), options.cause === undefined ? {} : { cause: options.cause });
  }
}

/** The RPC failed in a way that may pass (network, timeout, 5xx, rate limit). */
export class RpcUnavailableError extends IndexerError {
  override name = "RpcUnavailableError";
  override readonly retryable = true;
}

/** The RPC refused a log query as too large; a smaller block range may pass. */
export class RangeTooLargeError extends IndexerError {
  override name = "RangeTooLargeError";
  override readonly retryable = true;
  constructor(
    message: string,
    /** Why, as src/chain/logQueryRefusal.ts read the RPC's answer. */
    readonly refusal: LogQueryRefusal,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** The chain changed under a range while it was read; reading it again will pass. */
export class ChainMovedError extends IndexerError {
  override name = "ChainMovedError";
  override readonly retryable = true;
}

/** The RPC answered something that cannot be right, or refused the request for good. */
export class RpcRejectedError extends IndexerError {
  override name = "RpcRejectedError";
}

/** What the chain says contradicts itself or the indexer's decoding (a bug, never retried). */
export class InvariantError extends IndexerError {
  override name = "InvariantError";
}

/** The database belongs to another deployment or chain than the one configured. */
export class StoreMismatchError extends IndexerError {
  override name = "StoreMismatchError";
}

/** Another process holds the PostgreSQL writer lock: only one indexer may sync a database. */
export class IndexerWriterBusyError extends IndexerError {
  override name = "IndexerWriterBusyError";
}

/**
 * The writer's locked session ended (database restart, network): nothing more is written on
 * it; the next write first takes the writer lock again on a new session.
 */
export class IndexerWriterLostError extends IndexerError {
  override name = "IndexerWriterLostError";
  override readonly retryable = true;
}

/** A read-only store (INDEXER_SYNC=false) was asked to write. */
export class ReadOnlyStoreError extends IndexerError {
  override name = "ReadOnlyStoreError";
}
