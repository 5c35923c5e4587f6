import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tenant, TenantEvent, TenantSummary } from '../../../src/api/types.js';
import {
  appendEvent,
  appendLogLines,
  applyToRows,
  applyToSummary,
  prependEvent,
  rolloutIdOf,
} from './reducer.js';

function tenant(id: string, phase: Tenant['status']['phase'], generation = 1): Tenant {
  return {
    id,
    name: id,
    spec: {
      provider: 'fake',
      plan: null,
      config: {},
      labels: {},
      annotations: {},
      retryPolicy: null,
      paused: false,
      suspended: false,
    },
    generation,
    status: {
      phase,
      observedGeneration: generation,
      message: '',
      compute: null,
      workflow: null,
      resources: {},
      endpoints: [],
      lastError: null,
      effectiveConfigHash: null,
      conditions: [],
    },
    version: 1,
    createdAt: '2026-01-15T12:00:00.000Z',
    updatedAt: '2026-01-15T12:00:00.000Z',
  };
}

let seq = 0;
function event(tenantId: string, patch: Partial<TenantEvent>): TenantEvent {
  seq += 1;
  return {
    seq,
    tenantId,
    at: `2026-01-15T12:00:${String(seq).padStart(2, '0')}.000Z`,
    type: 'PhaseChanged',
    actor: 'controller',
    reason: 'r',
    message: '',
    fromPhase: null,
    toPhase: null,
    generation: 1,
    runId: null,
    executionId: null,
    ...patch,
  };
}

function summary(phases: Partial<TenantSummary['phases']>): TenantSummary {
  const all = {
    requested: 0,
    provisioning: 0,
    ready: 0,
    updating: 0,
    deleting: 0,
    archived: 0,
    failed: 0,
    suspended: 0,
    ...phases,
  };
  return { total: Object.entries(all).reduce((s, [p, n]) => (p === 'archived' ? s : s + n), 0), phases: all };
}

test('applyToRows: a phase change moves the row; other tenants and other events leave the array as it was', () => {
  const rows = [tenant('a', 'requested'), tenant('b', 'ready')];
  const moved = applyToRows(rows, event('a', { fromPhase: 'requested', toPhase: 'provisioning' }));
  assert.notEqual(moved, rows);
  assert.equal(moved[0]!.status.phase, 'provisioning');
  assert.equal(moved[1], rows[1], 'the other row is the same object');
  assert.equal(rows[0]!.status.phase, 'requested', 'the input is not mutated');
  const cases = [
    { e: event('zzz', { fromPhase: 'requested', toPhase: 'ready' }), reason: 'a tenant not on the page' },
    { e: event('b', { type: 'RunStateChanged' }), reason: 'not a phase event' },
    { e: event('b', { fromPhase: 'updating', toPhase: 'ready' }), reason: 'already in that phase' },
    { e: event('b', { type: 'SpecChanged', generation: 1 }), reason: 'a generation it already has' },
  ];
  for (const c of cases) assert.equal(applyToRows(rows, c.e), rows, c.reason);
});

test('applyToRows: a spec change raises the generation', () => {
  const rows = [tenant('a', 'ready', 1)];
  const next = applyToRows(rows, event('a', { type: 'SpecChanged', generation: 2 }));
  assert.equal(next[0]!.generation, 2);
  assert.equal(next[0]!.status.phase, 'ready');
});

test('applyToSummary: created, moved and archived tenants; never below zero', () => {
  let s = summary({ ready: 2 });
  s = applyToSummary(s, event('n', { type: 'Created', toPhase: 'requested' }));
  assert.deepEqual([s.total, s.phases.requested], [3, 1]);
  s = applyToSummary(s, event('n', { fromPhase: 'requested', toPhase: 'provisioning' }));
  s = applyToSummary(s, event('n', { fromPhase: 'provisioning', toPhase: 'ready' }));
  assert.deepEqual([s.total, s.phases.requested, s.phases.provisioning, s.phases.ready], [3, 0, 0, 3]);
  s = applyToSummary(s, event('n', { fromPhase: 'ready', toPhase: 'deleting' }));
  s = applyToSummary(s, event('n', { fromPhase: 'deleting', toPhase: 'archived' }));
  assert.deepEqual([s.total, s.phases.ready, s.phases.archived], [2, 2, 1]);
  const same = applyToSummary(s, event('n', { type: 'Audit' }));
  assert.equal(same, s, 'an event without a phase move changes nothing');
  const floor = applyToSummary(summary({}), event('x', { fromPhase: 'failed', toPhase: 'provisioning' }));
  assert.equal(floor.phases.failed, 0, 'an event the counts never saw does not go negative');
  assert.equal(floor.phases.provisioning, 1);
});

test('feeds: newest first without duplicates, capped; timelines in order', () => {
  const a = event('a', {});
  const b = event('a', {});
  const c = event('a', {});
  let feed = prependEvent([], a, 2);
  feed = prependEvent(feed, b, 2);
  feed = prependEvent(feed, b, 2);
  feed = prependEvent(feed, c, 2);
  assert.deepEqual(
    feed.map((e) => e.seq),
    [c.seq, b.seq],
  );
  let timeline = appendEvent([], a);
  timeline = appendEvent(timeline, c);
  timeline = appendEvent(timeline, b);
  assert.deepEqual(
    timeline.map((e) => e.seq),
    [a.seq, c.seq],
    'an older event after a newer one is dropped',
  );
});

test('appendLogLines keeps the newest lines up to the bound and counts the dropped ones', () => {
  const line = (n: number) => ({ ts: `2026-01-01T00:00:0${n}Z`, stream: 'stdout' as const, line: `l${n}` });
  const empty = { lines: [], dropped: 0 };
  const cases = [
    {
      reason: 'under the bound: all kept',
      view: empty,
      added: [line(1), line(2)],
      max: 3,
      want: ['l1', 'l2'],
      dropped: 0,
    },
    {
      reason: 'over the bound: oldest dropped',
      view: { lines: [line(1), line(2)], dropped: 0 },
      added: [line(3), line(4)],
      max: 3,
      want: ['l2', 'l3', 'l4'],
      dropped: 1,
    },
    {
      reason: 'a burst bigger than the bound',
      view: { lines: [line(1)], dropped: 5 },
      added: [line(2), line(3), line(4)],
      max: 2,
      want: ['l3', 'l4'],
      dropped: 7,
    },
  ];
  for (const c of cases) {
    const next = appendLogLines(c.view, c.added, c.max);
    assert.deepEqual(
      next.lines.map((l) => l.line),
      c.want,
      c.reason,
    );
    assert.equal(next.dropped, c.dropped, c.reason);
  }
  const same = { lines: [line(1)], dropped: 0 };
  assert.equal(appendLogLines(same, [], 3), same, 'nothing added: the same object (no re-render)');
});

test('rolloutIdOf: the rollout of rollout.* events only', () => {
  const base = event('t1', {});
  const cases = [
    {
      reason: 'a rollout phase change',
      e: { ...base, type: 'rollout.paused', tenantId: null, data: { rolloutId: 'r1' } },
      want: 'r1',
    },
    {
      reason: 'a member change',
      e: { ...base, type: 'rollout.tenant_changed', data: { rolloutId: 'r2', wave: 0 } },
      want: 'r2',
    },
    { reason: 'a tenant event', e: { ...base, data: { rolloutId: 'r3' } }, want: undefined },
    { reason: 'no id', e: { ...base, type: 'rollout.started', data: {} }, want: undefined },
  ];
  for (const c of cases) assert.equal(rolloutIdOf(c.e), c.want, c.reason);
});
