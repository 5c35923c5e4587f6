import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  count,
  duration,
  elapsed,
  eventLine,
  labelPairs,
  parseLabels,
  phaseTone,
  relativeTime,
} from './format.js';

const NOW = Date.parse('2026-01-15T12:00:00.000Z');

test('relativeTime: past and future, each unit, and unreadable input', () => {
  const cases = [
    { iso: '2026-01-15T12:00:02.000Z', want: 'just now', reason: 'within 5 s either way' },
    { iso: '2026-01-15T11:59:30.000Z', want: '30 sec. ago', reason: 'seconds' },
    { iso: '2026-01-15T11:57:00.000Z', want: '3 min. ago', reason: 'minutes' },
    { iso: '2026-01-15T10:00:00.000Z', want: '2 hr. ago', reason: 'hours' },
    { iso: '2026-01-12T12:00:00.000Z', want: '3 days ago', reason: 'days' },
    { iso: '2026-01-15T12:10:00.000Z', want: 'in 10 min.', reason: 'future' },
    { iso: null, want: '—', reason: 'missing' },
    { iso: 'yesterday', want: '—', reason: 'not a date' },
  ];
  for (const c of cases) assert.equal(relativeTime(c.iso, NOW), c.want, c.reason);
});

test('duration and elapsed', () => {
  const cases: [number | null, string][] = [
    [0, '0 ms'],
    [850, '850 ms'],
    [1234, '1.2 s'],
    [42_000, '42 s'],
    [185_000, '3 min 5 s'],
    [7_440_000, '2 h 4 min'],
    [-1, '—'],
    [null, '—'],
  ];
  for (const [ms, want] of cases) assert.equal(duration(ms), want, String(ms));
  assert.equal(elapsed('2026-01-15T11:59:58.000Z', '2026-01-15T12:00:00.000Z', NOW), '2.0 s');
  assert.equal(elapsed('2026-01-15T11:59:00.000Z', null, NOW), '1 min 0 s', 'still running: measured to now');
  assert.equal(elapsed(null, null, NOW), '—');
});

test('count groups thousands; phaseTone sorts phases by how they read', () => {
  assert.equal(count(100000), '100\u202f000');
  assert.equal(count(999), '999');
  assert.equal(phaseTone('ready'), 'ok');
  assert.equal(phaseTone('failed'), 'bad');
  assert.equal(phaseTone('archived'), 'off');
  assert.equal(phaseTone('suspended'), 'off', 'a suspended tenant is stopped on purpose, not busy');
  for (const phase of ['requested', 'provisioning', 'updating', 'deleting'] as const) {
    assert.equal(phaseTone(phase), 'busy', phase);
  }
});

test('labels: pairs sorted by key; typed text parsed, malformed pairs refused', () => {
  assert.deepEqual(labelPairs({ tier: 'gold', plan: 'pro' }), ['plan=pro', 'tier=gold']);
  assert.deepEqual(parseLabels(' plan=pro , tier=gold,'), { plan: 'pro', tier: 'gold' });
  assert.deepEqual(parseLabels(''), {});
  assert.deepEqual(parseLabels('empty='), { empty: '' });
  assert.throws(() => parseLabels('plan'), /not key=value/);
  assert.throws(() => parseLabels('=pro'), /not key=value/);
});

test('eventLine: a phase move shows both phases, other events their type', () => {
  const base = { message: 'provision run started', reason: 'ProvisionStarted' };
  assert.equal(
    eventLine({ ...base, type: 'PhaseChanged', fromPhase: 'requested', toPhase: 'provisioning' }),
    'requested → provisioning: provision run started',
  );
  assert.equal(
    eventLine({ type: 'SpecChanged', fromPhase: null, toPhase: null, message: '', reason: 'SpecChanged' }),
    'SpecChanged: SpecChanged',
  );
});
