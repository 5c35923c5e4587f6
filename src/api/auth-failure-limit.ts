/**
 * Brute-force brake on bearer tokens: each 401 takes a token from the client IP's bucket of
 * `perMinute`; while that bucket is empty, every request from the IP that needs a token gets 429
 * RATE_LIMITED with `Retry-After` BEFORE its token is looked at — so guessing cannot go faster than
 * the limit, and a right guess is not told apart from a wrong one while locked out. Open routes
 * (health, metrics, docs) stay reachable. Behind a proxy every client shares the proxy's address;
 * `perMinute: 0` turns the brake off. Memory is bounded by the limiter (see rate-limit.ts).
 */
import { httpError, HttpProblem } from './problem.js';
import { createRateLimiter } from './rate-limit.js';

export interface AuthFailureLimit {
  /** Throws RATE_LIMITED while `ip` has used up its failures. */
  assertNotLockedOut(ip: string): void;
  /** Runs `authenticate`; a 401 it throws is counted against `ip`, then rethrown. */
  counting<T>(ip: string, authenticate: () => T): T;
  /** What `counting` does with what authentication threw: a 401 counts against `ip`. */
  failed(ip: string, error: unknown): void;
}

export function createAuthFailureLimit(perMinute: number, now: () => number = Date.now): AuthFailureLimit {
  const failures = createRateLimiter(perMinute, now);
  const failed = (ip: string, error: unknown): void => {
    if (error instanceof HttpProblem && error.code === 'UNAUTHORIZED') failures.take(ip);
  };
  return {
    assertNotLockedOut(ip) {
      const waitSeconds = failures.peek(ip);
      if (waitSeconds === 0) return;
      throw httpError(
        'RATE_LIMITED',
        `too many failed authentications from this address; retry in ${waitSeconds} s`,
        { headers: { 'retry-after': String(waitSeconds) } },
      );
    },
    counting(ip, authenticate) {
      try {
        return authenticate();
      } catch (error) {
        failed(ip, error);
        throw error;
      }
    },
    failed,
  };
}
