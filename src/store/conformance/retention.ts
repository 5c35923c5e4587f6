/**
 * Conformance: retention sweeps. Settled records past the window are deleted with what hangs off
 * them; records inside it, active ones and those a tenant's current state points at stay. A sweep
 * deletes across all tenants, so every case gets a database of its own.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { tenantSubject } from '../../domain/tenant-run.js';
import type { RolloutPhase } from '../../domain/rollout.js';
import type { Tenant } from '../../domain/tenant.js';
import type { RetentionCursor, Store } from '../store.js';
import { createStore } from '../create-store.js';
import { oneWaveRollout, specOf, unique, type Conformance } from './harness.js';
import {
  CUTOFF,
  LONG_AGO,
  executionKept,
  executionOf,
  newTenant,
  pointStatusAt,
  runKept,
  runOf,
  subjectRunOf,
  sweepAll,
} from './retention-fixtures.js';

const RECENT = (): string => new Date().toISOString();

export function retention(c: Conformance): void {
  const withStore = (name: string, body: (store: Store, url: string) => Promise<void>): void =>
    c.test(name, async () => {
      const db = await c.backend.create();
      try {
        await body(db.store, db.url);
      } finally {
        await db.cleanup();
      }
    });

  withStore(
    'runs past the window go with their journal; the newest of each action, the one status.workflow names and active ones stay',
    async (store) => {
      const t = await newTenant(store);
      const superseded = await runOf(store, t.id, { state: 'succeeded' });
      const newestProvision = await runOf(store, t.id, { retry: 1, state: 'failed' });
      const named = await runOf(store, t.id, { action: 'update', generation: 2, state: 'cancelled' });
      const supersededUpdate = await runOf(store, t.id, {
        action: 'update',
        generation: 2,
        retry: 1,
        state: 'succeeded',
      });
      const active = await runOf(store, t.id, {
        action: 'update',
        generation: 2,
        retry: 2,
        state: 'backing-off',
      });
      await pointStatusAt(store, t.id, { runId: named });
      const other = await newTenant(store);
      const recent = await runOf(store, other.id, { state: 'succeeded', finishedAt: RECENT() });
      await runOf(store, other.id, { retry: 1, state: 'succeeded' });
      // Runs of another subject keep their newest of each workflow too; runs of no subject, none.
      const rollout = `rollout:${t.id}`;
      const rolls = { workflow: 'roll', state: 'succeeded' } as const;
      const oldRollout = await subjectRunOf(store, rollout, { ...rolls, runId: `${rollout}:1` });
      const newestRollout = await subjectRunOf(store, rollout, { ...rolls, runId: `${rollout}:2` });
      const bare = await subjectRunOf(store, null, { ...rolls, runId: unique('bare') });

      const swept = await sweepAll(store, 'runs', CUTOFF);
      assert.deepEqual([swept.examined, swept.deleted], [8, 4]);
      const kept = await Promise.all(
        [
          superseded,
          newestProvision,
          named,
          supersededUpdate,
          active,
          recent,
          oldRollout,
          newestRollout,
          bare,
        ].map((id) => runKept(store, id)),
      );
      assert.deepEqual(kept, [false, true, true, false, true, true, false, true, false]);
      assert.deepEqual(
        await sweepAll(store, 'runs', CUTOFF),
        { examined: 4, deleted: 0, batches: 1 },
        'a second sweep is a no-op',
      );
    },
  );

  withStore(
    'executions past the window go with their history; those of an active run, the one status.compute names and unsettled ones stay',
    async (store) => {
      const t = await newTenant(store);
      const finished = await runOf(store, t.id, { state: 'succeeded' });
      const active = await runOf(store, t.id, { action: 'update', generation: 2, state: 'backing-off' });
      const settled = await executionOf(store, t.id, { runId: finished, status: 'succeeded' });
      const ofActiveRun = await executionOf(store, t.id, { runId: active, status: 'failed' });
      const named = await executionOf(store, t.id, { runId: finished, status: 'succeeded' });
      const running = await executionOf(store, t.id, { runId: finished, status: 'running' });
      const recent = await executionOf(store, t.id, {
        runId: finished,
        status: 'succeeded',
        finishedAt: RECENT(),
      });
      const runGone = await executionOf(store, t.id, { runId: `${t.id}:provision:g9`, status: 'failed' });
      await pointStatusAt(store, t.id, { executionId: named });

      const swept = await sweepAll(store, 'executions', CUTOFF);
      assert.deepEqual([swept.examined, swept.deleted], [4, 2]);
      const kept = await Promise.all(
        [settled, ofActiveRun, named, running, recent, runGone].map((id) => executionKept(store, id)),
      );
      assert.deepEqual(kept, [false, true, true, true, true, false]);
    },
  );

  withStore(
    'delivered callbacks past the window go; pending, dead, recent ones and those of an active run stay',
    async (store) => {
      const t = await newTenant(store);
      const finished = await runOf(store, t.id, { state: 'succeeded' });
      const active = await runOf(store, t.id, { action: 'update', generation: 2, state: 'waiting' });
      // One settled callback each, pending until delivered, in id order (their `running` callbacks
      // are written delivered, just now: inside the window).
      for (let i = 0; i < 4; i++) await executionOf(store, t.id, { runId: finished, status: 'succeeded' });
      await executionOf(store, t.id, { runId: active, status: 'failed' });
      const settledCallbacks = async () =>
        (await store.callbacks.list({ limit: 20 })).items.filter((cb) => cb.payload.status !== 'running');
      const [old, stale, dead, recent, ofActive] = (await settledCallbacks()).map((cb) => cb.id);
      assert.ok(old && stale && dead && recent && ofActive);
      await store.callbacks.markDelivered([old], LONG_AGO);
      await store.callbacks.markDelivered([stale], LONG_AGO);
      await store.callbacks.markAttemptFailed(dead, {
        attempts: 8,
        nextAttemptAt: 0,
        lastError: 'x',
        dead: true,
      });
      await store.callbacks.markDelivered([recent], RECENT());
      await store.callbacks.markDelivered([ofActive], LONG_AGO);
      const pending = await executionOf(store, t.id, { runId: finished, status: 'succeeded' });

      const swept = await sweepAll(store, 'callbacks', CUTOFF);
      assert.deepEqual([swept.examined, swept.deleted], [3, 2]);
      const left = await settledCallbacks();
      assert.deepEqual(
        left.map((cb) => [cb.id, cb.state]),
        [
          [dead, 'dead'],
          [recent, 'delivered'],
          [ofActive, 'delivered'],
          [left[3]?.id, 'pending'],
        ],
      );
      assert.equal(left[3]?.executionId, pending);
      const running = (await store.callbacks.list({ limit: 20 })).items.filter(
        (cb) => cb.payload.status === 'running',
      );
      assert.deepEqual(
        running.map((cb) => cb.state),
        Array(6).fill('delivered'),
      );
    },
  );

  withStore(
    'events past the window go, except the newest of all: the stream head never moves back',
    async (store) => {
      const old = await newTenant(store);
      for (let i = 0; i < 3; i++)
        await store.tenants.change(old.id, {
          actor: 'test',
          audit: [{ type: 'Audit', reason: `a${i}`, message: '' }],
        });
      await sleep(5);
      const cutoff = RECENT();
      await sleep(5);
      const young = await newTenant(store);
      assert.deepEqual(await sweepAll(store, 'events', cutoff), { examined: 4, deleted: 4, batches: 1 });
      assert.deepEqual(await store.events.listByTenant(old.id, { limit: 10 }), []);
      assert.equal((await store.events.listByTenant(young.id, { limit: 10 })).length, 1);

      await store.tenants.change(young.id, {
        actor: 'test',
        audit: [{ type: 'Audit', reason: 'b', message: '' }],
      });
      const head = await store.events.latestSeq();
      const everything = '9999-01-01T00:00:00.000Z';
      assert.deepEqual(await sweepAll(store, 'events', everything), { examined: 2, deleted: 1, batches: 1 });
      assert.equal(await store.events.latestSeq(), head, 'the newest event stays');
      assert.deepEqual(
        (await store.events.listSince(0, 10)).map((e) => e.seq),
        [head],
      );
      const next = await newTenant(store);
      const [created] = await store.events.listByTenant(next.id, { limit: 1 });
      assert.ok(
        created && created.seq > head,
        `a new event continues the sequence (${String(created?.seq)} > ${head})`,
      );
    },
  );

  withStore('a sequence number is never reused, even after every event is gone (purge)', async (store) => {
    const t = await newTenant(store);
    await store.tenants.change(t.id, { actor: 'test', phase: { to: 'deleting', reason: 'test' } });
    await store.tenants.change(t.id, { actor: 'test', phase: { to: 'archived', reason: 'test' } });
    const head = await store.events.latestSeq();
    await store.tenants.purge(t.id, { actor: 'test' });
    assert.equal(await store.events.latestSeq(), 0, 'no event is left');
    const next = await newTenant(store);
    const [created] = await store.events.listByTenant(next.id, { limit: 1 });
    assert.ok(created && created.seq > head, `seq ${String(created?.seq)} follows ${head}`);
  });

  withStore(
    'a batch examines at most its limit and resumes after its last row; kept rows are passed, not re-read',
    async (store) => {
      const t = await newTenant(store);
      const finishedAt = (i: number) => `2020-01-0${i + 1}T00:00:00.000Z`;
      for (let i = 0; i < 5; i++)
        await runOf(store, t.id, { retry: i, state: 'succeeded', finishedAt: finishedAt(i) });
      const batches: [number, number, string | null][] = [];
      let after: RetentionCursor | null = null;
      for (let i = 0; i < 4; i++) {
        const batch = await store.retention.sweep('runs', { olderThan: CUTOFF, after, limit: 2 });
        batches.push([batch.examined, batch.deleted, batch.last?.at ?? null]);
        after = batch.last ?? after;
      }
      assert.deepEqual(batches, [
        [2, 2, finishedAt(1)],
        [2, 2, finishedAt(3)],
        [1, 0, finishedAt(4)],
        [0, 0, null],
      ]);
    },
  );

  withStore('nothing settled before the cutoff: every kind examines nothing', async (store) => {
    const t = await newTenant(store);
    const run = await runOf(store, t.id, { state: 'succeeded', finishedAt: RECENT() });
    await executionOf(store, t.id, { runId: run, status: 'succeeded', finishedAt: RECENT() });
    for (const kind of ['events', 'runs', 'executions', 'callbacks'] as const) {
      const batch = await store.retention.sweep(kind, { olderThan: LONG_AGO, after: null, limit: 100 });
      assert.deepEqual(batch, { examined: 0, deleted: 0, last: null }, kind);
    }
  });

  withStore('two replicas sweeping at once delete each row once', async (store, url) => {
    const tenants = await Promise.all(
      Array.from({ length: 4 }, () =>
        store.tenants.create({ name: unique('rep'), spec: specOf(), actor: 'test' }),
      ),
    );
    for (const t of tenants)
      for (let i = 0; i < 10; i++) await runOf(store, t.id, { retry: i, state: 'failed' });
    const replica = await createStore({ url });
    try {
      const [a, b] = await Promise.all([
        sweepAll(store, 'runs', CUTOFF, 7),
        sweepAll(replica, 'runs', CUTOFF, 7),
      ]);
      assert.equal(a.deleted + b.deleted, 4 * 9);
    } finally {
      await replica.close();
    }
    const left = await Promise.all(tenants.map((t) => store.runs.listBySubject(tenantSubject(t.id), 100)));
    assert.deepEqual(
      left.map((runs) => runs.map((r) => r.runId)),
      tenants.map((t) => [`${t.id}:provision:g1:r9`]),
    );
  });

  withStore(
    'rollouts that ended go with their members once past the window; unfinished and recent ones stay',
    async (store) => {
      const fleet = await Promise.all([0, 1, 2, 3].map(() => newTenant(store)));
      const ended = await rolloutOf(store, fleet.slice(0, 2), 'succeeded');
      const halted = await rolloutOf(store, fleet.slice(2, 3), 'halted');
      await sleep(5);
      const window = new Date().toISOString();
      await sleep(5);
      const recent = await rolloutOf(store, fleet.slice(3), 'aborted');

      assert.deepEqual(await sweepAll(store, 'rollouts', window), { examined: 1, deleted: 1, batches: 1 });
      assert.equal(await store.rollouts.get(ended), undefined);
      assert.deepEqual(
        (await store.rollouts.members(ended, { limit: 10 })).items,
        [],
        'its members went too',
      );
      for (const id of [halted, recent]) {
        assert.ok(await store.rollouts.get(id), `${id} stays`);
        assert.equal((await store.rollouts.members(id, { limit: 10 })).items.length, 1);
      }

      const later = new Date(Date.now() + 60_000).toISOString();
      assert.deepEqual(await sweepAll(store, 'rollouts', later), { examined: 1, deleted: 1, batches: 1 });
      assert.equal(await store.rollouts.get(recent), undefined);
      assert.ok(await store.rollouts.get(halted), 'a halted rollout may resume: it is never swept');
      assert.deepEqual([...(await store.rollouts.holders([fleet[2]!.id])).values()], [halted]);
      for (const tenant of fleet) assert.ok(await store.tenants.get(tenant.id), 'tenants are not swept');
    },
  );
}

/** A rollout over `members` saved in `phase` (a final phase sets its finish time to now); returns its id. */
async function rolloutOf(store: Store, members: readonly Tenant[], phase: RolloutPhase): Promise<string> {
  const rollout = await store.rollouts.create(oneWaveRollout(members, { description: 'retention' }));
  await store.rollouts.saveControl(
    rollout.id,
    { control: { ...rollout.control, phase }, waveTimes: rollout.waveTimes },
    rollout.version,
  );
  return rollout.id;
}
