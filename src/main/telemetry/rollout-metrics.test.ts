import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initialControl, type FailurePolicy, type Rollout, type RolloutPhase } from '../../domain/rollout.js';
import { haltReason, type WaveTally } from '../../domain/rollout-scheduler.js';
import type { RolloutEvents } from '../../rollouts/rollout-events.js';
import { haltReasonLabel, meteredRolloutEvents } from './rollout-metrics.js';

const tally = (size: number, failed: number): WaveTally => ({
  size,
  pending: 0,
  inProgress: 0,
  succeeded: size - failed,
  failed,
  skipped: 0,
  rollingBack: 0,
  rolledBack: 0,
  rollbackable: size,
});

test("the reason label reads the scheduler's own halt reasons", () => {
  const cases: { policy: FailurePolicy; tallies: WaveTally[]; label: string; reason: string }[] = [
    {
      policy: { maxFailedPercent: 10, maxFailed: null, onHalt: 'pause' },
      tallies: [tally(1, 0), tally(10, 2)],
      label: 'max_failed_percent',
      reason: 'a wave over its percentage',
    },
    {
      policy: { maxFailedPercent: null, maxFailed: 1, onHalt: 'rollback' },
      tallies: [tally(5, 1), tally(5, 1)],
      label: 'max_failed',
      reason: 'the total over its count',
    },
    {
      policy: { maxFailedPercent: 100, maxFailed: 0, onHalt: 'pause' },
      tallies: [tally(4, 1)],
      label: 'max_failed',
      reason: 'the total limit when no wave is over its percentage',
    },
  ];
  for (const { policy, tallies, label, reason } of cases) {
    const text = haltReason(policy, initialControl(), tallies);
    assert.ok(text, `${reason}: the policy halts`);
    assert.equal(haltReasonLabel(text), label, `${reason}: ${text}`);
  }
  assert.equal(haltReasonLabel(null), 'other');
  assert.equal(haltReasonLabel('an operator wrote this'), 'other');
});

test('a halt is counted once, on the transition the failure policy makes; news passes on', async () => {
  const rollout = (phase: RolloutPhase, haltReasonText: string | null) =>
    ({ id: 'ro-1', control: { ...initialControl(), phase, haltReason: haltReasonText } }) as Rollout;
  const counted: string[] = [];
  const told: string[] = [];
  const inner: RolloutEvents = {
    phaseChanged: async (r, from) => void told.push(`${from}→${r.control.phase}`),
    memberEvent: () => {
      throw new Error('not used');
    },
  };
  const events = meteredRolloutEvents(inner, { inc: (labels) => void counted.push(labels.reason) });
  const wave = 'wave 0: 1 of 1 tenants failed (more than 5%)';
  const transitions: { from: RolloutPhase; to: Rollout; halt: boolean; reason: string }[] = [
    { from: 'running', to: rollout('halted', wave), halt: true, reason: 'onHalt pause' },
    { from: 'running', to: rollout('rollingBack', wave), halt: true, reason: 'onHalt rollback' },
    { from: 'running', to: rollout('rollingBack', null), halt: false, reason: "an operator's rollback" },
    { from: 'halted', to: rollout('rollingBack', wave), halt: false, reason: 'rollback of a halted one' },
    { from: 'running', to: rollout('paused', null), halt: false, reason: 'a pause' },
    { from: 'halted', to: rollout('running', null), halt: false, reason: 'a resume' },
  ];
  for (const { from, to, halt, reason } of transitions) {
    const before = counted.length;
    await events.phaseChanged(to, from);
    assert.equal(counted.length - before, halt ? 1 : 0, reason);
  }
  assert.deepEqual(counted, ['max_failed_percent', 'max_failed_percent']);
  assert.equal(told.length, transitions.length, 'every change is passed on');
});
