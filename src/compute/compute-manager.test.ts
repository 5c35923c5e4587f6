import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isValidExecutionPath } from '../domain/compute-execution.js';
import { ValidationError } from '../domain/errors.js';
import { statusWriteOf } from '../domain/tenant-change.js';
import { initialStatus, type ExecutionStatus, type Tenant } from '../domain/tenant.js';
import type { ExecutionView } from './compute-api.js';
import { ledgerBackends, type LedgerHarness } from './testing/ledger-backends.js';
import {
  fakeManager,
  fakeSpec,
  startRequest,
  uniqueName,
  waitForStatus,
} from './testing/manager-fixtures.js';

const statuses = (view: ExecutionView) => view.history.map((h) => h.status);

for (const backend of ledgerBackends()) {
  describe(`[${backend.name}] compute manager`, () => {
    let h: LedgerHarness;
    before(async () => {
      h = await backend.create();
    });
    after(() => h.cleanup());

    test(`[${backend.name}] provision: pending → running → succeeded, with history, resources and a callback per transition`, async () => {
      const { manager, engine } = fakeManager(h.ledger);
      const tenant = await h.createTenant(uniqueName(), fakeSpec());
      const started = await manager.start(startRequest(tenant));
      assert.equal(started.attempt, 1);
      const view = await waitForStatus(manager, started.executionId);
      assert.equal(view.status, 'succeeded');
      assert.deepEqual(statuses(view), ['pending', 'running', 'succeeded']);
      assert.ok(isValidExecutionPath(statuses(view)));
      assert.ok(view.resources.runtimeId);
      assert.equal(view.endpoints.length, 1);
      assert.equal(view.provider, 'fake');
      assert.equal(view.leaseOwner, null);
      assert.ok(view.startedAt && view.finishedAt);
      const callbacks = await h.callbacks(started.executionId);
      assert.deepEqual(
        callbacks.map((c) => c.status),
        ['running', 'succeeded'],
      );
      assert.deepEqual(callbacks[1]?.resources, view.resources);
      assert.equal(engine.createCount(tenant.id), 1);
      await manager.close();
    });

    test(`[${backend.name}] fail N times: failed → running (attempt 2) → succeeded under the same id`, async () => {
      const { manager, engine } = fakeManager(h.ledger);
      const tenant = await h.createTenant(uniqueName(), fakeSpec({ faults: { failTimes: 1 } }));
      const first = await manager.start(startRequest(tenant));
      const failed = await waitForStatus(manager, first.executionId);
      assert.equal(failed.status, 'failed');
      assert.equal(failed.error?.code, 'PROVIDER_TEMPORARILY_UNAVAILABLE');
      assert.equal(failed.error?.classification, 'retriable');
      const retry = await manager.start(startRequest(tenant));
      assert.equal(retry.executionId, first.executionId);
      assert.equal(retry.attempt, 2);
      const view = await waitForStatus(manager, first.executionId, ['succeeded']);
      assert.deepEqual(statuses(view), ['pending', 'running', 'failed', 'running', 'succeeded']);
      assert.deepEqual(
        view.history.map((e) => e.attempt),
        [1, 1, 1, 2, 2],
      );
      assert.ok(isValidExecutionPath(statuses(view)));
      assert.equal(view.error, null);
      assert.deepEqual(
        (await h.callbacks(first.executionId)).map((c) => `${c.status}#${c.attempt}`),
        ['running#1', 'failed#1', 'running#2', 'succeeded#2'],
      );
      assert.equal(engine.createCount(tenant.id), 1);
      const again = await manager.start(startRequest(tenant));
      assert.deepEqual(
        again,
        { executionId: first.executionId, status: 'succeeded', attempt: 2, returnsHealthy: false },
        'succeeded is final',
      );
      await manager.close();
    });

    test(`[${backend.name}] 10 concurrent starts in one process: one row, one provider call`, async () => {
      const { manager, engine } = fakeManager(h.ledger, { latencyMs: 50 });
      const tenant = await h.createTenant(uniqueName(), fakeSpec());
      const results = await Promise.all(
        Array.from({ length: 10 }, () => manager.start(startRequest(tenant))),
      );
      assert.equal(new Set(results.map((r) => r.executionId)).size, 1);
      await waitForStatus(manager, results[0]!.executionId, ['succeeded']);
      assert.equal(engine.callCount('provision', tenant.id), 1);
      assert.equal((await manager.list({ tenantId: tenant.id, limit: 50 })).items.length, 1);
      await manager.close();
    });

    test(`[${backend.name}] concurrent starts in one process with a show: only the start that inserted reports it`, async () => {
      const { manager } = fakeManager(h.ledger, { latencyMs: 50 });
      const tenant = await h.createTenant(uniqueName(), fakeSpec());
      const at = new Date().toISOString();
      // The tenant as the store creates it (version 1), as a run would have read it.
      const read: Tenant = {
        ...tenant,
        generation: 1,
        status: initialStatus(),
        version: 1,
        createdAt: at,
        updatedAt: at,
      };
      let asked = 0;
      const show = (executionId: string, status: ExecutionStatus) => {
        asked++;
        const compute = { executionId, operation: 'provision' as const, status };
        return statusWriteOf(read, { actor: 'test', status: { compute } }, at);
      };
      const results = await Promise.all(
        Array.from({ length: 5 }, () => manager.start(startRequest(tenant, 'provision', 1, { show }))),
      );
      assert.equal(asked, 1, 'only the start that writes the execution builds its show');
      assert.deepEqual(
        results.flatMap((r) => (r.shown === undefined ? [] : [r.shown])),
        backend.name === 'memory' ? [] : ['written'],
        'the callers that joined it never report its show',
      );
      await waitForStatus(manager, results[0]!.executionId, ['succeeded']);
      await manager.close();
    });

    test(`[${backend.name}] concurrent starts from two processes: one row, one provider call`, async () => {
      const a = fakeManager(h.ledger, { latencyMs: 50, instanceId: 'proc-a' });
      const b = fakeManager(await h.secondLedger(), {
        latencyMs: 50,
        instanceId: 'proc-b',
        engine: a.engine,
      });
      const tenant = await h.createTenant(uniqueName(), fakeSpec());
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 === 0 ? a.manager : b.manager).start(startRequest(tenant)),
        ),
      );
      assert.equal(new Set(results.map((r) => r.executionId)).size, 1);
      const view = await waitForStatus(a.manager, results[0]!.executionId, ['succeeded']);
      assert.deepEqual(statuses(view), ['pending', 'running', 'succeeded']);
      assert.equal(a.engine.callCount('provision', tenant.id), 1);
      await Promise.all([a.manager.close(), b.manager.close()]);
    });

    test(`[${backend.name}] a provider that ignores its signal still times out with PROVIDER_TIMEOUT`, async () => {
      const { manager } = fakeManager(h.ledger);
      const tenant = await h.createTenant(
        uniqueName(),
        fakeSpec({ faults: { hang: true, ignoreAbort: true } }),
      );
      const started = await manager.start(startRequest(tenant, 'provision', 1, { timeoutMs: 100 }));
      const view = await waitForStatus(manager, started.executionId);
      assert.equal(view.status, 'failed');
      assert.equal(view.error?.code, 'PROVIDER_TIMEOUT');
      assert.equal(view.error?.classification, 'retriable');
      assert.equal(view.timeoutMs, 100);
      await manager.close();
    });

    test(`[${backend.name}] same request → same id; changed config → new id`, async () => {
      const { manager } = fakeManager(h.ledger);
      const tenant = await h.createTenant(uniqueName(), fakeSpec());
      const one = await manager.start(startRequest(tenant));
      const two = await manager.start(startRequest(tenant));
      const changed = await manager.start(startRequest({ ...tenant, spec: fakeSpec({ image: 'app:2' }) }));
      assert.equal(one.executionId, two.executionId);
      assert.notEqual(changed.executionId, one.executionId);
      await manager.idle();
      await manager.close();
    });

    test(`[${backend.name}] provision, update, delete repeated over a tenant's life`, async () => {
      const { manager, engine } = fakeManager(h.ledger);
      const tenant = await h.createTenant(uniqueName(), fakeSpec());
      const run = async (
        operation: 'provision' | 'update' | 'delete',
        generation: number,
        image: string,
        retry = '',
      ) => {
        const request = startRequest({ ...tenant, spec: fakeSpec({ image }) }, operation, generation);
        const started = await manager.start({ ...request, workflowRunId: request.workflowRunId + retry });
        const view = await waitForStatus(manager, started.executionId);
        assert.equal(view.status, 'succeeded', `${operation} g${generation}${retry}`);
        return view;
      };
      await run('provision', 1, 'app:1');
      assert.equal((await manager.describe(tenant)).generation, 1);
      await run('update', 2, 'app:2');
      assert.equal((await manager.describe(tenant)).generation, 2);
      await run('delete', 2, 'app:2');
      assert.equal((await manager.describe(tenant)).exists, false);
      await run('provision', 3, 'app:3');
      await run('delete', 3, 'app:3');
      await run('provision', 3, 'app:3', ':r1');
      assert.equal(engine.runtimeCount(tenant.id), 1);
      assert.equal(engine.createCount(tenant.id), 3);
      const all = await manager.list({ tenantId: tenant.id, limit: 50 });
      assert.equal(all.items.length, 6);
      assert.equal(
        (await manager.list({ tenantId: tenant.id, status: 'failed', limit: 50 })).items.length,
        0,
      );
      assert.equal(
        (await manager.list({ workflowRunId: `${tenant.id}:update:g2`, limit: 50 })).items.length,
        1,
      );
      await manager.close();
    });

    test(`[${backend.name}] invalid config fails with INVALID_CONFIG without calling the provider`, async () => {
      const { manager, engine } = fakeManager(h.ledger);
      const tenant = await h.createTenant(uniqueName(), fakeSpec({ image: 'x', bogus: 1 }));
      const started = await manager.start(startRequest(tenant));
      const view = await waitForStatus(manager, started.executionId);
      assert.equal(view.status, 'failed');
      assert.equal(view.error?.code, 'INVALID_CONFIG');
      assert.equal(view.error?.classification, 'non_retriable');
      assert.deepEqual(view.history.at(-1)?.details.problems, [
        { path: 'spec.config.bogus', message: 'unknown field' },
      ]);
      assert.equal(engine.callCount('provision'), 0);
      await manager.close();
    });

    test(`[${backend.name}] partial failure records what was made, and the retry completes it`, async () => {
      const { manager, engine } = fakeManager(h.ledger);
      const tenant = await h.createTenant(uniqueName(), fakeSpec({ faults: { partial: true } }));
      const started = await manager.start(startRequest(tenant));
      const failed = await waitForStatus(manager, started.executionId);
      assert.equal(failed.error?.code, 'PARTIAL_FAILURE');
      assert.deepEqual(failed.partial?.succeeded, ['volume']);
      assert.ok(failed.resources.volumeId, 'created resources are recorded on the execution');
      assert.equal(
        (await h.callbacks(started.executionId)).at(-1)?.resources.volumeId,
        failed.resources.volumeId,
      );
      await manager.start(startRequest(tenant));
      const done = await waitForStatus(manager, started.executionId, ['succeeded']);
      assert.equal(done.resources.volumeId, failed.resources.volumeId);
      assert.equal(done.partial, null);
      assert.equal(engine.createCount(tenant.id), 1);
      await manager.close();
    });

    test(`[${backend.name}] rate limited: the error carries retryAfterMs`, async () => {
      const { manager } = fakeManager(h.ledger);
      const tenant = await h.createTenant(uniqueName(), fakeSpec({ faults: { rateLimitedMs: 1234 } }));
      const started = await manager.start(startRequest(tenant));
      const failed = await waitForStatus(manager, started.executionId);
      assert.equal(failed.error?.code, 'RATE_LIMITED');
      assert.equal(failed.error?.retryAfterMs, 1234);
      await manager.close();
    });

    test(`[${backend.name}] an unknown provider is a ValidationError on spec.provider; a closed manager refuses`, async () => {
      const { manager } = fakeManager(h.ledger);
      const tenant = await h.createTenant(uniqueName(), fakeSpec());
      await assert.rejects(
        manager.start(startRequest({ ...tenant, spec: { ...tenant.spec, provider: 'nope' } })),
        (e: unknown) => {
          assert.ok(e instanceof ValidationError);
          assert.equal(e.problems[0]?.path, 'spec.provider');
          return true;
        },
      );
      await manager.close();
      await assert.rejects(manager.start(startRequest(tenant)), /closed/);
    });
  });
}
