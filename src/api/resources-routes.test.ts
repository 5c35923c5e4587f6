/** Executions, workflow runs, providers and callbacks endpoints, on data written through the store. */
import assert from 'node:assert/strict';
import type { ComputeExecution } from '../domain/compute-execution.js';
import { tenantRunTags } from '../domain/tenant-run.js';
import type { Store } from '../store/store.js';
import { backends } from '../store/testing/test-databases.js';
import { apiSuite, tenantBody, uniqueName, type ApiHarness } from './testing/api-harness.js';
import type {
  Callback,
  CallbackList,
  ComputeExecutionList,
  ComputeExecutionWithHistory,
  ProviderList,
  Tenant,
  WorkflowRun,
} from './types.js';

async function tenantWithExecution(h: ApiHarness) {
  const tenant = (
    await h.inject({ method: 'POST', url: '/v1/tenants', payload: tenantBody(uniqueName()) })
  ).json<Tenant>();
  const runId = `${tenant.id}:provision:g1`;
  const execution: ComputeExecution = {
    executionId: `ex-${tenant.id}-provision-g1-0123456789abcdef`,
    tenantId: tenant.id,
    workflowRunId: runId,
    operation: 'provision',
    provider: 'fake',
    status: 'pending',
    attempt: 1,
    timeoutMs: 60_000,
    generation: 1,
    configHash: 'abc',
    resources: {},
    endpoints: [],
    partial: null,
    error: null,
    createdAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
    leaseOwner: 'me',
    leaseExpiresAt: Date.now() + 1000,
  };
  await h.store().executions.insertIfAbsent(execution);
  return { tenant, execution, runId };
}

async function deadCallback(store: Store, execution: ComputeExecution): Promise<string> {
  const at = new Date().toISOString();
  const { executionId, tenantId, workflowRunId, operation } = execution;
  const payload = {
    executionId,
    tenantId,
    workflowRunId,
    operation,
    status: 'succeeded' as const,
    resources: {},
    error: null,
    attempt: 1,
    at,
  };
  await store.executions.transition(executionId, { from: ['pending'], to: 'running', at });
  await store.executions.transition(executionId, {
    from: ['running'],
    to: 'succeeded',
    at,
    callback: payload,
  });
  const callback = (await store.callbacks.list({ limit: 500 })).items.find(
    (cb) => cb.executionId === executionId,
  );
  assert.ok(callback);
  await store.callbacks.markAttemptFailed(callback.id, {
    attempts: 8,
    nextAttemptAt: Date.now(),
    lastError: 'refused',
    dead: true,
  });
  return callback.id;
}

for (const backend of backends()) {
  apiSuite(backend, 'executions, runs, providers, callbacks', (h) => {
    h.test(
      'GET /v1/compute/executions/{id}: execution with history, internal lease fields stripped; 404',
      async () => {
        const { tenant, execution } = await tenantWithExecution(h);
        const res = await h.inject({ method: 'GET', url: `/v1/compute/executions/${execution.executionId}` });
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json<ComputeExecutionWithHistory>();
        assert.equal(body.tenantId, tenant.id);
        assert.equal(body.history.length, 1);
        assert.equal(body.history[0]?.status, 'pending');
        assert.equal('leaseOwner' in body, false);
        const list = await h.inject({ method: 'GET', url: `/v1/tenants/${tenant.name}/executions` });
        assert.deepEqual(
          list.json<ComputeExecutionList>().items.map((e: { executionId: string }) => e.executionId),
          [execution.executionId],
        );
        const missing = await h.inject({ method: 'GET', url: '/v1/compute/executions/ex-missing' });
        assert.equal(missing.statusCode, 404);
      },
    );

    h.test(
      'GET /v1/workflows/runs/{runId}: run with its journal, secrets in inputs redacted; 404',
      async () => {
        const { tenant, runId } = await tenantWithExecution(h);
        const input = {
          tenant: {
            id: tenant.id,
            spec: { provider: 'fake', config: { image: 'x', secretEnv: { K: 'topsecret' } } },
          },
          password: 'pw',
        };
        const tags = tenantRunTags({
          tenantId: tenant.id,
          generation: 1,
          configHash: 'abc',
          triggerSource: 'api',
        });
        await h.store().runs.createOrGet({ runId, workflow: 'provision', tags, engine: 'embedded', input });
        const at = new Date().toISOString();
        await h.store().steps.record({
          runId,
          seq: 1,
          name: 'validate',
          kind: 'step',
          status: 'completed',
          result: { ok: true },
          error: null,
          startedAt: at,
          finishedAt: at,
          durationMs: 1,
        });
        const res = await h.inject({ method: 'GET', url: `/v1/workflows/runs/${encodeURIComponent(runId)}` });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json<WorkflowRun>().runId, runId);
        const { tenantId, action, generation, configHash, triggerSource } = res.json<WorkflowRun>();
        assert.deepEqual(
          { tenantId, action, generation, configHash, triggerSource },
          {
            tenantId: tenant.id,
            action: 'provision',
            generation: 1,
            configHash: 'abc',
            triggerSource: 'api',
          },
          'the tenant fields of a run, read from its tags',
        );
        assert.deepEqual(
          res.json<WorkflowRun>().steps.map((s: { name: string }) => s.name),
          ['validate'],
        );
        assert.ok(!res.body.includes('topsecret') && !res.body.includes('"pw"'), res.body);
        assert.equal(
          (await h.inject({ method: 'GET', url: '/v1/workflows/runs/nope:provision:g1' })).statusCode,
          404,
        );
        const rollout = { runId: `rollout-${tenant.id}`, workflow: 'roll', tags: { subject: 'rollout:1' } };
        await h.store().runs.createOrGet({ ...rollout, engine: 'embedded', input: null });
        const notTenants = await h.inject({ method: 'GET', url: `/v1/workflows/runs/${rollout.runId}` });
        assert.equal(notTenants.statusCode, 404, 'a run of another subject is not served as a tenant run');
      },
    );

    h.test('GET /v1/compute/providers and /{type}/schema; unknown type → 404', async () => {
      const list = await h.inject({ method: 'GET', url: '/v1/compute/providers', token: 'viewer' });
      assert.equal(list.statusCode, 200, list.body);
      assert.deepEqual(list.json<ProviderList>(), {
        items: [
          {
            type: 'fake',
            default: true,
            defaults: { env: { FROM_DEFAULTS: 'yes' } },
            timeoutMs: 5000,
            schemaUrl: '/v1/compute/providers/fake/schema',
          },
        ],
        defaultProvider: 'fake',
      });
      const schema = await h.inject({ method: 'GET', url: '/v1/compute/providers/fake/schema' });
      assert.equal(schema.statusCode, 200);
      assert.equal(
        schema.json<{ properties: Record<string, Record<string, unknown>> }>().properties.secretEnv?.[
          'x-lessor-secret'
        ],
        true,
      );
      assert.equal(
        (await h.inject({ method: 'GET', url: '/v1/compute/providers/docker/schema' })).statusCode,
        404,
      );
    });

    h.test(
      'callbacks: list dead ones; redrive is admin only, 409 when not dead, 404 when unknown',
      async () => {
        const { execution } = await tenantWithExecution(h);
        const id = await deadCallback(h.store(), execution);
        const dead = await h.inject({ method: 'GET', url: '/v1/callbacks?state=dead', token: 'viewer' });
        assert.equal(dead.statusCode, 200, dead.body);
        assert.ok(dead.json<CallbackList>().items.some((cb: { id: string }) => cb.id === id));
        assert.equal(
          (await h.inject({ method: 'POST', url: `/v1/callbacks/${id}/redrive`, token: 'operator' }))
            .statusCode,
          403,
        );
        const redrive = await h.inject({ method: 'POST', url: `/v1/callbacks/${id}/redrive` });
        assert.equal(redrive.statusCode, 202, redrive.body);
        assert.equal(redrive.json<Callback>().state, 'pending');
        const again = await h.inject({ method: 'POST', url: `/v1/callbacks/${id}/redrive` });
        assert.equal(again.statusCode, 409);
        assert.equal((await h.inject({ method: 'POST', url: '/v1/callbacks/nope/redrive' })).statusCode, 404);
      },
    );
  });
}
