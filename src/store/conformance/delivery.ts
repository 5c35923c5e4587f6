/** Conformance: callback outbox (due, retry, dead letters, redrive) and idempotency keys. */
import assert from 'node:assert/strict';
import type { Store } from '../store.js';
import { newExecution, specOf, unique, type Conformance } from './harness.js';

async function queueCallback(store: Store): Promise<string> {
  const tenant = await store.tenants.create({ name: unique('cb'), spec: specOf(), actor: 'test' });
  const { execution: e } = await store.executions.insertIfAbsent(newExecution(tenant.id));
  const at = new Date().toISOString();
  const payload = {
    executionId: e.executionId,
    tenantId: e.tenantId,
    workflowRunId: e.workflowRunId,
    operation: e.operation,
    status: 'succeeded' as const,
    resources: {},
    error: null,
    attempt: 1,
    at,
  };
  await store.executions.transition(e.executionId, { from: ['pending'], to: 'running', at });
  await store.executions.transition(e.executionId, {
    from: ['running'],
    to: 'succeeded',
    at,
    callback: payload,
  });
  const callback = (await store.callbacks.list({ limit: 1000 })).items.find(
    (cb) => cb.executionId === e.executionId,
  );
  assert.ok(callback);
  return callback.id;
}

/** The callback tests read the whole outbox: this module gets a database of its own. */
export function callbackOutbox(c: Conformance): void {
  c.test(
    'due callbacks are listed oldest first; failures back off, then park as dead; redrive revives',
    async () => {
      const store = c.store();
      const a = await queueCallback(store);
      const b = await queueCallback(store);
      const now = Date.now() + 1;
      assert.deepEqual(
        (await store.callbacks.listDue(now, 10)).map((cb) => cb.id),
        [a, b],
      );
      assert.ok(((await store.callbacks.nextDueAt()) ?? Infinity) <= now);

      await store.callbacks.markAttemptFailed(a, {
        attempts: 1,
        nextAttemptAt: now + 10_000,
        lastError: 'refused',
        dead: false,
      });
      assert.deepEqual(
        (await store.callbacks.listDue(now, 10)).map((cb) => cb.id),
        [b],
      );
      await store.callbacks.markDelivered([b], 'at');
      await store.callbacks.markDelivered([b], 'again');
      assert.deepEqual(
        [(await store.callbacks.get(b))?.state, (await store.callbacks.get(b))?.deliveredAt],
        ['delivered', 'at'],
      );
      assert.equal(await store.callbacks.nextDueAt(), now + 10_000);
      // Several at once, in one statement: the one delivered already keeps its time.
      const d = await queueCallback(store);
      const e = await queueCallback(store);
      await store.callbacks.markDelivered([b, d, e], 'together');
      assert.deepEqual(
        await Promise.all([b, d, e].map(async (id) => (await store.callbacks.get(id))?.deliveredAt)),
        ['at', 'together', 'together'],
      );
      await store.callbacks.markDelivered([], 'never');

      await store.callbacks.markAttemptFailed(a, {
        attempts: 2,
        nextAttemptAt: now + 20_000,
        lastError: 'gone',
        dead: true,
      });
      const dead = await store.callbacks.get(a);
      assert.deepEqual([dead?.state, dead?.attempts, dead?.lastError], ['dead', 2, 'gone']);
      assert.equal(await store.callbacks.nextDueAt(), null);
      assert.deepEqual(
        (await store.callbacks.list({ state: 'dead', limit: 10 })).items.map((cb) => cb.id),
        [a],
      );
      assert.equal(await store.callbacks.redrive(b, now), false);
      assert.equal(await store.callbacks.redrive(a, now), true);
      assert.equal(await store.callbacks.redrive(a, now), false);
      const revived = await store.callbacks.get(a);
      assert.deepEqual([revived?.state, revived?.attempts, revived?.nextAttemptAt], ['pending', 0, now]);
    },
  );

  c.test('callback list pages by id', async () => {
    const store = c.store();
    for (let i = 0; i < 5; i++) await queueCallback(store);
    const all = (await store.callbacks.list({ limit: 100 })).items.map((cb) => cb.id);
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.callbacks.list({ limit: 2, cursor });
      paged.push(...page.items.map((cb) => cb.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    assert.deepEqual(paged, all);
    assert.deepEqual(all, [...all].sort());
  });

  c.test('idempotency: claim, replay, release, expiry and takeover', async () => {
    const store = c.store();
    const now = Date.now();
    const key = unique('key');
    const claim = (over: Partial<Parameters<Store['idempotency']['claim']>[0]> = {}) =>
      store.idempotency.claim({
        key,
        scope: 'token-a',
        requestHash: 'h1',
        now,
        expiresAt: now + 1_000,
        ...over,
      });
    assert.deepEqual(await claim(), { claimed: true });
    const inFlight = await claim();
    assert.ok(!inFlight.claimed && inFlight.existing.state === 'in_flight');
    assert.deepEqual(await claim({ scope: 'token-b' }), { claimed: true });

    await store.idempotency.complete(
      key,
      'token-a',
      { statusCode: 201, body: { id: 'x' }, headers: { location: '/x' } },
      now + 1_000,
    );
    const replay = await claim({ requestHash: 'h2' });
    assert.ok(!replay.claimed);
    assert.deepEqual(
      [
        replay.existing.state,
        replay.existing.statusCode,
        replay.existing.responseBody,
        replay.existing.responseHeaders,
        replay.existing.requestHash,
      ],
      ['completed', 201, { id: 'x' }, { location: '/x' }, 'h1'],
    );
    await store.idempotency.release(key, 'token-a');
    assert.equal((await claim()).claimed, false, 'release keeps completed responses');
    await store.idempotency.release(key, 'token-b');
    assert.deepEqual(await claim({ scope: 'token-b' }), { claimed: true });

    assert.deepEqual(await claim({ now: now + 1_000, expiresAt: now + 5_000, requestHash: 'h3' }), {
      claimed: true,
    });
    const racers = await Promise.all([1, 2, 3].map(() => claim({ key: `${key}-race` })));
    assert.equal(racers.filter((r) => r.claimed).length, 1);
    assert.equal(await store.idempotency.deleteExpired(now + 2_000), 2);
    assert.deepEqual(await claim({ scope: 'token-b', now: now + 2_000, expiresAt: now + 3_000 }), {
      claimed: true,
    });
  });
}
