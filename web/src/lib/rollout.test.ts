import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  mergeActiveRollouts,
  parseIndexes,
  parseNames,
  parseWaves,
  rolloutActive,
  rolloutCommands,
  waveSegments,
  waveSummary,
  type Wave,
} from './rollout.js';
import type { Rollout } from '../../../src/api/types.js';

test('rolloutCommands: the controls each phase offers', () => {
  const cases = [
    {
      phase: 'running' as const,
      want: ['pause', 'abort', 'rollback'],
      reason: 'a running rollout pauses, stops or undoes',
    },
    {
      phase: 'paused' as const,
      want: ['resume', 'promote', 'abort', 'rollback'],
      reason: 'a paused one also promotes',
    },
    {
      phase: 'halted' as const,
      want: ['resume', 'abort', 'rollback'],
      reason: 'halted: acknowledge and go on, or stop',
    },
    { phase: 'succeeded' as const, want: [], reason: 'a finished rollout has no control' },
    { phase: 'rollingBack' as const, want: [], reason: 'a rollback runs to its end' },
  ];
  for (const c of cases) assert.deepEqual(rolloutCommands(c.phase), c.want, c.reason);
  assert.equal(rolloutActive('paused'), true);
  assert.equal(rolloutActive('rolledBack'), false);
});

test('parseWaves: counts and percents; anything else refused by name', () => {
  assert.deepEqual(parseWaves('1, 10%, 100%'), [1, '10%', '100%']);
  assert.deepEqual(parseWaves(' 12.5% ,100%'), ['12.5%', '100%']);
  assert.throws(() => parseWaves(''), /at least one wave/);
  assert.throws(() => parseWaves('10%, half'), /"half"/);
  assert.throws(() => parseWaves('-1'), /"-1"/);
});

test('parseIndexes and parseNames', () => {
  assert.deepEqual(parseIndexes('', 'pause after'), []);
  assert.deepEqual(parseIndexes('0, 2', 'pause after'), [0, 2]);
  assert.throws(() => parseIndexes('1, x', 'pause after'), /pause after: "x"/);
  assert.deepEqual(parseNames('a, b  c,\nd'), ['a', 'b', 'c', 'd']);
});

test('waveSegments and waveSummary show the same progress', () => {
  const wave: Wave = {
    index: 0,
    size: 10,
    pending: 4,
    inProgress: 2,
    succeeded: 3,
    failed: 1,
    skipped: 0,
    rolledBack: 0,
    startedAt: null,
    finishedAt: null,
  };
  assert.deepEqual(
    waveSegments(wave).map((s) => [s.tone, s.percent]),
    [
      ['ok', 30],
      ['busy', 20],
      ['bad', 10],
    ],
    'pending members are the unfilled rest; empty parts are left out',
  );
  assert.equal(waveSummary(wave), '3/10 succeeded, 2 in progress, 1 failed');
  assert.deepEqual(waveSegments({ ...wave, size: 0 }), [], 'an empty wave has no bar');
});

test('mergeActiveRollouts: a rollout read on two phase pages is listed once, as updated last', () => {
  const rollout = (id: string, phase: Rollout['status']['phase'], createdAt: string, updatedAt: string) =>
    ({ id, createdAt, updatedAt, status: { phase } }) as Rollout;
  const moved = [
    rollout('b', 'running', '2026-01-01T00:00:02Z', '2026-01-01T00:00:03Z'),
    rollout('b', 'paused', '2026-01-01T00:00:02Z', '2026-01-01T00:00:04Z'),
  ];
  const older = rollout('a', 'halted', '2026-01-01T00:00:01Z', '2026-01-01T00:00:05Z');
  for (const pages of [
    [[moved[0]!], [moved[1]!], [older]],
    [[older], [moved[1]!], [moved[0]!]],
  ]) {
    const merged = mergeActiveRollouts(pages);
    assert.deepEqual(
      merged.map((r) => [r.id, r.status.phase]),
      [
        ['b', 'paused'],
        ['a', 'halted'],
      ],
    );
  }
  assert.deepEqual(mergeActiveRollouts([[], []]), []);
});
