/** Conformance: tenant creation, lookup, name uniqueness, archive + purge, summaries. */
import assert from 'node:assert/strict';
import { ConflictError, InvalidTransitionError, NotFoundError } from '../../domain/errors.js';
import { tenantRunTags } from '../../domain/tenant-run.js';
import type { Store, SummaryScope } from '../store.js';
import { newExecution, specOf, unique, type Conformance } from './harness.js';
import { liveTenantCount } from '../testing/tenant-count.js';

/** requested → deleting → archived. */
export async function archive(store: Store, id: string): Promise<void> {
  await store.tenants.change(id, { actor: 'test', phase: { to: 'deleting', reason: 'DeleteRequested' } });
  await store.tenants.change(id, { actor: 'test', phase: { to: 'archived', reason: 'Deleted' } });
}

export function tenantBasics(c: Conformance): void {
  c.test('creates a tenant and reads it back by id and by name', async () => {
    const name = unique('acme');
    const created = await c
      .store()
      .tenants.create({ name, spec: specOf({ labels: { plan: 'pro' } }), actor: 'api:test' });
    assert.match(created.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    assert.equal(created.version, 1);
    assert.equal(created.generation, 1);
    assert.equal(created.status.phase, 'requested');
    assert.deepEqual(await c.store().tenants.get(created.id), created);
    assert.deepEqual(await c.store().tenants.get(name), created);
    const events = await c.store().events.listByTenant(created.id, { limit: 10 });
    assert.deepEqual(
      events.map((e) => [e.type, e.actor, e.toPhase]),
      [['Created', 'api:test', 'requested']],
    );
  });

  c.test('get of an unknown id or name is undefined', async () => {
    assert.equal(await c.store().tenants.get('01900000-0000-7000-8000-000000000000'), undefined);
    assert.equal(await c.store().tenants.get(unique('nobody')), undefined);
  });

  c.test(
    'a second tenant with the same name is a ConflictError; the name is free again after archive',
    async () => {
      const name = unique('dup');
      const first = await c.store().tenants.create({ name, spec: specOf(), actor: 'test' });
      await assert.rejects(c.store().tenants.create({ name, spec: specOf(), actor: 'test' }), ConflictError);
      await archive(c.store(), first.id);
      const second = await c.store().tenants.create({ name, spec: specOf(), actor: 'test' });
      assert.equal((await c.store().tenants.get(name))?.id, second.id);
      assert.equal((await c.store().tenants.get(first.id))?.status.phase, 'archived');
    },
  );

  c.test('purge refuses a live tenant and cascades through everything of an archived one', async () => {
    const store = c.store();
    const tenant = await store.tenants.create({ name: unique('purge'), spec: specOf(), actor: 'test' });
    await assert.rejects(store.tenants.purge(tenant.id, { actor: 'test' }), InvalidTransitionError);
    const runId = `${tenant.id}:provision:g1`;
    const tags = tenantRunTags({ tenantId: tenant.id, generation: 1, configHash: 'h', triggerSource: 'api' });
    await store.runs.createOrGet({ runId, workflow: 'provision', tags, engine: 'embedded', input: {} });
    // Another subject's run, even one named after the tenant, is not the tenant's.
    const otherRunId = unique('rollout');
    const otherTags = { subject: `rollout:${tenant.id}` };
    await store.runs.createOrGet({
      runId: otherRunId,
      workflow: 'roll',
      tags: otherTags,
      engine: 'embedded',
      input: {},
    });
    await store.steps.record({
      runId,
      seq: 1,
      name: 'validate',
      kind: 'step',
      status: 'started',
      result: null,
      error: null,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      durationMs: null,
    });
    await store.steps.resolvePromise(runId, 'k', { ok: true }, new Date().toISOString());
    const { execution } = await store.executions.insertIfAbsent(
      newExecution(tenant.id, { workflowRunId: runId }),
    );
    const payload = {
      executionId: execution.executionId,
      tenantId: tenant.id,
      workflowRunId: runId,
      operation: 'provision' as const,
      status: 'running' as const,
      resources: {},
      error: null,
      attempt: 1,
      at: new Date().toISOString(),
    };
    await store.executions.transition(execution.executionId, {
      from: ['pending'],
      to: 'running',
      at: payload.at,
      callback: payload,
    });
    const [callback] = (await store.callbacks.list({ limit: 500 })).items.filter(
      (cb) => cb.tenantId === tenant.id,
    );
    assert.ok(callback);
    await archive(store, tenant.id);

    await store.tenants.purge(tenant.id, { actor: 'test' });
    assert.equal(await store.tenants.get(tenant.id), undefined);
    assert.equal(await store.runs.get(runId), undefined);
    assert.equal((await store.runs.get(otherRunId))?.runId, otherRunId);
    assert.deepEqual(await store.steps.list(runId), []);
    assert.equal(await store.steps.getPromise(runId, 'k'), undefined);
    assert.equal(await store.executions.get(execution.executionId), undefined);
    assert.deepEqual(await store.executions.history(execution.executionId), []);
    assert.equal(await store.callbacks.get(callback.id), undefined);
    assert.deepEqual(await store.events.listByTenant(tenant.id, { limit: 10 }), []);
    await assert.rejects(store.tenants.purge(tenant.id, { actor: 'test' }), NotFoundError);
  });

  c.test('unsettled summaries and ready tenants are filtered in the query', async () => {
    const store = c.store();
    const provider = unique('scope'); // these tenants alone carry it
    const create = (paused = false) =>
      store.tenants.create({ name: unique('scope'), spec: specOf({ provider, paused }), actor: 'test' });
    const toReady = async (id: string) => {
      await store.tenants.change(id, {
        actor: 'test',
        phase: { to: 'provisioning', reason: 'ProvisionStarted' },
      });
      await store.tenants.change(id, {
        actor: 'test',
        phase: { to: 'ready', reason: 'Provisioned' },
        status: { observedGeneration: 1 },
      });
    };
    const requested = await create();
    const ready = await create();
    await toReady(ready.id);
    const readyPaused = await create(true);
    await toReady(readyPaused.id);
    const respecced = await create();
    await toReady(respecced.id);
    // A newer spec not yet observed: unsettled even while the phase still says ready.
    const stale = await store.tenants.get(respecced.id);
    const bumped = await store.tenants.change(respecced.id, {
      actor: 'test',
      spec: { ...stale!.spec, config: { image: 'busybox:2' } },
    });
    const archived = await create();
    await archive(store, archived.id);
    const ids = async (scope?: SummaryScope | 'ready') => {
      const seen: string[] = [];
      for (let after: string | null = null; ;) {
        const page: readonly { id: string; provider: string }[] =
          scope === 'ready'
            ? await store.tenants.listReady(after, 2)
            : await store.tenants.listSummaries(after, 2, scope);
        if (page.length === 0) break;
        seen.push(...page.filter((s) => s.provider === provider).map((s) => s.id));
        after = page[page.length - 1]!.id;
      }
      return seen.sort();
    };
    const sorted = (...xs: string[]) => xs.sort();
    const { phase } = bumped.tenant.status;
    assert.ok(bumped.tenant.generation > bumped.tenant.status.observedGeneration, `bumped spec (${phase})`);
    assert.deepEqual(await ids(), sorted(requested.id, ready.id, readyPaused.id, respecced.id));
    assert.deepEqual(await ids('unsettled'), sorted(requested.id, respecced.id));
    assert.deepEqual(await ids('ready'), phase === 'ready' ? sorted(ready.id, respecced.id) : [ready.id]);
  });

  c.test('listSummaries leaves archived tenants out', async () => {
    const store = c.store();
    const before = await liveTenantCount(store);
    const a = await store.tenants.create({
      name: unique('sum'),
      spec: specOf({ paused: true }),
      actor: 'test',
    });
    const b = await store.tenants.create({ name: unique('sum'), spec: specOf(), actor: 'test' });
    assert.equal(await liveTenantCount(store), before + 2);
    await archive(store, b.id);
    assert.equal(await liveTenantCount(store), before + 1);
    const all = [];
    for (let after: string | null = null; ;) {
      const page = await store.tenants.listSummaries(after, 2);
      if (page.length === 0) break;
      all.push(...page);
      after = page[page.length - 1]!.id;
    }
    assert.deepEqual(
      all.find((s) => s.id === a.id),
      { id: a.id, provider: 'fake', phase: 'requested', generation: 1, observedGeneration: 0, paused: true },
    );
    assert.equal(
      all.find((s) => s.id === b.id),
      undefined,
    );
    assert.deepEqual(
      all.map((s) => s.id),
      [...all.map((s) => s.id)].sort(),
    );
  });
}
