/**
 * What becomes of a webhook delivery after one attempt (docs/api.md, "Webhooks"): delivered on a
 * 2xx; retried with exponential backoff and jitter on 5xx, 408, 429 (after `Retry-After` when the
 * endpoint sent one), timeouts and connection errors while the retry window lasts, then dead; a
 * 410 Gone fails it and disables the webhook; any other answer (4xx, redirects) and a destination
 * the guard refuses fail it without retry. Pure.
 */
import type { DeliveryStatus } from './webhook.js';

export interface AttemptResult {
  /** The endpoint's status; null when no response came (timeout, connection or DNS error). */
  readonly statusCode: number | null;
  /** Why it failed, for the record; null on success. */
  readonly error: string | null;
  /** `Retry-After` of a 429 or 5xx, in ms. */
  readonly retryAfterMs?: number;
  /** The destination was refused by the address guard: never retried. */
  readonly refused?: boolean;
}

export interface RetrySchedule {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Retries stop this long after the delivery was queued (or retried by hand). */
  readonly retryWindowMs: number;
}

export interface AttemptDecision {
  readonly status: DeliveryStatus;
  readonly nextAttemptAt?: number;
  readonly disableWebhook?: string;
}

const RETRIED_STATUSES = new Set([408, 429]);

export function isRetryable(result: AttemptResult): boolean {
  if (result.refused) return false;
  const code = result.statusCode;
  return code === null || code >= 500 || RETRIED_STATUSES.has(code);
}

/** Full backoff for attempt n (1-based): initial·2^(n−1), capped; jitter keeps 50–100 % of it. */
export function backoffMs(attempt: number, schedule: RetrySchedule, random: () => number): number {
  const base = Math.min(schedule.maxBackoffMs, schedule.initialBackoffMs * 2 ** Math.min(attempt - 1, 40));
  return Math.round(base / 2 + (random() * base) / 2);
}

export function decideAfterAttempt(
  result: AttemptResult,
  context: { readonly attempt: number; readonly windowStart: number; readonly now: number },
  schedule: RetrySchedule,
  random: () => number = Math.random,
): AttemptDecision {
  const code = result.statusCode;
  if (code !== null && code >= 200 && code < 300) return { status: 'delivered' };
  if (code === 410) return { status: 'failed', disableWebhook: 'the endpoint answered 410 Gone' };
  if (!isRetryable(result)) return { status: 'failed' };
  const wait = result.retryAfterMs ?? backoffMs(context.attempt, schedule, random);
  const nextAttemptAt = context.now + Math.max(0, wait);
  if (nextAttemptAt > context.windowStart + schedule.retryWindowMs) return { status: 'dead' };
  return { status: 'pending', nextAttemptAt };
}

/** `Retry-After` as delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | undefined, now: number): number | undefined {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  if (/^\d{1,10}$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
