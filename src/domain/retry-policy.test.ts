/** Retry policy: layering of overrides, `decideOnError` per classification, backoff bounds with jitter. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ComputeErrorCode, ComputeErrorShape, ErrorClassification } from './compute-error.js';
import {
  backoffMs,
  decideOnError,
  DEFAULT_RETRY_POLICY,
  resolveRetryPolicy,
  type ErrorAction,
  type RetryPolicy,
} from './retry-policy.js';

function error(
  code: ComputeErrorCode,
  classification: ErrorClassification,
  retryAfterMs?: number,
): ComputeErrorShape {
  return { code, message: code, classification, ...(retryAfterMs !== undefined && { retryAfterMs }) };
}

test('the documented defaults: 1 s initial, x2, 5 min cap, 8 attempts, full jitter', () => {
  assert.deepEqual(
    [
      DEFAULT_RETRY_POLICY.initialBackoffMs,
      DEFAULT_RETRY_POLICY.multiplier,
      DEFAULT_RETRY_POLICY.maxBackoffMs,
      DEFAULT_RETRY_POLICY.maxAttempts,
      DEFAULT_RETRY_POLICY.jitter,
    ],
    [1000, 2, 300_000, 8, true],
  );
});

test('layers override in order; undefined fields and missing layers change nothing; onError merges', () => {
  const policy = resolveRetryPolicy({ maxAttempts: 3, onError: { RATE_LIMITED: 'pause' } }, null, undefined, {
    maxAttempts: undefined,
    initialBackoffMs: 10,
    onError: { CONFLICT: 'fail' },
  });
  assert.equal(policy.maxAttempts, 3);
  assert.equal(policy.initialBackoffMs, 10);
  assert.equal(policy.maxBackoffMs, DEFAULT_RETRY_POLICY.maxBackoffMs);
  assert.deepEqual(policy.onError, { RATE_LIMITED: 'pause', CONFLICT: 'fail' });
  assert.deepEqual(DEFAULT_RETRY_POLICY.onError, {}, 'defaults are not mutated');
});

const decisions: readonly {
  reason: string;
  policy?: Partial<RetryPolicy>;
  error: ComputeErrorShape;
  attempt: number;
  expect: ErrorAction;
}[] = [
  {
    reason: 'retriable retries while attempts remain',
    error: error('PROVIDER_TIMEOUT', 'retriable'),
    attempt: 1,
    expect: 'retry',
  },
  {
    reason: 'retriable fails on the last attempt',
    error: error('PROVIDER_TIMEOUT', 'retriable'),
    attempt: 8,
    expect: 'fail',
  },
  {
    reason: 'retriable fails past the last attempt',
    error: error('RATE_LIMITED', 'retriable'),
    attempt: 9,
    expect: 'fail',
  },
  {
    reason: 'non_retriable fails at once',
    error: error('INVALID_CONFIG', 'non_retriable'),
    attempt: 1,
    expect: 'fail',
  },
  {
    reason: 'manual_intervention fails at once',
    error: error('PERMISSION_DENIED', 'manual_intervention'),
    attempt: 1,
    expect: 'fail',
  },
  {
    reason: 'declared onError wins over the classification',
    policy: { onError: { INVALID_CONFIG: 'retry' } },
    error: error('INVALID_CONFIG', 'non_retriable'),
    attempt: 1,
    expect: 'retry',
  },
  {
    reason: 'declared pause is kept even on the last attempt',
    policy: { onError: { QUOTA_EXCEEDED: 'pause' } },
    error: error('QUOTA_EXCEEDED', 'manual_intervention'),
    attempt: 8,
    expect: 'pause',
  },
  {
    reason: 'declared rollback is kept',
    policy: { onError: { PARTIAL_FAILURE: 'rollback' } },
    error: error('PARTIAL_FAILURE', 'retriable'),
    attempt: 2,
    expect: 'rollback',
  },
  {
    reason: 'declared retry still stops at maxAttempts',
    policy: { maxAttempts: 2, onError: { INTERNAL: 'retry' } },
    error: error('INTERNAL', 'manual_intervention'),
    attempt: 2,
    expect: 'fail',
  },
  {
    reason: 'a one-attempt policy never retries',
    policy: { maxAttempts: 1 },
    error: error('CONFLICT', 'retriable'),
    attempt: 1,
    expect: 'fail',
  },
];

for (const { reason, policy, error: err, attempt, expect } of decisions) {
  test(`decideOnError: ${reason}`, () => {
    assert.equal(decideOnError({ ...DEFAULT_RETRY_POLICY, ...policy }, err, attempt), expect);
  });
}

test('backoff without jitter is exponential and capped', () => {
  const policy = { ...DEFAULT_RETRY_POLICY, jitter: false };
  const delays = [1, 2, 3, 4, 9, 10, 50].map((attempt) => backoffMs(policy, attempt));
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 256_000, 300_000, 300_000]);
  assert.equal(backoffMs(policy, 0), 1000, 'attempt 0 is treated as the first');
});

test('full jitter: random 0 gives 0, random just below 1 stays below the cap', () => {
  assert.equal(
    backoffMs(DEFAULT_RETRY_POLICY, 3, undefined, () => 0),
    0,
  );
  assert.equal(
    backoffMs(DEFAULT_RETRY_POLICY, 3, undefined, () => 0.999_999),
    3999,
  );
});

test('property: jittered backoff stays within [max(retryAfter, 0), max(retryAfter, capped)]', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 60 }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: undefined }),
      fc.record({
        initialBackoffMs: fc.integer({ min: 1, max: 10_000 }),
        multiplier: fc.double({ min: 1, max: 4, noNaN: true }),
        maxBackoffMs: fc.integer({ min: 1, max: 600_000 }),
      }),
      (attempt, random, retryAfterMs, shape) => {
        const policy = { ...DEFAULT_RETRY_POLICY, ...shape };
        const capped = Math.min(
          policy.maxBackoffMs,
          policy.initialBackoffMs * policy.multiplier ** (attempt - 1),
        );
        const delay = backoffMs(policy, attempt, retryAfterMs, () => random);
        assert.ok(Number.isFinite(delay));
        assert.ok(delay >= (retryAfterMs ?? 0), 'retryAfterMs is a lower bound');
        assert.ok(delay <= Math.max(retryAfterMs ?? 0, capped), `delay ${delay} above cap ${capped}`);
      },
    ),
    { numRuns: 1000 },
  );
});

test('retryAfterMs beyond the computed backoff is honoured exactly', () => {
  assert.equal(
    backoffMs(DEFAULT_RETRY_POLICY, 1, 45_000, () => 0.5),
    45_000,
  );
  assert.equal(backoffMs({ ...DEFAULT_RETRY_POLICY, jitter: false }, 20, 900_000), 900_000);
});
