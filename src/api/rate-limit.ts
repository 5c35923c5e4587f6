/**
 * Per-caller rate limit: a token bucket per key (token name, or client IP when anonymous) holding
 * `perMinute` tokens and refilling continuously. In memory, per process: with several replicas the
 * effective limit is per replica. Buckets that would be full again are dropped, so the map only
 * holds recently active callers.
 */

export interface RateLimiter {
  /** Takes one token for `key`; returns 0 when allowed, else the seconds to wait (Retry-After). */
  take(key: string): number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

const SWEEP_EVERY = 1000;

export function createRateLimiter(perMinute: number, now: () => number = Date.now): RateLimiter {
  if (!(perMinute > 0)) return { take: () => 0 };
  const buckets = new Map<string, Bucket>();
  const perMs = perMinute / 60_000;
  let calls = 0;

  const refill = (bucket: Bucket, at: number): void => {
    bucket.tokens = Math.min(perMinute, bucket.tokens + (at - bucket.updatedAt) * perMs);
    bucket.updatedAt = at;
  };

  const sweep = (at: number): void => {
    for (const [key, bucket] of buckets) {
      refill(bucket, at);
      if (bucket.tokens >= perMinute) buckets.delete(key);
    }
  };

  return {
    take(key) {
      const at = now();
      if (++calls % SWEEP_EVERY === 0) sweep(at);
      let bucket = buckets.get(key);
      if (!bucket) {
        bucket = { tokens: perMinute, updatedAt: at };
        buckets.set(key, bucket);
      }
      refill(bucket, at);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
    },
  };
}
