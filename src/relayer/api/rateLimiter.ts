import { LRUCache } from "lru-cache";

/** A token bucket per key: `ratePerSecond` requests a second, up to `burst` at once. */
export interface RateLimiter {
  /** 0 when allowed (and counted), else the seconds until a request would be. */
  take(key: string | number): number;
}

/**
 * Buckets are kept for the `maxKeys` keys seen last (an LRU): memory stays bounded however many
 * clients ask; a key evicted comes back with a full bucket.
 *
 * @example
 * const limiter = createRateLimiter({ ratePerSecond: 200, burst: 400 }); if (limiter.take(siteId) > 0) throw …
 */
export function createRateLimiter(options: {
  ratePerSecond: number;
  burst: number;
  maxKeys?: number;
  now?: () => number;
}): RateLimiter {
  const now = options.now ?? (() => performance.now());
  const buckets = new LRUCache<string | number, { tokens: number; at: number }>({ max: options.maxKeys ?? 100_000 });
  return {
    take(key) {
      const t = now();
      const bucket = buckets.get(key) ?? { tokens: options.burst, at: t };
      bucket.tokens = Math.min(options.burst, bucket.tokens + ((t - bucket.at) / 1000) * options.ratePerSecond);
      bucket.at = t;
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return (1 - bucket.tokens) / options.ratePerSecond;
    },
  };
}
