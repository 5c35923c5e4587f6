/**
 * `applyTenantChange`: table-driven examples, then a fast-check property over random sequences of
 * spec and phase changes — the phase never leaves the table, and the PhaseChanged events form one
 * consistent chain with monotonic generations.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { InvalidTransitionError } from './errors.js';
import { canTransition } from './phase-machine.js';
import { applyTenantChange, type TenantChange } from './tenant-change.js';
import type { TenantEventDraft } from './tenant-event.js';
import { initialStatus, PHASES, type Phase, type Tenant, type TenantSpec } from './tenant.js';

const NOW = '2030-01-01T00:00:00.000Z';

function spec(image = 'busybox', labels: Record<string, string> = {}): TenantSpec {
  return { provider: 'fake', config: { image }, labels, annotations: {}, retryPolicy: null, paused: false };
}

function tenant(overrides: Partial<Tenant> = {}): Tenant {
  return {
    id: 't1',
    name: 'acme',
    spec: spec(),
    generation: 1,
    status: initialStatus(),
    version: 1,
    createdAt: '2029-01-01T00:00:00.000Z',
    updatedAt: '2029-01-01T00:00:00.000Z',
    ...overrides,
  };
}

test('an equal spec (other key order) changes nothing and returns the same tenant', () => {
  const before = tenant({ spec: spec('busybox', { a: '1', b: '2' }) });
  const reordered = { ...spec('busybox'), labels: { b: '2', a: '1' } };
  const applied = applyTenantChange(before, { actor: 'api', spec: reordered }, NOW);
  assert.equal(applied.changed, false);
  assert.equal(applied.tenant, before);
  assert.deepEqual(applied.events, []);
});

const cases: readonly {
  reason: string;
  change: TenantChange;
  expect: (t: Tenant, events: readonly TenantEventDraft[]) => void;
}[] = [
  {
    reason: 'a different spec bumps generation and version and says so',
    change: { actor: 'api:ops', spec: spec('nginx') },
    expect: (t, events) => {
      assert.deepEqual([t.generation, t.version, t.updatedAt, t.spec.config.image], [2, 2, NOW, 'nginx']);
      assert.deepEqual(
        events.map((e) => [e.type, e.actor, e.generation]),
        [['SpecChanged', 'api:ops', 2]],
      );
    },
  },
  {
    reason: 'a phase change records who, why, from, to, run and execution',
    change: {
      actor: 'controller',
      phase: {
        to: 'provisioning',
        reason: 'ProvisionStarted',
        runId: 'r1',
        executionId: 'e1',
        message: 'go',
      },
    },
    expect: (t, events) => {
      assert.deepEqual(
        [t.status.phase, t.status.message, t.generation, t.version],
        ['provisioning', 'go', 1, 2],
      );
      assert.deepEqual(events, [
        {
          type: 'PhaseChanged',
          actor: 'controller',
          reason: 'ProvisionStarted',
          message: 'go',
          fromPhase: 'requested',
          toPhase: 'provisioning',
          generation: 1,
          runId: 'r1',
          executionId: 'e1',
        },
      ]);
    },
  },
  {
    reason: 'an explicit status message wins over the phase message',
    change: {
      actor: 'c',
      phase: { to: 'provisioning', reason: 'r', message: 'phase msg' },
      status: { message: 'status msg' },
    },
    expect: (t) => assert.equal(t.status.message, 'status msg'),
  },
  {
    reason: 'the same phase again is no transition and no event',
    change: { actor: 'c', phase: { to: 'requested', reason: 'again' } },
    expect: (t, events) => {
      assert.equal(t.version, 1);
      assert.deepEqual(events, []);
    },
  },
  {
    reason: 'conditions are stamped with the generation and the time',
    change: { actor: 'c', conditions: [{ type: 'Ready', status: 'False', reason: 'Provisioning' }] },
    expect: (t, events) => {
      assert.deepEqual(t.status.conditions, [
        {
          type: 'Ready',
          status: 'False',
          reason: 'Provisioning',
          message: '',
          lastTransitionTime: NOW,
          observedGeneration: 1,
        },
      ]);
      assert.deepEqual(events, []);
      assert.equal(t.version, 2);
    },
  },
  {
    reason: 'audit entries become events after the phase event',
    change: {
      actor: 'api',
      phase: { to: 'deleting', reason: 'DeleteRequested' },
      audit: [{ type: 'DeleteRequested', reason: 'User', message: 'bye' }],
    },
    expect: (_t, events) =>
      assert.deepEqual(
        events.map((e) => e.type),
        ['PhaseChanged', 'DeleteRequested'],
      ),
  },
  {
    reason: 'status fields other than phase are merged',
    change: { actor: 'w', status: { observedGeneration: 1, resources: { id: 'c1' } } },
    expect: (t) =>
      assert.deepEqual(
        [t.status.observedGeneration, t.status.resources, t.status.phase],
        [1, { id: 'c1' }, 'requested'],
      ),
  },
];

for (const { reason, change, expect } of cases) {
  test(reason, () => {
    const applied = applyTenantChange(tenant(), change, NOW);
    expect(applied.tenant, applied.events);
    assert.equal(applied.changed, applied.tenant.version === 2);
  });
}

test('a refused transition throws and leaves the input untouched', () => {
  const before = tenant();
  const snapshot = structuredClone(before);
  assert.throws(
    () =>
      applyTenantChange(before, { actor: 'x', spec: spec('new'), phase: { to: 'ready', reason: 'r' } }, NOW),
    InvalidTransitionError,
  );
  assert.deepEqual(before, snapshot);
});

type Op =
  { kind: 'spec'; image: string } | { kind: 'phase'; to: Phase } | { kind: 'status'; message: string };

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('spec' as const), image: fc.constantFrom('a', 'b', 'c') }),
  fc.record({ kind: fc.constant('phase' as const), to: fc.constantFrom(...PHASES) }),
  fc.record({ kind: fc.constant('status' as const), message: fc.constantFrom('x', 'y') }),
);

function changeOf(op: Op): TenantChange {
  if (op.kind === 'spec') return { actor: 'p', spec: spec(op.image) };
  if (op.kind === 'phase') return { actor: 'p', phase: { to: op.to, reason: 'Random' } };
  return { actor: 'p', status: { message: op.message } };
}

test('property: random change sequences keep the phase in the table and the event chain consistent', () => {
  fc.assert(
    fc.property(fc.array(opArbitrary, { maxLength: 40 }), (ops) => {
      let current = tenant();
      const events: TenantEventDraft[] = [];
      let writes = 0;
      for (const op of ops) {
        const from = current.status.phase;
        const refused = op.kind === 'phase' && op.to !== from && !canTransition(from, op.to);
        if (refused) {
          assert.throws(() => applyTenantChange(current, changeOf(op), NOW), InvalidTransitionError);
          continue;
        }
        const applied = applyTenantChange(current, changeOf(op), NOW);
        if (applied.changed) writes += 1;
        events.push(...applied.events);
        current = applied.tenant;
        assert.ok(PHASES.includes(current.status.phase));
      }
      const phaseEvents = events.filter((e) => e.type === 'PhaseChanged');
      let expectedFrom: Phase = 'requested';
      for (const e of phaseEvents) {
        assert.equal(e.fromPhase, expectedFrom);
        assert.ok(canTransition(e.fromPhase, e.toPhase!), `${e.fromPhase} -> ${String(e.toPhase)}`);
        expectedFrom = e.toPhase!;
      }
      assert.equal(expectedFrom, current.status.phase);
      assert.ok(events.every((e, i) => i === 0 || e.generation >= events[i - 1]!.generation));
      assert.equal(current.generation, 1 + events.filter((e) => e.type === 'SpecChanged').length);
      assert.equal(current.version, 1 + writes);
    }),
    { numRuns: 500 },
  );
});
