/** --wait / --watch: judging a tenant's state, and following it over SSE or by polling. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { LessorClient } from '../api/client.js';
import type { Tenant } from '../api/types.js';
import { sampleTenant } from './testing/sample-tenant.js';
import { startTestLessor, type TestLessor } from './testing/test-lessor.js';
import { criteriaAfterWrite, judge, waitForTenant, type WaitCriteria, type WaitGoal } from './wait.js';

const failedRun = { runId: 'r1', action: 'provision' as const, state: 'failed' as const, attempt: 1 };
const lastError = {
  code: 'IMAGE_UNAVAILABLE' as const,
  message: 'no such image',
  classification: 'non_retriable' as const,
};

function tenant(
  phase: Tenant['status']['phase'],
  observedGeneration: number,
  generation: number,
  extra: Partial<Tenant['status']> = {},
): Tenant {
  return sampleTenant({ phase, observedGeneration, ...extra }, generation);
}

function criteria(goal: WaitGoal, generation: number, staleRun: string | null = null): WaitCriteria {
  return { goal, generation, staleRun };
}

test('judge: when a followed tenant is done, failed or still pending', () => {
  const cases: readonly {
    reason: string;
    tenant: Tenant;
    criteria: WaitCriteria;
    leftFailed?: boolean;
    expected: string;
  }[] = [
    {
      reason: 'ready at the written generation',
      tenant: tenant('ready', 2, 2),
      criteria: criteria('ready', 2),
      expected: 'done',
    },
    {
      reason: 'ready at an older generation: the update has not started',
      tenant: tenant('ready', 1, 2),
      criteria: criteria('ready', 2),
      expected: 'pending',
    },
    {
      reason: 'provisioning',
      tenant: tenant('provisioning', 0, 1),
      criteria: criteria('ready', 1),
      expected: 'pending',
    },
    {
      reason: 'failed after create',
      tenant: tenant('failed', 0, 1, { lastError }),
      criteria: criteria('ready', 1),
      expected: 'failed',
    },
    {
      reason: 'still the old failure right after a fixing patch',
      tenant: tenant('failed', 0, 2, { workflow: failedRun }),
      criteria: criteria('ready', 2, 'r1#1'),
      expected: 'pending',
    },
    {
      reason: 'a new run failed after the patch',
      tenant: tenant('failed', 0, 2, { workflow: { ...failedRun, runId: 'r2' } }),
      criteria: criteria('ready', 2, 'r1#1'),
      expected: 'failed',
    },
    {
      reason: 'the same run failed again after the tenant moved on',
      tenant: tenant('failed', 0, 2, { workflow: failedRun }),
      criteria: criteria('ready', 2, 'r1#1'),
      leftFailed: true,
      expected: 'failed',
    },
    {
      reason: 'deleted while waiting for ready',
      tenant: tenant('archived', 1, 1),
      criteria: criteria('ready', 1),
      expected: 'failed',
    },
    {
      reason: 'archived',
      tenant: tenant('archived', 1, 1),
      criteria: criteria('archived', 1),
      expected: 'done',
    },
    {
      reason: 'deleting',
      tenant: tenant('deleting', 1, 1),
      criteria: criteria('archived', 1),
      expected: 'pending',
    },
    {
      reason: 'delete failed',
      tenant: tenant('failed', 1, 1, { lastError }),
      criteria: criteria('archived', 1),
      expected: 'failed',
    },
    {
      reason: 'watch: ready at its own generation',
      tenant: tenant('ready', 3, 3),
      criteria: criteria('settled', 1),
      expected: 'done',
    },
    {
      reason: 'watch: ready but behind',
      tenant: tenant('ready', 2, 3),
      criteria: criteria('settled', 1),
      expected: 'pending',
    },
    {
      reason: 'watch: archived is settled',
      tenant: tenant('archived', 1, 1),
      criteria: criteria('settled', 1),
      expected: 'done',
    },
    {
      reason: 'watch: failed',
      tenant: tenant('failed', 0, 1),
      criteria: criteria('settled', 1),
      expected: 'failed',
    },
  ];
  for (const { reason, tenant: t, criteria: c, leftFailed = false, expected } of cases) {
    assert.equal(judge(t, c, { leftFailed }).kind, expected, reason);
  }
});

test('judge: the failure reason is the last error', () => {
  const verdict = judge(tenant('failed', 0, 1, { lastError }), criteria('ready', 1), { leftFailed: false });
  assert.deepEqual(verdict, { kind: 'failed', reason: 'IMAGE_UNAVAILABLE (non_retriable): no such image' });
});

test('criteria after a write: only a write that triggered work on a failed tenant makes its failure stale', () => {
  const failed = tenant('failed', 0, 1, { workflow: failedRun });
  const patched = { ...failed, generation: 2 };
  assert.equal(
    criteriaAfterWrite('ready', patched, failed).staleRun,
    'r1#1',
    'new generation: wait for the new run',
  );
  assert.equal(
    criteriaAfterWrite('ready', failed, failed).staleRun,
    null,
    'nothing changed: the failure stands',
  );
  assert.equal(criteriaAfterWrite('ready', tenant('requested', 0, 1)).staleRun, null, 'create');
  assert.equal(criteriaAfterWrite('ready', patched, failed).generation, 2);
});

// The rest follows tenants on a whole Lessor in this process (real API, embedded engine, fake provider).
let api: TestLessor;
let client: LessorClient;
before(async () => {
  api = await startTestLessor();
  client = new LessorClient({ baseUrl: api.url });
});
after(() => api.close());

/** What `onChange` promises to report a change of, with the phase first. */
function observed(t: Tenant): string {
  const { phase, compute, observedGeneration, endpoints, lastError, workflow } = t.status;
  const rest = [compute, observedGeneration, t.generation, endpoints, lastError?.code, workflow?.state];
  return `${phase} ${JSON.stringify(rest)}`;
}

for (const events of [true, false]) {
  const how = events ? 'over SSE' : 'by polling';
  test(`waitForTenant ${how}: create → ready, each change reported once`, async () => {
    const created = await client.createTenant({ name: `w-${events}`, spec: { config: { image: 'app:1' } } });
    const seen: string[] = [];
    const result = await waitForTenant(
      {
        client,
        tenantId: created.id,
        criteria: criteriaAfterWrite('ready', created),
        timeoutMs: 60_000,
        events,
        onChange: (t) => seen.push(observed(t)),
      },
      created,
    );
    assert.equal(result.outcome, 'done');
    assert.equal(result.tenant.status.phase, 'ready');
    assert.match(seen[0] ?? '', /^requested /);
    assert.match(seen.at(-1) ?? '', /^ready /);
    // The same phase may come back with a new compute status; the same observation never twice.
    assert.ok(
      seen.every((entry, i) => i === 0 || entry !== seen[i - 1]),
      `no duplicates:\n${seen.join('\n')}`,
    );
  });
}

test('waitForTenant: a failing tenant ends failed with its error; a stuck one times out', async () => {
  const broken = await client.createTenant({
    name: 'w-broken',
    spec: { config: { image: 'app:1', faults: { nonRetriable: true } } },
  });
  const failed = await waitForTenant(
    { client, tenantId: broken.id, criteria: criteriaAfterWrite('ready', broken), timeoutMs: 60_000 },
    broken,
  );
  assert.equal(failed.outcome, 'failed');
  assert.match(failed.outcome === 'failed' ? failed.reason : '', /IMAGE_UNAVAILABLE/);

  const stuck = await client.createTenant({
    name: 'w-stuck',
    spec: { config: { image: 'app:1', faults: { hang: true } } },
  });
  // The provider call hangs once the controller started the run: wait for that, then time out.
  while ((await client.getTenant(stuck.id)).status.phase !== 'provisioning') {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const started = Date.now();
  const timedOut = await waitForTenant(
    { client, tenantId: stuck.id, criteria: criteriaAfterWrite('ready', stuck), timeoutMs: 400 },
    stuck,
  );
  assert.equal(timedOut.outcome, 'timeout');
  assert.equal(timedOut.tenant.status.phase, 'provisioning');
  assert.ok(Date.now() - started < 30_000, 'the timeout is honoured, not waited out forever');
});

test('waitForTenant: a fixing patch of a failed tenant waits for the new run instead of reporting the old failure', async () => {
  const broken = await client.createTenant({
    name: 'w-fix',
    spec: { config: { image: 'app:1', faults: { nonRetriable: true } } },
  });
  await waitForTenant(
    { client, tenantId: broken.id, criteria: criteriaAfterWrite('ready', broken), timeoutMs: 60_000 },
    broken,
  );
  const before = await client.getTenant(broken.id);
  const patched = await client.patchTenant(broken.id, { spec: { config: { faults: null } } });
  assert.equal(patched.status.phase, 'failed', 'the patch answers before the controller moves');
  const result = await waitForTenant(
    {
      client,
      tenantId: patched.id,
      criteria: criteriaAfterWrite('ready', patched, before),
      timeoutMs: 60_000,
    },
    patched,
  );
  assert.equal(result.outcome, 'done');
  assert.equal(result.tenant.status.observedGeneration, 2);
});

test('waitForTenant: delete → archived, and a purge while waiting counts as gone', async () => {
  const created = await client.createTenant({ name: 'w-del', spec: { config: { image: 'app:1' } } });
  await waitForTenant(
    { client, tenantId: created.id, criteria: criteriaAfterWrite('ready', created), timeoutMs: 60_000 },
    created,
  );
  const deleting = await client.deleteTenant(created.id);
  assert.ok(deleting);
  const result = await waitForTenant(
    { client, tenantId: created.id, criteria: criteriaAfterWrite('archived', deleting), timeoutMs: 60_000 },
    deleting,
  );
  assert.equal(result.outcome, 'done');
  assert.equal(result.tenant.status.phase, 'archived');

  await client.deleteTenant(created.id, { purge: true });
  const gone = await waitForTenant(
    {
      client,
      tenantId: created.id,
      criteria: criteriaAfterWrite('archived', deleting),
      timeoutMs: 60_000,
      events: false,
    },
    deleting,
  );
  assert.equal(gone.outcome, 'done', 'a purged tenant is as deleted as it gets');
});
