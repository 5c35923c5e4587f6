/** Conformance: fleet counts for gauges (tenants by phase, active runs, the callback outbox, the pool). */
import assert from 'node:assert/strict';
import { newExecution, specOf, unique, type Conformance } from './harness.js';

/** These counts cover whole tables: this module gets a database of its own. */
export function storeStats(c: Conformance): void {
  c.test('counts tenants by phase, active runs by engine and workflow, and the callback outbox', async () => {
    const store = c.store();
    assert.deepEqual(await store.stats.tenantsByPhase(), {});
    assert.deepEqual(await store.stats.activeRuns(), []);
    assert.deepEqual(await store.stats.callbackOutbox(), { pending: 0, dead: 0, oldestPendingAt: null });

    const a = await store.tenants.create({ name: unique('st'), spec: specOf(), actor: 'test' });
    await store.tenants.create({ name: unique('st'), spec: specOf(), actor: 'test' });
    await store.tenants.change(a.id, { actor: 'test', phase: { to: 'deleting', reason: 'test' } });
    assert.deepEqual(await store.stats.tenantsByPhase(), { requested: 1, deleting: 1 });

    const newRun = (runId: string, workflow: string) =>
      store.runs.createOrGet({ runId, workflow, tags: {}, engine: 'embedded', input: null });
    await newRun('r1', 'provision');
    await newRun('r2', 'provision');
    await newRun('r3', 'delete');
    await store.runs.update('r3', { state: 'succeeded', finishedAt: new Date().toISOString() });
    assert.deepEqual(await store.stats.activeRuns(), [
      { engine: 'embedded', workflow: 'provision', count: 2 },
    ]);

    const { execution } = await store.executions.insertIfAbsent(newExecution(a.id));
    const at = new Date().toISOString();
    const payload = {
      executionId: execution.executionId,
      tenantId: a.id,
      workflowRunId: execution.workflowRunId,
      operation: execution.operation,
      status: 'succeeded' as const,
      resources: {},
      error: null,
      attempt: 1,
      at,
    };
    await store.executions.transition(execution.executionId, { from: ['pending'], to: 'running', at });
    await store.executions.transition(execution.executionId, {
      from: ['running'],
      to: 'succeeded',
      at,
      callback: payload,
    });
    const outbox = await store.stats.callbackOutbox();
    assert.equal(outbox.pending, 1);
    assert.equal(outbox.dead, 0);
    assert.ok(outbox.oldestPendingAt !== null && Date.parse(outbox.oldestPendingAt) <= Date.now());

    const [callback] = (await store.callbacks.list({ limit: 10 })).items;
    await store.callbacks.markAttemptFailed(callback!.id, {
      attempts: 1,
      nextAttemptAt: 0,
      lastError: 'x',
      dead: true,
    });
    assert.deepEqual(await store.stats.callbackOutbox(), { pending: 0, dead: 1, oldestPendingAt: null });
  });

  c.test(
    'SQLite has no connection pool',
    async () => {
      assert.equal(c.store().stats.connectionPool(), null);
    },
    { onlyOn: 'sqlite' },
  );

  c.test(
    'PostgreSQL reports its pool',
    async () => {
      await c.store().ping();
      const pool = c.store().stats.connectionPool();
      assert.ok(pool);
      assert.ok(
        pool.total >= 1 && pool.idle <= pool.total && pool.waiting >= 0 && pool.max >= 1,
        JSON.stringify(pool),
      );
    },
    { onlyOn: 'postgres' },
  );
}
