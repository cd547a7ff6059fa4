/** A token bucket per key: `ratePerSecond` requests a second, up to `burst` at once. */
export interface RateLimiter {
  /** 0 when allowed (and counted), else the seconds until a request would be. */
  take(key: string | number): number;
}

/**
 * @example
 * const limiter = createRateLimiter({ ratePerSecond: 200, burst: 400 }); if (limiter.take(siteId) > 0) throw …
 */
export function createRateLimiter(options: { ratePerSecond: number; burst: number; now?: () => number }): RateLimiter {
  const now = options.now ?? (() => performance.now());
  const buckets = new Map<string | number, { tokens: number; at: number }>();
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
