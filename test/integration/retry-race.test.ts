/**
 * Regression test (fixed in 6307cd1) for a race found by test/e2e/spec-changes.test.ts on the
 * restate engine: a human retry (`POST /retry`) accepted right after the workflow recorded the
 * tenant's failure, but BEFORE the engine wrote the run's own terminal state, was swallowed. The
 * reconciler saw a tenant in `provisioning` whose latest run failed *after* the tenant's last change
 * (`finishedAt >= updatedAt`), concluded the run "failed without settling the tenant", and moved it
 * back to failed (RunFailed, ManualInterventionRequired) instead of starting `…:r1`.
 *
 * The restate engine writes the run's end through its run recorder after the workflow's last step,
 * tens of milliseconds later; the embedded engine has a shorter window of the same kind. The tenant
 * itself says the run DID settle it: `status.workflow` names that run with state `failed`, written
 * by the workflow's own final `setStatus` — only a run that dies unexpectedly leaves it `running`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideReconcile } from '../../src/controller/reconcile-decision.js';
import { initialStatus, type Tenant } from '../../src/domain/tenant.js';
import { asTenantRun, tenantRunTags } from '../../src/domain/tenant-run.js';

const tenantId = '01a2142f-97ca-7551-aa84-42dbc277c881';
const runId = `${tenantId}:provision:g1`;
const at = (ms: number): string => new Date(Date.UTC(2026, 10, 25, 19, 29, 53) + ms).toISOString();

/** The tenant right after `POST /retry` (t = 700 ms): back in provisioning, workflow status from the run. */
const retried: Tenant = {
  id: tenantId,
  name: 'retry-race',
  spec: {
    provider: 'process',
    config: {},
    labels: {},
    annotations: {},
    retryPolicy: { maxAttempts: 1 },
    paused: false,
  },
  generation: 1,
  status: {
    ...initialStatus(),
    phase: 'provisioning',
    message: 'retry requested by api:anonymous',
    workflow: { runId, action: 'provision', state: 'failed', attempt: 1 },
    compute: {
      executionId: `ex-${tenantId}-provision-g1-415e68e1464d82f2`,
      operation: 'provision',
      status: 'failed',
    },
  },
  version: 6,
  createdAt: at(0),
  updatedAt: at(700),
};

/** The run as the engine recorded it 50 ms after the retry. */
const failedRun = asTenantRun({
  runId,
  workflow: 'provision',
  tags: tenantRunTags({ tenantId, generation: 1, configHash: 'h', triggerSource: 'controller' }),
  engine: 'restate',
  state: 'failed',
  attempt: 1,
  input: { tenantId, generation: 1 },
  output: null,
  error: { message: 'provision failed: HEALTH_CHECK_FAILED' },
  wakeAt: null,
  leaseOwner: null,
  leaseExpiresAt: null,
  createdAt: at(200),
  updatedAt: at(750),
  finishedAt: at(750),
})!;

describe('reconcile decision: a retry that overtakes the failed run’s final write', () => {
  test('starts the retry run …:r1 instead of failing the tenant again', () => {
    const decision = decideReconcile(retried, [failedRun]);
    assert.deepEqual(
      decision.kind === 'start'
        ? { kind: decision.kind, action: decision.action, retry: decision.retry }
        : decision,
      { kind: 'start', action: 'provision', retry: 1 },
    );
  });
});
