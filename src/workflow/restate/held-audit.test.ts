import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { WorkflowStep } from '../../domain/workflow-run.js';
import { SHOW_WAIT_AFTER_MS } from '../run-records.js';
import { HeldAuditEntries } from './held-audit.js';

function entry(seq: number): WorkflowStep {
  const at = new Date(0).toISOString();
  return {
    runId: 'run',
    seq,
    name: `s${seq}`,
    kind: 'step',
    status: 'completed',
    result: null,
    error: null,
    startedAt: at,
    finishedAt: at,
    durationMs: 0,
  };
}

function recording(): { writes: number[][]; write: (entries: readonly WorkflowStep[]) => Promise<void> } {
  const writes: number[][] = [];
  return { writes, write: async (entries) => void writes.push(entries.map((e) => e.seq)) };
}

describe('held audit entries', () => {
  test('a write takes them all, in seq order; a failed one holds them again before later ones', () => {
    const { writes, write } = recording();
    const held = new HeldAuditEntries(write);
    held.hold(entry(1));
    held.hold(entry(2));
    const taken = held.take();
    assert.deepEqual(
      taken.map((e) => e.seq),
      [1, 2],
    );
    assert.equal(held.size, 0);
    held.hold(entry(3));
    held.restore(taken);
    assert.deepEqual(
      held.take().map((e) => e.seq),
      [1, 2, 3],
    );
    assert.deepEqual(writes, []);
  });

  test('entries nothing carried are written on their own once held for SHOW_WAIT_AFTER_MS', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { writes, write } = recording();
    const held = new HeldAuditEntries(write);
    held.hold(entry(1));
    t.mock.timers.tick(SHOW_WAIT_AFTER_MS - 1);
    held.hold(entry(2));
    assert.deepEqual(writes, []);
    t.mock.timers.tick(1);
    assert.deepEqual(writes, [[1, 2]]);
    held.hold(entry(3));
    held.take();
    t.mock.timers.tick(SHOW_WAIT_AFTER_MS);
    assert.deepEqual(writes, [[1, 2]], 'taken entries are not written again');
  });

  test('entries held when the attempt ends are written then', () => {
    const { writes, write } = recording();
    const attempt = new AbortController();
    const held = new HeldAuditEntries(write, attempt.signal);
    held.hold(entry(1));
    attempt.abort();
    assert.deepEqual(writes, [[1]]);
    assert.equal(held.size, 0);
  });
});
