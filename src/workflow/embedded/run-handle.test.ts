/**
 * A held run's termination: one state, changed only through the handle's methods, where a later
 * termination replaces an earlier one only when it ranks higher; and whether the definition's
 * result still counts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StepKind, StepStatus, WorkflowRun, WorkflowStep } from '../../domain/workflow-run.js';
import { RunCancelledError } from '../context.js';
import { ExecutionStopped, RunHandle, type Termination } from './run-handle.js';

const CLAIMED: WorkflowRun = {
  runId: 'r1',
  workflow: 'w',
  tags: {},
  engine: 'embedded',
  state: 'pending',
  attempt: 1,
  input: null,
  output: null,
  error: null,
  wakeAt: 0,
  leaseOwner: 'me',
  leaseExpiresAt: 1_000,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: null,
};

type Act = (handle: RunHandle) => void;
const cancel: Act = (h) => h.cancel();
const stop =
  (reason: 'suspended' | 'lease-lost' | 'closing'): Act =>
  (h) =>
    h.stop(reason);
const BROKEN = new Error('non-determinism');
const fail: Act = (h) => void h.fail(BROKEN);

const CASES: readonly { reason: string; acts: readonly Act[]; expected: Termination }[] = [
  { reason: 'nothing happened', acts: [], expected: { kind: 'none' } },
  {
    reason: 'the first stop reason stays',
    acts: [stop('suspended'), stop('lease-lost')],
    expected: { kind: 'stopped', reason: 'suspended' },
  },
  {
    reason: 'a failure beats a stop',
    acts: [stop('closing'), fail],
    expected: { kind: 'failed', error: BROKEN },
  },
  {
    reason: 'a stop does not undo a failure',
    acts: [fail, stop('lease-lost')],
    expected: { kind: 'failed', error: BROKEN },
  },
  { reason: 'a cancellation beats a failure', acts: [fail, cancel], expected: { kind: 'cancelled' } },
  { reason: 'a cancellation beats a stop', acts: [stop('closing'), cancel], expected: { kind: 'cancelled' } },
  {
    reason: 'nothing after a cancellation changes it',
    acts: [cancel, stop('lease-lost'), fail],
    expected: { kind: 'cancelled' },
  },
];

for (const { reason, acts, expected } of CASES) {
  test(`termination: ${reason}`, () => {
    const handle = new RunHandle(CLAIMED, { waiting: 0 }, 0);
    for (const act of acts) act(handle);
    assert.deepEqual(handle.termination, expected);
    assert.equal(handle.live, expected.kind === 'none');
  });
}

test('checkpoint throws what the termination says, and then the result no longer counts', () => {
  const cases: readonly { act: Act; thrown: (error: unknown) => boolean }[] = [
    { act: stop('lease-lost'), thrown: (e) => e instanceof ExecutionStopped && e.reason === 'lease-lost' },
    { act: cancel, thrown: (e) => e instanceof RunCancelledError },
    { act: fail, thrown: (e) => e === BROKEN },
  ];
  for (const { act, thrown } of cases) {
    const handle = new RunHandle(CLAIMED, { waiting: 0 }, 0);
    assert.doesNotThrow(() => handle.checkpoint());
    act(handle);
    assert.throws(() => handle.checkpoint(), thrown);
    const counts = handle.outcomeCounts({ ok: true, value: 1 });
    assert.equal(counts, handle.termination.kind === 'failed', `after ${handle.termination.kind}`);
  }
});

test('a stop that never reached workflow code leaves its result standing', () => {
  const handle = new RunHandle(CLAIMED, { waiting: 0 }, 0);
  handle.stop('closing');
  assert.equal(handle.outcomeCounts({ ok: true, value: 'finished within the grace' }), true);
  assert.equal(handle.outcomeCounts({ ok: false, error: new ExecutionStopped('closing') }), false);
  assert.ok(handle.interrupt('store-error') instanceof ExecutionStopped);
  assert.equal(handle.outcomeCounts({ ok: true, value: 'too late' }), false);
});

test('the row view: written states, the running write, the attempt of a restart', () => {
  const handle = new RunHandle({ ...CLAIMED, state: 'running', attempt: 2 }, { waiting: 0 }, 0);
  handle.begin([
    entry(1, 'step', 'completed'),
    entry(2, 'promise', 'completed'),
    entry(3, 'step', 'completed'),
  ]);
  assert.deepEqual([handle.restarted, handle.attempt, handle.needsRunningWrite], [true, 3, true]);
  handle.wrote('running');
  assert.equal(handle.needsRunningWrite, false);
  handle.wrote('waiting');
  assert.deepEqual([handle.shownState, handle.needsRunningWrite], ['waiting', true]);
  handle.renewed(5_000);
  assert.equal(handle.leaseExpiresAt, 5_000);
});

test('a run whose journal ends in an open wait was waiting, not mid-step: no new attempt', () => {
  for (const state of ['pending', 'running'] as const) {
    const handle = new RunHandle({ ...CLAIMED, state, attempt: 2 }, { waiting: 0 }, 0);
    handle.begin([entry(1, 'step', 'completed'), entry(2, 'promise', 'started')]);
    assert.deepEqual([handle.restarted, handle.attempt], [false, 2], state);
  }
  const stepped = new RunHandle({ ...CLAIMED, state: 'pending', attempt: 2 }, { waiting: 0 }, 0);
  stepped.begin([entry(1, 'promise', 'completed')]);
  assert.deepEqual([stepped.restarted, stepped.attempt], [true, 3]);
});

function entry(seq: number, kind: StepKind, status: StepStatus): WorkflowStep {
  return {
    runId: CLAIMED.runId,
    seq,
    name: `call-${seq}`,
    kind,
    status,
    result: null,
    error: null,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: status === 'started' ? null : '2026-01-01T00:00:00.000Z',
    durationMs: status === 'started' ? null : 0,
  };
}
