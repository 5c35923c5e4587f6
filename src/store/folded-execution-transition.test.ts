/**
 * An execution's move to `running` or `succeeded` is one statement, without BEGIN/COMMIT
 * (PostgreSQL: data-modifying CTEs in folded-writes.ts; SQLite: migration
 * 0020-sqlite-execution-transition), with the rows the transaction wrote: the compare-and-set on
 * `status`, the history row, the callback row and the `ExecutionStatusChanged` event. A move whose
 * compare-and-set fails writes nothing and returns no row, in the same one statement. A move to
 * `failed` keeps its transaction (its event may be a webhook's).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ComputeExecution } from '../domain/compute-execution.js';
import { executionEvent } from './compute-execution-rows.js';
import { newExecution, payloadOf, specOf, unique } from './conformance/harness.js';
import type { Store } from './store.js';
import { countedStore } from './testing/counted-store.js';
import { backends } from './testing/test-databases.js';

/** The callbacks' stamp: fixed, so a stored payload compares equal to the one given. */
const AT = '2026-01-01T00:00:01.000Z';

/** Everything a move may write for `e`, to compare before and after one. */
async function written(store: Store, e: ComputeExecution) {
  return {
    execution: await store.executions.get(e.executionId),
    history: await store.executions.history(e.executionId),
    events: await store.events.listByTenant(e.tenantId, { limit: 100 }),
    callbacks: (await store.callbacks.list({ limit: 500 })).items.filter(
      (cb) => cb.executionId === e.executionId,
    ),
  };
}

for (const backend of backends()) {
  describe(`[${backend.name}] an execution's move in one statement`, () => {
    const counted = countedStore(backend);

    /** A new execution of a new tenant, inserted moved to `running` (attempt 2, generation 3). */
    async function running(store: Store): Promise<ComputeExecution> {
      const tenant = await store.tenants.create({ name: unique('mv'), spec: specOf(), actor: 'test' });
      const execution = newExecution(tenant.id, { attempt: 2, generation: 3 });
      const inserted = await store.executions.insertIfAbsent(execution, {
        from: ['pending'],
        to: 'running',
        at: '2026-01-01T00:00:00.000Z',
      });
      return inserted.execution;
    }

    test('to succeeded: the row, its history row, its callback and its event; one statement', async () => {
      const store = counted.store;
      const e = await running(store);
      const at = '2026-01-01T00:00:02.000Z';
      let done: ComputeExecution | undefined;
      const move = async () =>
        (done = await store.executions.transition(e.executionId, {
          from: ['running'],
          to: 'succeeded',
          at,
          resources: { containerId: 'c1' },
          endpoints: [{ name: 'http', url: 'http://x' }],
          details: { owner: 'me' },
          callback: payloadOf(e, 'succeeded', AT),
        }));
      assert.deepEqual(await counted.cost(move), { statements: 1, transactions: 0 });
      assert.deepEqual(
        [done?.status, done?.attempt, done?.generation, done?.finishedAt, done?.startedAt],
        ['succeeded', 2, 3, at, '2026-01-01T00:00:00.000Z'],
      );
      assert.deepEqual(
        [done?.resources, done?.leaseOwner, done?.leaseExpiresAt],
        [{ containerId: 'c1' }, null, null],
      );
      const after = await written(store, e);
      assert.deepEqual(after.execution, done);
      assert.deepEqual(
        after.history.map((h) => [h.seq, h.status, h.attempt, h.at, h.details]),
        [
          [1, 'pending', 2, e.createdAt, {}],
          [2, 'running', 2, '2026-01-01T00:00:00.000Z', {}],
          [3, 'succeeded', 2, at, { owner: 'me' }],
        ],
      );
      assert.deepEqual(
        after.callbacks.map((cb) => [cb.payload, cb.state]),
        [[payloadOf(e, 'succeeded', AT), 'pending']],
      );
      const { seq: _seq, ...event } = after.events.at(-1)!;
      assert.deepEqual(event, { tenantId: e.tenantId, ...executionEvent(done!), at });
    });

    test('a compare-and-set that fails writes nothing and returns no row; one statement', async () => {
      const store = counted.store;
      const e = await running(store);
      const move = {
        from: ['running' as const],
        to: 'succeeded' as const,
        at: '2026-01-01T00:00:02.000Z',
        callback: payloadOf(e, 'succeeded', AT),
      };
      assert.ok(await store.executions.transition(e.executionId, move));
      const before = await written(store, e);
      let again: ComputeExecution | undefined | 'not run' = 'not run';
      const cost2 = await counted.cost(
        async () => (again = await store.executions.transition(e.executionId, move)),
      );
      assert.deepEqual(cost2, { statements: 1, transactions: 0 });
      assert.equal(again, undefined);
      assert.deepEqual(await written(store, e), before);
    });

    test('concurrent moves of one execution: one moves it, with one of each row', async () => {
      const store = counted.store;
      const e = await running(store);
      const before = await written(store, e);
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          store.executions.transition(e.executionId, {
            from: ['running'],
            to: 'succeeded',
            at: `2026-01-01T00:00:0${i}.000Z`,
            callback: payloadOf(e, 'succeeded', AT),
          }),
        ),
      );
      assert.equal(results.filter((r) => r !== undefined).length, 1);
      const after = await written(store, e);
      assert.deepEqual(
        [
          after.history.length - before.history.length,
          after.events.length - before.events.length,
          after.callbacks.length - before.callbacks.length,
        ],
        [1, 1, 1],
      );
      assert.deepEqual(
        after.execution,
        results.find((r) => r !== undefined),
      );
    });

    test('an execution that does not exist: no row, nothing written', async () => {
      const store = counted.store;
      const e = newExecution((await running(store)).tenantId);
      const at = '2026-01-01T00:00:02.000Z';
      const before = await written(store, e);
      assert.equal(
        await store.executions.transition(e.executionId, {
          from: ['running'],
          to: 'succeeded',
          at,
          callback: payloadOf(e, 'succeeded', AT),
        }),
        undefined,
      );
      assert.deepEqual(await written(store, e), before);
    });

    test('to running again after a failure: one statement; a move to failed keeps its transaction', async () => {
      const store = counted.store;
      const e = await running(store);
      const at = '2026-01-01T00:00:02.000Z';
      const error = {
        code: 'PROVIDER_TIMEOUT' as const,
        message: 'slow',
        classification: 'retriable' as const,
      };
      const fail = () =>
        store.executions.transition(e.executionId, { from: ['running'], to: 'failed', at, error });
      assert.equal((await counted.cost(fail)).transactions, 1);
      let retried: ComputeExecution | undefined;
      const retry = async () =>
        (retried = await store.executions.transition(e.executionId, {
          from: ['failed'],
          to: 'running',
          attempt: 3,
          at,
          error: null,
        }));
      assert.deepEqual(await counted.cost(retry), { statements: 1, transactions: 0 });
      assert.deepEqual(
        [retried?.status, retried?.attempt, retried?.error, retried?.finishedAt, retried?.startedAt],
        ['running', 3, null, null, at],
      );
      assert.deepEqual(await store.executions.get(e.executionId), retried);
      const events = (await store.events.listByTenant(e.tenantId, { limit: 100 })).filter(
        (ev) => ev.type === 'ExecutionStatusChanged',
      );
      assert.deepEqual(
        events.map((ev) => [ev.message, ev.data]),
        [
          ['provision pending (attempt 2)', { operation: 'provision', status: 'pending', attempt: 2 }],
          ['provision running (attempt 2)', { operation: 'provision', status: 'running', attempt: 2 }],
          [
            'provision failed (attempt 2): PROVIDER_TIMEOUT slow',
            { operation: 'provision', status: 'failed', attempt: 2, errorCode: 'PROVIDER_TIMEOUT' },
          ],
          ['provision running (attempt 3)', { operation: 'provision', status: 'running', attempt: 3 }],
        ],
      );
    });
  });
}
