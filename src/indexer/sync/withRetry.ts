import { IndexerError, RangeTooLargeError } from "../errors.js";
import { backoffDelay } from "./backoffDelay.js";

export interface RetryOptions {
  /** Attempts after the first, for retryable errors only. */
  readonly retries: number;
  /** The first wait; each next one doubles, up to `maxDelayMs`, with jitter. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly onRetry?: (error: IndexerError, attempt: number, delayMs: number) => void;
  readonly signal?: AbortSignal;
}

/**
 * Runs `work` until it succeeds, backing off after retryable IndexerErrors; anything else,
 * or the last failure, is thrown. RangeTooLargeError goes straight to the caller, which splits
 * the range instead of asking the same again.
 *
 * @example
 * const head = await withRetry(() => reader.head(), { retries: 5, baseDelayMs: 100, maxDelayMs: 5_000 })
 */
export async function withRetry<T>(work: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof IndexerError) || !error.retryable || error instanceof RangeTooLargeError) throw error;
      if (attempt > options.retries) throw error;
      if (options.signal?.aborted) throw error;
      const delayMs = backoffDelay(attempt, options);
      options.onRetry?.(error, attempt, delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
