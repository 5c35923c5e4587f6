/**
 * The change signal: each committed write that appended tenant events tells `events` once, after
 * the commit (a listener reading the log sees the new event); a transition that queued a callback
 * also tells `callbacks` and hands the row over; reads and refused writes tell nothing.
 */
import assert from 'node:assert/strict';
import type { CallbackPayload, CallbackRecord } from '../../domain/compute-callback.js';
import type { TenantEventDraft } from '../../domain/tenant-event.js';
import type { StoreChange } from '../change-signal.js';
import { newExecution, specOf, unique, type Conformance } from './harness.js';

const audit: TenantEventDraft = {
  type: 'Audit',
  actor: 'test',
  reason: 'test',
  message: 'a write',
  fromPhase: null,
  toPhase: null,
  generation: 1,
  runId: null,
  executionId: null,
  data: {},
};

export function changeSignal(c: Conformance): void {
  /** Records every notification with the latest seq a reader saw when it came. */
  function listen() {
    const store = c.store();
    const seen: { change: StoreChange; seq: Promise<number> }[] = [];
    const stops = (['events', 'callbacks'] as const).map((change) =>
      store.changes.subscribe(change, () => seen.push({ change, seq: store.events.latestSeq() })),
    );
    return {
      async take(): Promise<{ changes: StoreChange[]; seqs: number[] }> {
        const taken = seen.splice(0);
        return { changes: taken.map((s) => s.change), seqs: await Promise.all(taken.map((s) => s.seq)) };
      },
      stop: () => stops.forEach((stop) => stop()),
    };
  }

  c.test('each committed event write tells `events` once, after its commit', async () => {
    const store = c.store();
    const listener = listen();
    try {
      const tenant = await store.tenants.create({ name: unique('signal'), spec: specOf(), actor: 'test' });
      const execution = newExecution(tenant.id);
      const writes: [string, () => Promise<unknown>][] = [
        ['tenants.create', async () => undefined],
        [
          'tenants.change',
          () => store.tenants.change(tenant.id, { actor: 'test', spec: specOf({ paused: true }) }),
        ],
        ['executions.insertIfAbsent', () => store.executions.insertIfAbsent(execution)],
        [
          'executions.transition',
          () =>
            store.executions.transition(execution.executionId, {
              from: ['pending'],
              to: 'running',
              at: 'now',
            }),
        ],
        ['appendEvent', () => store.appendEvent(tenant.id, audit)],
      ];
      for (const [what, write] of writes) {
        await write();
        const { changes, seqs } = await listener.take();
        assert.deepEqual(changes, ['events'], what);
        const latest = await store.events.latestSeq();
        assert.equal(seqs[0], latest, `${what}: a reader told of the change sees the new event`);
      }
    } finally {
      listener.stop();
    }
  });

  c.test('a transition that queues a callback also tells `callbacks` and hands the row over', async () => {
    const store = c.store();
    const tenant = await store.tenants.create({ name: unique('signal'), spec: specOf(), actor: 'test' });
    const execution = newExecution(tenant.id);
    await store.executions.insertIfAbsent(execution);
    await store.executions.transition(execution.executionId, { from: ['pending'], to: 'running', at: 'now' });
    const listener = listen();
    const handed: CallbackRecord[] = [];
    const stopHandOff = store.changes.subscribeCallbacks((callbacks) => handed.push(...callbacks));
    const callback = (status: 'succeeded' | 'failed'): CallbackPayload => ({
      executionId: execution.executionId,
      tenantId: tenant.id,
      workflowRunId: execution.workflowRunId,
      operation: execution.operation,
      status,
      resources: {},
      error: null,
      attempt: 1,
      at: new Date().toISOString(),
    });
    try {
      await store.executions.transition(execution.executionId, {
        from: ['running'],
        to: 'succeeded',
        at: new Date().toISOString(),
        callback: callback('succeeded'),
      });
      assert.deepEqual((await listener.take()).changes.sort(), ['callbacks', 'events']);
      assert.equal(handed.length, 1, 'the committed row is handed over once');
      assert.deepEqual(handed[0], await store.callbacks.get(handed[0]!.id), 'as a read of it gives it');
      assert.equal(
        await store.executions.transition(execution.executionId, {
          from: ['running'],
          to: 'failed',
          at: new Date().toISOString(),
          callback: callback('failed'),
        }),
        undefined,
      );
      assert.equal(handed.length, 1, 'a lost compare-and-set hands nothing over');
    } finally {
      listener.stop();
      stopHandOff();
    }
  });

  c.test('reads, refused writes and no-op writes tell nothing; unsubscribing stops it', async () => {
    const store = c.store();
    const name = unique('signal');
    const tenant = await store.tenants.create({ name, spec: specOf(), actor: 'test' });
    const execution = newExecution(tenant.id);
    await store.executions.insertIfAbsent(execution);
    const listener = listen();
    try {
      await store.tenants.get(tenant.id);
      await store.events.listByTenant(tenant.id, { limit: 10 });
      await store.executions.get(execution.executionId);
      await assert.rejects(store.tenants.create({ name, spec: specOf(), actor: 'test' }));
      assert.equal(await store.executions.insertIfAbsent(execution).then((r) => r.created), false);
      assert.equal(
        await store.executions.transition(execution.executionId, {
          from: ['running'],
          to: 'failed',
          at: 'now',
        }),
        undefined,
      );
      assert.deepEqual((await listener.take()).changes, []);
    } finally {
      listener.stop();
    }
    await store.appendEvent(tenant.id, audit);
    assert.deepEqual((await listener.take()).changes, [], 'an unsubscribed listener is not told');
  });
}
