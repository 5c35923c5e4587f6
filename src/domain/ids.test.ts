/** Identifiers: uuid v7 for records, deterministic ids for runs and executions (docs/architecture.md). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeExecutionId, newId, nextRetry, retryOf, workflowRunId } from './ids.js';

test('newId is a lowercase uuid v7, unique and time-ordered', () => {
  const ids = Array.from({ length: 1000 }, () => newId());
  for (const id of ids)
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual([...ids].sort(), ids, 'ids generated later sort later (keyset pagination relies on it)');
});

const runIds: readonly { reason: string; args: Parameters<typeof workflowRunId>; expect: string }[] = [
  { reason: 'first run of a generation', args: ['t1', 'provision', 1], expect: 't1:provision:g1' },
  { reason: 'retry 0 is the plain id', args: ['t1', 'update', 3, 0], expect: 't1:update:g3' },
  { reason: 'a human retry gets a suffix', args: ['t1', 'delete', 2, 4], expect: 't1:delete:g2:r4' },
];

for (const { reason, args, expect } of runIds) {
  test(`workflowRunId: ${reason}`, () => assert.equal(workflowRunId(...args), expect));
}

for (const [runId, retry] of [
  ['t1:provision:g1', 0],
  ['t1:update:g3:r2', 2],
  ['t1:delete:g12:r10', 10],
] as const) {
  test(`retryOf reads back the suffix of ${runId}`, () => assert.equal(retryOf(runId), retry));
}

const run = (action: 'provision' | 'update', generation: number, retry: number) => ({
  runId: workflowRunId('t1', action, generation, retry),
  action,
  generation,
});

const nextRetries: readonly { reason: string; runs: ReturnType<typeof run>[]; expect: number }[] = [
  { reason: 'no run of the action and generation: the plain id', runs: [run('provision', 1, 0)], expect: 0 },
  {
    reason: 'after every earlier run: the next suffix',
    runs: [run('update', 2, 1), run('update', 2, 0)],
    expect: 2,
  },
  {
    reason: 'earlier runs deleted by retention: past the newest, never a suffix used before',
    runs: [run('update', 2, 2)],
    expect: 3,
  },
  {
    reason: 'other generations and actions do not count',
    runs: [run('update', 1, 5), run('provision', 2, 4)],
    expect: 0,
  },
];

for (const { reason, runs, expect } of nextRetries) {
  test(`nextRetry: ${reason}`, () => assert.equal(nextRetry(runs, 'update', 2), expect));
}

const base = {
  tenantId: 't1',
  operation: 'provision',
  generation: 2,
  effectiveConfigHash: 'cfg',
  workflowRunId: 't1:provision:g2',
} as const;

test('computeExecutionId is deterministic and readable', () => {
  const id = computeExecutionId(base);
  assert.equal(computeExecutionId({ ...base }), id);
  assert.match(id, /^ex-t1-provision-g2-[0-9a-f]{16}$/);
});

const differs = [
  { reason: 'changed config', change: { effectiveConfigHash: 'cfg2' } },
  {
    reason: 'another run of the same generation (human retry, drift repair)',
    change: { workflowRunId: 't1:provision:g2:r1' },
  },
  { reason: 'another generation', change: { generation: 3 } },
  { reason: 'another operation', change: { operation: 'update' as const } },
  { reason: 'another tenant', change: { tenantId: 't2' } },
];

for (const { reason, change } of differs) {
  test(`computeExecutionId differs for ${reason}`, () => {
    assert.notEqual(computeExecutionId({ ...base, ...change }), computeExecutionId(base));
  });
}
