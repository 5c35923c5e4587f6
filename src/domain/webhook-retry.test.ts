import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffMs, decideAfterAttempt, parseRetryAfter } from './webhook-retry.js';

const schedule = { initialBackoffMs: 1000, maxBackoffMs: 60_000, retryWindowMs: 86_400_000 };
const at = { attempt: 3, windowStart: 0, now: 10_000 };
const half = () => 0.5;

test('each answer leads to its outcome', () => {
  const cases = [
    { result: { statusCode: 200, error: null }, want: { status: 'delivered' }, reason: '2xx' },
    { result: { statusCode: 204, error: null }, want: { status: 'delivered' }, reason: '2xx' },
    {
      result: { statusCode: 410, error: 'gone' },
      want: { status: 'failed', disableWebhook: 'the endpoint answered 410 Gone' },
      reason: '410 disables',
    },
    { result: { statusCode: 400, error: 'x' }, want: { status: 'failed' }, reason: 'other 4xx' },
    { result: { statusCode: 404, error: 'x' }, want: { status: 'failed' }, reason: 'other 4xx' },
    {
      result: { statusCode: 301, error: 'x' },
      want: { status: 'failed' },
      reason: 'redirects are not followed',
    },
    {
      result: { statusCode: null, error: 'x', refused: true },
      want: { status: 'failed' },
      reason: 'refused',
    },
    {
      result: { statusCode: 500, error: 'x' },
      want: { status: 'pending', nextAttemptAt: 13_000 },
      reason: '5xx',
    },
    {
      result: { statusCode: 408, error: 'x' },
      want: { status: 'pending', nextAttemptAt: 13_000 },
      reason: '408',
    },
    {
      result: { statusCode: 429, error: 'x' },
      want: { status: 'pending', nextAttemptAt: 13_000 },
      reason: '429',
    },
    {
      result: { statusCode: null, error: 'timeout' },
      want: { status: 'pending', nextAttemptAt: 13_000 },
      reason: 'no answer',
    },
    {
      result: { statusCode: 429, error: 'x', retryAfterMs: 120_000 },
      want: { status: 'pending', nextAttemptAt: 130_000 },
      reason: 'Retry-After wins over the backoff',
    },
  ];
  for (const { result, want, reason } of cases) {
    assert.deepEqual(decideAfterAttempt(result, at, schedule, half), want, reason);
  }
});

test('past the retry window a retryable failure is dead', () => {
  const late = { attempt: 9, windowStart: 0, now: 86_399_000 };
  assert.deepEqual(decideAfterAttempt({ statusCode: 503, error: 'x' }, late, schedule, half), {
    status: 'dead',
  });
});

test('backoff doubles up to the cap and keeps 50-100 % of it', () => {
  assert.equal(
    backoffMs(1, schedule, () => 0),
    500,
  );
  assert.equal(
    backoffMs(1, schedule, () => 1),
    1000,
  );
  assert.equal(
    backoffMs(4, schedule, () => 1),
    8000,
  );
  assert.equal(
    backoffMs(30, schedule, () => 1),
    60_000,
  );
  assert.equal(
    backoffMs(1000, schedule, () => 0),
    30_000,
  );
});

test('Retry-After as seconds or a date', () => {
  assert.equal(parseRetryAfter('7', 0), 7000);
  assert.equal(parseRetryAfter(new Date(60_000).toUTCString(), 0), 60_000);
  assert.equal(parseRetryAfter(new Date(0).toUTCString(), 60_000), 0);
  assert.equal(parseRetryAfter('soon', 0), undefined);
  assert.equal(parseRetryAfter(undefined, 0), undefined);
});
