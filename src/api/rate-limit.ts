/**
 * Per-caller rate limit: a token bucket per key (token name, or client IP when anonymous) holding
 * `perMinute` tokens and refilling continuously. In memory, per process: with several replicas the
 * effective limit is per replica. Buckets that would be full again are dropped, so the map only
 * holds recently active callers; past `maxKeys` callers the oldest bucket is dropped too (which
 * forgives that caller), so memory stays bounded even under a flood of distinct keys.
 */

export interface RateLimiter {
  /** Takes one token for `key`; returns 0 when allowed, else the seconds to wait (Retry-After). */
  take(key: string): number;
  /** Like `take` without taking: 0 when `key` has a token left, else the seconds until it has. */
  peek(key: string): number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

const SWEEP_EVERY = 1000;
export const DEFAULT_MAX_KEYS = 100_000;

export function createRateLimiter(
  perMinute: number,
  now: () => number = Date.now,
  maxKeys: number = DEFAULT_MAX_KEYS,
): RateLimiter {
  if (!(perMinute > 0)) return { take: () => 0, peek: () => 0 };
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

  const makeRoom = (at: number): void => {
    if (buckets.size < maxKeys) return;
    sweep(at);
    for (const key of buckets.keys()) {
      if (buckets.size < maxKeys) break;
      buckets.delete(key);
    }
  };

  const waitFor = (bucket: Bucket): number => Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));

  return {
    take(key) {
      const at = now();
      if (++calls % SWEEP_EVERY === 0) sweep(at);
      let bucket = buckets.get(key);
      if (!bucket) {
        makeRoom(at);
        bucket = { tokens: perMinute, updatedAt: at };
        buckets.set(key, bucket);
      }
      refill(bucket, at);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return waitFor(bucket);
    },
    peek(key) {
      const bucket = buckets.get(key);
      if (!bucket) return 0;
      refill(bucket, now());
      return bucket.tokens >= 1 ? 0 : waitFor(bucket);
    },
  };
}
