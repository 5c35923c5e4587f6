/** Conformance: compute executions — idempotent insert, CAS transitions with history/event/outbox, leases. */
import assert from 'node:assert/strict';
import { isValidExecutionPath, type ComputeExecution } from '../../domain/compute-execution.js';
import { InvalidTransitionError, NotFoundError } from '../../domain/errors.js';
import { statusWriteOf } from '../../domain/tenant-change.js';
import { executionEvent } from '../compute-execution-rows.js';
import { createStore } from '../create-store.js';
import type { Store } from '../store.js';
import { newExecution, payloadOf, specOf, unique, type Conformance } from './harness.js';

async function tenantWithExecution(
  store: Store,
  overrides: Partial<ComputeExecution> = {},
): Promise<ComputeExecution> {
  const tenant = await store.tenants.create({ name: unique('ex'), spec: specOf(), actor: 'test' });
  return (await store.executions.insertIfAbsent(newExecution(tenant.id, overrides))).execution;
}

export function computeExecutions(c: Conformance): void {
  c.test('concurrent insertIfAbsent of one id: one row, one creator, one history entry', async () => {
    const store = c.store();
    const tenant = await store.tenants.create({ name: unique('ins'), spec: specOf(), actor: 'test' });
    const execution = newExecution(tenant.id);
    const results = await Promise.all(
      Array.from({ length: 6 }, () => store.executions.insertIfAbsent(execution)),
    );
    assert.equal(results.filter((r) => r.created).length, 1);
    for (const r of results) assert.deepEqual(r.execution, execution);
    assert.deepEqual(
      (await store.executions.history(execution.executionId)).map((h) => [h.seq, h.status]),
      [[1, 'pending']],
    );
    const events = (await store.events.listByTenant(tenant.id, { limit: 10 })).filter(
      (e) => e.type === 'ExecutionStatusChanged',
    );
    assert.deepEqual(
      events.map((e) => [e.executionId, e.data?.status]),
      [[execution.executionId, 'pending']],
    );
  });

  c.test(
    'a transition appends the event executionEvent builds from the stored execution, at its time',
    async () => {
      const store = c.store();
      const e = await tenantWithExecution(store, { generation: 3 });
      const at = '2026-01-02T03:04:05.000Z';
      const running = await store.executions.transition(e.executionId, {
        from: ['pending'],
        to: 'running',
        at,
        callback: payloadOf(e, 'running'),
      });
      const done = await store.executions.transition(e.executionId, {
        from: ['running'],
        to: 'succeeded',
        at,
        resources: { containerId: 'c1' },
      });
      const events = (await store.events.listByTenant(e.tenantId, { limit: 20 }))
        .filter((ev) => ev.type === 'ExecutionStatusChanged')
        .map(({ seq: _seq, ...event }) => event);
      assert.deepEqual(events.slice(1), [
        { tenantId: e.tenantId, ...executionEvent(running!), at },
        { tenantId: e.tenantId, ...executionEvent(done!), at },
      ]);
      assert.equal(events[1]?.message, `${e.operation} running (attempt 1)`);
      assert.deepEqual(
        (await store.executions.history(e.executionId)).map((h) => [h.seq, h.status, h.at]),
        [
          [1, 'pending', e.createdAt],
          [2, 'running', at],
          [3, 'succeeded', at],
        ],
      );
    },
  );

  c.test(
    'insertIfAbsent with the move to running: the rows of an insert and a transition, once',
    async () => {
      const store = c.store();
      const tenant = await store.tenants.create({ name: unique('insrun'), spec: specOf(), actor: 'test' });
      const execution = newExecution(tenant.id);
      const at = new Date().toISOString();
      const running = {
        from: ['pending' as const],
        to: 'running' as const,
        attempt: execution.attempt,
        details: { owner: 'me' },
        at,
        callback: payloadOf(execution, 'running'),
      };
      const results = await Promise.all(
        Array.from({ length: 4 }, () => store.executions.insertIfAbsent(execution, running)),
      );
      const created = results.filter((r) => r.created);
      assert.equal(created.length, 1);
      assert.deepEqual(
        [created[0]?.execution.status, created[0]?.execution.startedAt, created[0]?.execution.leaseOwner],
        ['running', at, execution.leaseOwner],
      );
      assert.deepEqual(await store.executions.get(execution.executionId), created[0]?.execution);
      assert.deepEqual(
        (await store.executions.history(execution.executionId)).map((h) => [
          h.seq,
          h.status,
          h.details,
          h.at,
        ]),
        [
          [1, 'pending', {}, execution.createdAt],
          [2, 'running', { owner: 'me' }, at],
        ],
      );
      const events = (await store.events.listByTenant(tenant.id, { limit: 10 })).filter(
        (e) => e.type === 'ExecutionStatusChanged',
      );
      assert.deepEqual(
        events.map((e) => [e.data?.status, e.at, e.message]),
        [
          ['pending', at, `provision pending (attempt ${execution.attempt})`],
          ['running', at, `provision running (attempt ${execution.attempt})`],
        ],
      );
      const callbacks = (await store.callbacks.list({ limit: 500 })).items.filter(
        (cb) => cb.executionId === execution.executionId,
      );
      assert.deepEqual(
        callbacks.map((cb) => [cb.payload.status, cb.state]),
        [['running', 'delivered']],
      );
    },
  );

  const SHOW_CASES = [
    {
      reason: 'a row it inserts at the version read: the tenant shows it (the insert folds the change)',
      changedSince: false,
      existing: false,
      folded: 'written',
    },
    {
      reason: 'the tenant changed since it was read: the row is inserted, the tenant change is not made',
      changedSince: true,
      existing: false,
      folded: 'stale',
    },
    {
      reason: 'the execution exists already: no change is attempted',
      changedSince: false,
      existing: true,
      folded: undefined,
    },
  ] as const;
  for (const { reason, changedSince, existing, folded } of SHOW_CASES) {
    c.test(`insertIfAbsent with a show: ${reason}`, async () => {
      const store = c.store();
      const read = await store.tenants.create({ name: unique('show'), spec: specOf(), actor: 'test' });
      const execution = newExecution(read.id);
      const running = {
        from: ['pending' as const],
        to: 'running' as const,
        attempt: execution.attempt,
        details: { owner: 'me' },
        at: new Date().toISOString(),
        callback: payloadOf(execution, 'running'),
      };
      if (existing) await store.executions.insertIfAbsent(execution, running);
      const before = changedSince
        ? (await store.tenants.changeFrom(read, { actor: 'test', status: { message: 'meanwhile' } })).tenant
        : read;
      const compute = {
        executionId: execution.executionId,
        operation: execution.operation,
        status: 'running' as const,
      };
      const show = statusWriteOf(read, { actor: 'test', status: { compute } }, new Date().toISOString());
      assert.ok(show, reason);
      const result = await store.executions.insertIfAbsent(execution, running, undefined, show);
      assert.equal(result.created, !existing, reason);
      assert.equal(result.execution.status, 'running', reason);
      assert.equal(result.shown, folded, reason);
      const after = await store.tenants.get(read.id);
      if (result.shown === 'written') {
        assert.deepEqual([after?.version, after?.status.compute], [show.after.version, compute], reason);
        assert.deepEqual(after?.status, show.after.status, reason);
      } else {
        assert.deepEqual([after?.version, after?.status], [before.version, before.status], reason);
      }
    });
  }

  c.test('concurrent insertIfAbsent with a show: the one that inserts makes it, once', async () => {
    const store = c.store();
    const read = await store.tenants.create({ name: unique('shows'), spec: specOf(), actor: 'test' });
    const execution = newExecution(read.id);
    const running = {
      from: ['pending' as const],
      to: 'running' as const,
      attempt: execution.attempt,
      at: new Date().toISOString(),
      callback: payloadOf(execution, 'running'),
    };
    const compute = {
      executionId: execution.executionId,
      operation: execution.operation,
      status: 'running' as const,
    };
    const show = statusWriteOf(read, { actor: 'test', status: { compute } }, new Date().toISOString())!;
    const results = await Promise.all(
      Array.from({ length: 4 }, () => store.executions.insertIfAbsent(execution, running, undefined, show)),
    );
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.ok(
      results.every((r) => r.created || r.shown === undefined),
      'only the creator makes the change',
    );
    const written = results.filter((r) => r.shown === 'written').length;
    assert.equal(written, 1);
    assert.equal((await store.tenants.get(read.id))?.version, read.version + written);
  });

  c.test('foreign keys are enforced: an execution for an unknown tenant is refused', async () => {
    await assert.rejects(
      c.store().executions.insertIfAbsent(newExecution('01900000-0000-7000-8000-00000000dead')),
      NotFoundError,
    );
    assert.equal(
      (await c.store().executions.list({ limit: 5, tenantId: '01900000-0000-7000-8000-00000000dead' })).items
        .length,
      0,
    );
  });

  c.test('transition is a compare-and-set; history, event and outbox row come with it', async () => {
    const store = c.store();
    const e = await tenantWithExecution(store);
    const at = new Date().toISOString();
    const running = await store.executions.transition(e.executionId, {
      from: ['pending'],
      to: 'running',
      at,
      callback: payloadOf(e, 'running'),
    });
    assert.equal(running?.status, 'running');
    assert.equal(running?.startedAt, at);
    assert.equal(
      await store.executions.transition(e.executionId, { from: ['pending'], to: 'running', at }),
      undefined,
    );
    const error = {
      code: 'PROVIDER_TIMEOUT' as const,
      message: 'slow',
      classification: 'retriable' as const,
    };
    const failed = await store.executions.transition(e.executionId, {
      from: ['running'],
      to: 'failed',
      at,
      error,
      partial: { succeeded: ['a'], failed: ['b'] },
      details: { why: 'timeout' },
    });
    assert.deepEqual(
      [failed?.status, failed?.error, failed?.finishedAt, failed?.partial?.failed],
      ['failed', error, at, ['b']],
    );
    const retried = await store.executions.transition(e.executionId, {
      from: ['failed'],
      to: 'running',
      attempt: 2,
      at,
      error: null,
    });
    assert.deepEqual([retried?.attempt, retried?.finishedAt, retried?.error], [2, null, null]);
    const done = await store.executions.transition(e.executionId, {
      from: ['running'],
      to: 'succeeded',
      at,
      resources: { containerId: 'c1' },
      endpoints: [{ name: 'http', url: 'http://x' }],
      callback: payloadOf(e, 'succeeded'),
    });
    assert.deepEqual(done?.resources, { containerId: 'c1' });
    assert.deepEqual(await store.executions.get(e.executionId), done);

    const history = await store.executions.history(e.executionId);
    assert.deepEqual(
      history.map((h) => [h.seq, h.status, h.attempt]),
      [
        [1, 'pending', 1],
        [2, 'running', 1],
        [3, 'failed', 1],
        [4, 'running', 2],
        [5, 'succeeded', 2],
      ],
    );
    assert.ok(isValidExecutionPath(history.map((h) => h.status)));
    assert.deepEqual(history[2]?.details, { why: 'timeout', errorCode: 'PROVIDER_TIMEOUT' });
    const events = (await store.events.listByTenant(e.tenantId, { limit: 20 })).filter(
      (ev) => ev.type === 'ExecutionStatusChanged',
    );
    assert.deepEqual(
      events.map((ev) => ev.data?.status),
      ['pending', 'running', 'failed', 'running', 'succeeded'],
    );
    assert.equal(events[2]?.data?.errorCode, 'PROVIDER_TIMEOUT');
    const callbacks = (await store.callbacks.list({ limit: 500 })).items.filter(
      (cb) => cb.executionId === e.executionId,
    );
    assert.deepEqual(
      callbacks.map((cb) => [cb.payload.status, cb.state, cb.attempts]),
      // A `running` callback resolves nothing: it is written delivered.
      [
        ['running', 'delivered', 0],
        ['succeeded', 'pending', 0],
      ],
    );
    await assert.rejects(
      store.executions.transition(e.executionId, { from: ['succeeded'], to: 'running', at }),
      InvalidTransitionError,
    );
  });

  c.test('a transition whose outbox write fails leaves nothing behind', async () => {
    const store = c.store();
    const e = await tenantWithExecution(store);
    const broken = { ...payloadOf(e, 'running'), tenantId: '01900000-0000-7000-8000-00000000beef' };
    await assert.rejects(
      store.executions.transition(e.executionId, {
        from: ['pending'],
        to: 'running',
        at: 'now',
        callback: broken,
      }),
    );
    assert.equal((await store.executions.get(e.executionId))?.status, 'pending');
    assert.equal((await store.executions.history(e.executionId)).length, 1);
    const events = await store.events.listByTenant(e.tenantId, { limit: 10 });
    assert.equal(events.filter((ev) => ev.type === 'ExecutionStatusChanged').length, 1);
  });

  c.test('concurrent transitions from the same status: exactly one applies', async () => {
    const store = c.store();
    const e = await tenantWithExecution(store);
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        store.executions.transition(e.executionId, { from: ['pending'], to: 'running', at: `t${i}` }),
      ),
    );
    assert.equal(results.filter((r) => r !== undefined).length, 1);
    assert.deepEqual(
      (await store.executions.history(e.executionId)).map((h) => h.status),
      ['pending', 'running'],
    );
  });

  c.test('list filters by tenant, run and status, newest first, with cursors', async () => {
    const store = c.store();
    const tenant = await store.tenants.create({ name: unique('exl'), spec: specOf(), actor: 'test' });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const createdAt = new Date(Date.UTC(2030, 0, 1, 0, 0, i % 3)).toISOString();
      const e = newExecution(tenant.id, { createdAt, workflowRunId: i < 4 ? 'run-a' : 'run-b' });
      ids.push((await store.executions.insertIfAbsent(e)).execution.executionId);
    }
    await store.executions.transition(ids[0]!, { from: ['pending'], to: 'failed', at: 'now' });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.executions.list({ tenantId: tenant.id, limit: 3, cursor });
      seen.push(...page.items.map((x) => x.executionId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    assert.equal(new Set(seen).size, 7);
    const all = await store.executions.list({ tenantId: tenant.id, limit: 10 });
    assert.deepEqual(
      all.items.map((x) => x.executionId),
      seen,
    );
    assert.ok(all.items.every((x, i) => i === 0 || x.createdAt <= all.items[i - 1]!.createdAt));
    assert.equal(
      (await store.executions.list({ workflowRunId: 'run-b', tenantId: tenant.id, limit: 10 })).items.length,
      3,
    );
    assert.deepEqual(
      (await store.executions.list({ tenantId: tenant.id, status: 'failed', limit: 10 })).items.map(
        (x) => x.executionId,
      ),
      [ids[0]],
    );
  });
}

/** Orphan claiming sees every execution in the database: this module gets a database of its own. */
export function computeExecutionLeases(c: Conformance): void {
  c.test(
    'claimOrphans takes expired and never-leased stale executions; renewLease respects the owner',
    async () => {
      const store = c.store();
      const now = Date.now();
      const old = new Date(now - 120_000).toISOString();
      const stale = await tenantWithExecution(store, { createdAt: old });
      const fresh = await tenantWithExecution(store);
      const leased = await tenantWithExecution(store);
      const settled = await tenantWithExecution(store, { createdAt: old });
      await store.executions.transition(settled.executionId, { from: ['pending'], to: 'failed', at: 'now' });
      assert.equal(await store.executions.renewLease(leased.executionId, 'p1', now + 1_000), true);
      assert.equal(await store.executions.renewLease(leased.executionId, 'p2', now + 1_000), false);
      assert.equal(await store.executions.renewLease(settled.executionId, 'p1', now + 1_000), false);

      const first = await store.executions.claimOrphans('p2', now, 60_000, 10);
      assert.deepEqual(
        first.map((e) => [e.executionId, e.leaseOwner]),
        [[stale.executionId, 'p2']],
      );
      const later = await store.executions.claimOrphans('p3', now + 2_000, 60_000, 10);
      assert.deepEqual(
        later.map((e) => e.executionId),
        [leased.executionId],
      );
      assert.ok(!later.some((e) => e.executionId === fresh.executionId));
      const done = await store.executions.transition(leased.executionId, {
        from: ['pending'],
        to: 'failed',
        at: 'now',
      });
      assert.deepEqual([done?.leaseOwner, done?.leaseExpiresAt], [null, null]);
    },
  );

  c.test(
    "releaseLeases ends the owner's in-flight leases at once; claimOrphans then takes them",
    async () => {
      const store = c.store();
      const now = Date.now();
      const [pending, running, others, settled] = await Promise.all([
        tenantWithExecution(store),
        tenantWithExecution(store),
        tenantWithExecution(store),
        tenantWithExecution(store),
      ]);
      await store.executions.transition(running.executionId, { from: ['pending'], to: 'running', at: 'now' });
      for (const e of [pending, running, settled])
        assert.equal(await store.executions.renewLease(e.executionId, 'leaving', now + 600_000), true);
      assert.equal(await store.executions.renewLease(others.executionId, 'staying', now + 600_000), true);
      await store.executions.transition(settled.executionId, { from: ['pending'], to: 'failed', at: 'now' });
      const mine = [pending, running, others, settled].map((e) => e.executionId);
      const claimable = async (owner: string, at: number) =>
        (await store.executions.claimOrphans(owner, at, 60_000, 100))
          .filter((e) => mine.includes(e.executionId))
          .map((e) => e.executionId)
          .sort();
      assert.deepEqual(await claimable('early', now), [], 'the leases are still held');

      assert.equal(await store.executions.releaseLeases('leaving', now), 2);
      const released = await store.executions.get(running.executionId);
      assert.deepEqual([released?.leaseOwner, released?.leaseExpiresAt], [null, now]);
      assert.equal((await store.executions.get(others.executionId))?.leaseOwner, 'staying');
      assert.deepEqual(
        await claimable('successor', now),
        [pending.executionId, running.executionId].sort(),
        'taken over without waiting for the lease to run out',
      );
      assert.equal(await store.executions.releaseLeases('leaving', now), 0);
    },
  );

  c.test('claimOrphans with an execution id takes that orphan only, and only when orphaned', async () => {
    const store = c.store();
    const now = Date.now();
    const old = new Date(now - 120_000).toISOString();
    const [target, other] = await Promise.all([
      tenantWithExecution(store, { createdAt: old }),
      tenantWithExecution(store, { createdAt: old }),
    ]);
    const leased = await tenantWithExecution(store);
    assert.equal(await store.executions.renewLease(leased.executionId, 'holder', now + 600_000), true);
    assert.deepEqual(
      await store.executions.claimOrphans('one', now, 60_000, 1, leased.executionId),
      [],
      'a live lease is not taken over',
    );
    const claimed = await store.executions.claimOrphans('one', now, 60_000, 1, target.executionId);
    assert.deepEqual(
      claimed.map((e) => [e.executionId, e.leaseOwner]),
      [[target.executionId, 'one']],
    );
    assert.equal((await store.executions.get(other.executionId))?.leaseOwner, null, 'no other row taken');
    assert.deepEqual(await store.executions.claimOrphans('two', now, 60_000, 1, target.executionId), []);
  });

  c.test('concurrent orphan claimers never get the same execution', async () => {
    const store = c.store();
    const old = new Date(Date.now() - 600_000).toISOString();
    for (let i = 0; i < 12; i++) await tenantWithExecution(store, { createdAt: old });
    const other = await createStore({ url: c.database().url });
    try {
      const claims = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 ? other : store).executions.claimOrphans(`o${i}`, Date.now(), 300_000, 3),
        ),
      );
      const ids = claims.flat().map((e) => e.executionId);
      assert.equal(new Set(ids).size, ids.length);
      assert.ok(ids.length >= 3);
    } finally {
      await other.close();
    }
  });
}
