import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initialStatus, type Phase, type Tenant } from '../domain/tenant.js';
import type { RunState, WorkflowAction } from '../domain/operations.js';
import type { TenantRun } from '../domain/tenant-run.js';
import { tenantRunFixture } from '../domain/testing/tenant-run-fixture.js';
import { decideReconcile, settledBy, type ReconcileDecision } from './reconcile-decision.js';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:00:01.000Z';
const T2 = '2026-01-01T00:00:02.000Z';

function tenant(
  phase: Phase,
  generation: number,
  observedGeneration: number,
  extra: Partial<Tenant> = {},
): Tenant {
  return {
    id: 't1',
    name: 'acme',
    spec: { provider: 'fake', config: {}, labels: {}, annotations: {}, retryPolicy: null, paused: false },
    generation,
    status: { ...initialStatus(), phase, observedGeneration },
    version: 1,
    createdAt: T0,
    updatedAt: T1,
    ...extra,
  };
}

function run(
  action: WorkflowAction,
  generation: number,
  state: RunState,
  retry = 0,
  finishedAt: string | null = null,
): TenantRun {
  const runId = `t1:${action}:g${generation}${retry ? `:r${retry}` : ''}`;
  return tenantRunFixture({ tenantId: 't1', action, generation, state, runId, at: T0, finishedAt });
}

const paused = (t: Tenant): Tenant => ({ ...t, spec: { ...t.spec, paused: true } });

interface Case {
  readonly reason: string;
  readonly tenant: Tenant;
  readonly runs: readonly TenantRun[];
  readonly expect: Partial<ReconcileDecision> & { kind: ReconcileDecision['kind'] };
}

const suspended = (t: Tenant): Tenant => ({ ...t, spec: { ...t.spec, suspended: true } });

const cases: readonly Case[] = [
  {
    reason: 'a ready tenant asked to suspend gets a suspend run',
    tenant: suspended(tenant('ready', 2, 1)),
    runs: [run('provision', 1, 'succeeded', 0, T0)],
    expect: { kind: 'start', action: 'suspend', retry: 0 },
  },
  {
    reason: 'a suspended tenant asked to stay suspended is left alone, even with a newer spec',
    tenant: suspended(tenant('suspended', 3, 2)),
    runs: [run('suspend', 2, 'succeeded', 0, T0)],
    expect: { kind: 'none' },
  },
  {
    reason: 'a suspended tenant no longer asked to be gets a resume run',
    tenant: tenant('suspended', 3, 2),
    runs: [run('suspend', 2, 'succeeded', 0, T0)],
    expect: { kind: 'start', action: 'resume', retry: 0 },
  },
  {
    reason: 'a failed tenant with a newer spec asking to suspend gets a suspend run',
    tenant: suspended(tenant('failed', 3, 1)),
    runs: [run('update', 2, 'failed', 0, T0)],
    expect: { kind: 'start', action: 'suspend', retry: 0 },
  },
  {
    reason: 'a retried failed suspend (updating, no run) suspends again',
    tenant: suspended(tenant('updating', 2, 1, { updatedAt: T2 })),
    runs: [run('suspend', 2, 'failed', 0, T1)],
    expect: { kind: 'start', action: 'suspend', retry: 1 },
  },
  {
    reason: 'a resume backing off for an older spec gives way to a suspend when suspended again',
    tenant: suspended(tenant('updating', 4, 2)),
    runs: [run('resume', 3, 'backing-off')],
    expect: { kind: 'start', action: 'suspend', retry: 0, cancel: ['t1:resume:g3'] },
  },
  {
    reason: 'a new tenant gets its first provision run',
    tenant: tenant('requested', 1, 0),
    runs: [],
    expect: { kind: 'start', action: 'provision', retry: 0 },
  },
  {
    reason: 'an active run is left to finish',
    tenant: tenant('provisioning', 1, 0),
    runs: [run('provision', 1, 'waiting')],
    expect: { kind: 'none' },
  },
  {
    reason: 'a run recorded but maybe never submitted is started again under its own id',
    tenant: tenant('requested', 1, 0),
    runs: [run('provision', 1, 'pending')],
    expect: { kind: 'resubmit' },
  },
  {
    reason: 'a converged ready tenant needs nothing',
    tenant: tenant('ready', 1, 1),
    runs: [run('provision', 1, 'succeeded', 0, T0)],
    expect: { kind: 'none' },
  },
  {
    reason: 'a newer spec on a ready tenant is an update',
    tenant: tenant('ready', 2, 1),
    runs: [run('provision', 1, 'succeeded', 0, T0)],
    expect: { kind: 'start', action: 'update', retry: 0 },
  },
  {
    reason: 'a healthy run for an older generation finishes first',
    tenant: tenant('updating', 3, 1),
    runs: [run('update', 2, 'waiting')],
    expect: { kind: 'none' },
  },
  {
    reason: 'a run backing off for an older spec is cancelled and replaced at once',
    tenant: tenant('updating', 3, 1),
    runs: [run('update', 2, 'backing-off')],
    expect: { kind: 'start', action: 'update', cancel: ['t1:update:g2'] },
  },
  {
    reason: 'a first provision backing off for an older spec is replaced by a provision',
    tenant: tenant('provisioning', 2, 0),
    runs: [run('provision', 1, 'backing-off')],
    expect: { kind: 'start', action: 'provision', cancel: ['t1:provision:g1'] },
  },
  {
    reason: 'failed is steady for the spec that failed',
    tenant: tenant('failed', 1, 0),
    runs: [run('provision', 1, 'failed', 0, T0)],
    expect: { kind: 'none' },
  },
  {
    reason: 'a failed tenant with a newer spec is provisioned again when it never ran',
    tenant: tenant('failed', 2, 0),
    runs: [run('provision', 1, 'failed', 0, T0)],
    expect: { kind: 'start', action: 'provision', retry: 0 },
  },
  {
    reason: 'a failed tenant with a newer spec is updated when it ran before',
    tenant: tenant('failed', 3, 1),
    runs: [run('update', 2, 'failed', 0, T0)],
    expect: { kind: 'start', action: 'update', retry: 0 },
  },
  {
    reason: 'a human retry (phase moved after the failed run) starts the next retry suffix',
    tenant: tenant('provisioning', 1, 0, { updatedAt: T2 }),
    runs: [run('provision', 1, 'failed', 0, T1)],
    expect: { kind: 'start', action: 'provision', retry: 1 },
  },
  {
    reason: 'a human retry after retention deleted earlier runs takes the suffix after the newest kept one',
    tenant: tenant('provisioning', 1, 0, { updatedAt: T2 }),
    runs: [run('provision', 1, 'failed', 2, T1)],
    expect: { kind: 'start', action: 'provision', retry: 3 },
  },
  {
    reason: 'a run that died without settling the tenant is surfaced as failed, not restarted',
    tenant: tenant('provisioning', 1, 0, { updatedAt: T1 }),
    runs: [run('provision', 1, 'failed', 0, T2)],
    expect: { kind: 'fail', runId: 't1:provision:g1' },
  },
  {
    reason: 'delete cancels the active provision and starts a delete',
    tenant: tenant('deleting', 1, 0),
    runs: [run('provision', 1, 'backing-off')],
    expect: { kind: 'start', action: 'delete', cancel: ['t1:provision:g1'] },
  },
  {
    reason: 'delete already running',
    tenant: tenant('deleting', 1, 1),
    runs: [run('delete', 1, 'waiting')],
    expect: { kind: 'none' },
  },
  {
    reason: 'a delete run recorded but maybe never submitted is started again (crash between the two)',
    tenant: tenant('deleting', 1, 1),
    runs: [run('delete', 1, 'pending'), run('provision', 1, 'succeeded', 0, T0)],
    expect: { kind: 'resubmit' },
  },
  {
    reason: 'a retried delete gets the next suffix',
    tenant: tenant('deleting', 1, 1, { updatedAt: T2 }),
    runs: [run('delete', 1, 'failed', 0, T1)],
    expect: { kind: 'start', action: 'delete', retry: 1 },
  },
  { reason: 'archived is final', tenant: tenant('archived', 1, 1), runs: [], expect: { kind: 'none' } },
  {
    reason: 'paused sets the condition and cancels backing-off runs',
    tenant: paused(tenant('provisioning', 1, 0)),
    runs: [run('provision', 1, 'backing-off')],
    expect: { kind: 'set-paused', paused: true, cancel: ['t1:provision:g1'] },
  },
  {
    reason: 'paused with the condition set does nothing, even with work to do',
    tenant: paused({
      ...tenant('ready', 2, 1),
      status: {
        ...tenant('ready', 2, 1).status,
        conditions: [
          {
            type: 'Paused',
            status: 'True',
            reason: 'SpecPaused',
            message: '',
            lastTransitionTime: T0,
            observedGeneration: 2,
          },
        ],
      },
    }),
    runs: [],
    expect: { kind: 'none' },
  },
  {
    reason: 'unpausing clears the condition first',
    tenant: {
      ...tenant('ready', 2, 1),
      status: {
        ...tenant('ready', 2, 1).status,
        conditions: [
          {
            type: 'Paused',
            status: 'True',
            reason: 'SpecPaused',
            message: '',
            lastTransitionTime: T0,
            observedGeneration: 2,
          },
        ],
      },
    },
    runs: [],
    expect: { kind: 'set-paused', paused: false },
  },
];

for (const c of cases) {
  test(`decideReconcile: ${c.reason}`, () => {
    const decision = decideReconcile(c.tenant, c.runs);
    const picked = Object.fromEntries(
      Object.keys(c.expect).map((key) => [key, (decision as unknown as Record<string, unknown>)[key]]),
    );
    if ('run' in c.expect) delete picked.run;
    assert.deepEqual(picked, c.expect, JSON.stringify(decision));
  });
}

test('decideReconcile is pure: the same state gives the same decision', () => {
  for (const c of cases)
    assert.deepEqual(decideReconcile(c.tenant, c.runs), decideReconcile(c.tenant, c.runs));
});

/** The tenant as the run `ended` left it: `phase`, and that run recorded as its last. */
function leftBy(ended: TenantRun, phase: Phase, generation: number, observedGeneration: number): Tenant {
  const base = tenant(phase, generation, observedGeneration);
  return {
    ...base,
    status: {
      ...base.status,
      workflow: { runId: ended.runId, action: ended.action, state: ended.state, attempt: 1 },
    },
  };
}

test('settledBy: a run that left its tenant converged settles it without reading the runs', () => {
  const provisioned = run('provision', 1, 'succeeded', 0, T2);
  assert.equal(settledBy(leftBy(provisioned, 'ready', 1, 1), provisioned), true);
  const failed = run('update', 2, 'failed', 0, T2);
  assert.equal(settledBy(leftBy(failed, 'failed', 2, 1), failed), true);
});

test('settledBy: anything left to do, or another run on record, reads the runs', () => {
  const provisioned = run('provision', 1, 'succeeded', 0, T2);
  // The spec moved on during the run.
  assert.equal(settledBy(leftBy(provisioned, 'ready', 2, 1), provisioned), false);
  // A suspend asked for during the provision.
  const suspending = leftBy(provisioned, 'ready', 1, 1);
  assert.equal(
    settledBy({ ...suspending, spec: { ...suspending.spec, suspended: true } }, provisioned),
    false,
  );
  // Paused meanwhile: the Paused condition is still to be set.
  assert.equal(settledBy({ ...suspending, spec: { ...suspending.spec, paused: true } }, provisioned), false);
  // The tenant records a newer run (started since), or none at all.
  const newer = run('update', 1, 'running', 1);
  assert.equal(settledBy(leftBy(newer, 'updating', 1, 1), provisioned), false);
  assert.equal(settledBy(tenant('ready', 1, 1), provisioned), false);
  // Died without settling the tenant: the full decision fails it.
  const died = run('provision', 1, 'failed', 0, T2);
  assert.equal(settledBy(leftBy(died, 'provisioning', 1, 0), died), false);
  // Not ended, or another tenant's run.
  const running = run('provision', 1, 'running');
  assert.equal(settledBy(leftBy(running, 'ready', 1, 1), running), false);
  assert.equal(settledBy({ ...leftBy(provisioned, 'ready', 1, 1), id: 't2' }, provisioned), false);
});
