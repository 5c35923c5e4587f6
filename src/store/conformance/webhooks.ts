/**
 * Conformance: webhook subscriptions and their outbox — rows written with the event's own
 * transaction for matching enabled subscribers only, leases that let one replica claim a delivery
 * at a time, attempts recorded only under the lease, retries by hand, rotation, cascade on delete.
 * The dispatcher reads the whole outbox: this module gets a database of its own.
 */
import assert from 'node:assert/strict';
import { PreconditionFailedError } from '../../domain/errors.js';
import type { Rollout } from '../../domain/rollout.js';
import { createStore } from '../create-store.js';
import type { Store } from '../store.js';
import type { AttemptRecord } from '../webhook-store.js';
import { oneWaveRollout, specOf, unique, type Conformance } from './harness.js';

const FAR = Date.now() + 3_600_000;

async function newHook(store: Store, events: readonly string[], enabled = true) {
  return store.webhooks.create({
    url: 'https://hooks.example.com/in',
    description: 'test',
    events,
    enabled,
    secret: 'whsec_dGVzdA==',
  });
}

/** Claims what is due (of every webhook) and answers `webhookId`'s part of the claim. */
async function claimFor(
  store: Store,
  webhookId: string,
  owner: string,
  options: { now?: number; leaseUntil?: number; limit?: number } = {},
) {
  const now = options.now ?? Date.now() + 1;
  const { claims } = await store.webhooks.claimDue({
    owner,
    now,
    leaseUntil: options.leaseUntil ?? now + 60_000,
    limit: options.limit ?? 100,
    perWebhook: 100,
    inFlight: new Map(),
  });
  return claims.find((c) => c.target.webhookId === webhookId);
}

async function claimAll(store: Store, webhookId: string, owner: string) {
  return (await claimFor(store, webhookId, owner))?.deliveries ?? [];
}

async function record(store: Store, webhookId: string, messageId: string, owner: string, r: AttemptRecord) {
  const [applied] = await store.webhooks.recordAttempts(owner, [{ webhookId, messageId, record: r }]);
  return applied;
}

export function webhookOutbox(c: Conformance): void {
  c.test('a workflow status change queues its event for a matching subscriber only', async () => {
    const store = c.store();
    const tenant = await store.tenants.create({ name: unique('whcas'), spec: specOf(), actor: 'test' });
    const working = await store.tenants.changeFrom(tenant, {
      actor: 'test',
      phase: { to: 'provisioning', reason: 'ProvisionStarted' },
    });
    const ready = await newHook(store, ['tenant.ready']);
    const off = await newHook(store, ['tenant.*'], false);
    await store.tenants.changeFrom(working.tenant, {
      actor: 'test',
      phase: { to: 'ready', reason: 'ProvisionSucceeded' },
    });
    const queued = await store.webhooks.listDeliveries(ready.id, { limit: 10 });
    assert.deepEqual(
      queued.items.map((d) => d.eventType),
      ['tenant.ready'],
    );
    const [claimed] = await claimAll(store, ready.id, 'me');
    assert.equal((claimed?.event.data['tenant'] as { id: string }).id, tenant.id);
    assert.equal((await store.webhooks.listDeliveries(off.id, { limit: 10 })).items.length, 0);
  });

  c.test(
    'a tenant event queues one delivery per enabled matching subscriber, in its transaction',
    async () => {
      const store = c.store();
      const all = await newHook(store, ['tenant.*']);
      const exact = await newHook(store, ['tenant.created']);
      const other = await newHook(store, ['rollout.*']);
      const off = await newHook(store, ['*'], false);
      const tenant = await store.tenants.create({ name: unique('wh'), spec: specOf(), actor: 'test' });

      for (const hook of [all, exact]) {
        const page = await store.webhooks.listDeliveries(hook.id, { limit: 10 });
        assert.equal(page.items.length, 1, `${hook.events.join()} gets the event`);
        const [delivery] = page.items;
        assert.equal(delivery!.eventType, 'tenant.created');
        assert.equal(delivery!.status, 'pending');
        assert.match(delivery!.id, /^msg_[0-9a-f]{32}$/);
      }
      for (const hook of [other, off]) {
        assert.equal((await store.webhooks.listDeliveries(hook.id, { limit: 10 })).items.length, 0);
      }
      const [claimed] = await claimAll(store, all.id, 'me');
      assert.equal(claimed?.event.type, 'tenant.created');
      assert.equal((claimed?.event.data['tenant'] as { id: string }).id, tenant.id);
      assert.deepEqual(await claimAll(store, off.id, 'me'), [], 'a disabled webhook is never claimed');
      for (const hook of [all, exact, other, off]) await store.webhooks.delete(hook.id);
    },
  );

  c.test('a refused create queues nothing', async () => {
    const store = c.store();
    const hook = await newHook(store, ['*']);
    const name = unique('dup');
    await store.tenants.create({ name, spec: specOf(), actor: 'test' });
    await assert.rejects(store.tenants.create({ name, spec: specOf(), actor: 'test' }));
    assert.equal((await store.webhooks.listDeliveries(hook.id, { limit: 10 })).items.length, 1);
    await store.webhooks.delete(hook.id);
  });

  c.test('two replicas never claim the same delivery; attempts apply only under the lease', async () => {
    const store = c.store();
    const other = await createStore({ url: c.database().url });
    try {
      const hook = await newHook(store, ['rollout.started']);
      for (let i = 0; i < 20; i++) {
        await store.webhooks.publish({ type: 'rollout.started', timestamp: 'now', data: { rollout: { i } } });
      }
      const [a, b] = await Promise.all([claimAll(store, hook.id, 'a'), claimAll(other, hook.id, 'b')]);
      const ids = [...a, ...b].map((d) => d.messageId);
      assert.equal(ids.length, 20);
      assert.equal(new Set(ids).size, 20);
      assert.deepEqual(await claimAll(store, hook.id, 'c'), [], 'leased rows are not claimable');

      const first = (a[0] ?? b[0])!;
      const owner = a.length > 0 ? 'a' : 'b';
      const attempt = {
        attempt: 1,
        startedAt: new Date().toISOString(),
        durationMs: 5,
        statusCode: 503,
        error: null,
      };
      assert.equal(
        await record(store, hook.id, first.messageId, 'intruder', {
          attempt,
          status: 'delivered',
        }),
        false,
      );
      assert.equal(
        await record(store, hook.id, first.messageId, owner, {
          attempt,
          status: 'pending',
          nextAttemptAt: FAR,
        }),
        true,
      );
      const delivery = await store.webhooks.getDelivery(hook.id, first.messageId);
      assert.equal(delivery?.status, 'pending');
      assert.equal(delivery?.attempts, 1);
      assert.equal(delivery?.lastStatusCode, 503);
      assert.deepEqual(
        delivery?.attemptLog.map((x) => x.statusCode),
        [503],
      );
      assert.equal(await store.webhooks.retryDelivery(hook.id, first.messageId, Date.now()), 'pending');
      await store.webhooks.delete(hook.id);
    } finally {
      await other.close();
    }
  });

  c.test(
    'one claim leases across webhooks within each one’s free slots; one record applies per lease',
    async () => {
      const store = c.store();
      const a = await newHook(store, ['rollout.started']);
      const b = await newHook(store, ['rollout.started']);
      const cc = await newHook(store, ['rollout.started']);
      for (let i = 0; i < 5; i++) {
        await store.webhooks.publish({ type: 'rollout.started', timestamp: 'now', data: { i } });
      }
      const now = Date.now() + 1;
      const { claims, failures } = await store.webhooks.claimDue({
        owner: 'me',
        now,
        leaseUntil: now + 60_000,
        limit: 100,
        perWebhook: 3,
        inFlight: new Map([
          [a.id, 1],
          [cc.id, 3],
        ]),
      });
      assert.deepEqual(failures, []);
      const count = (id: string) => claims.find((x) => x.target.webhookId === id)?.deliveries.length ?? 0;
      assert.deepEqual(
        [count(a.id), count(b.id), count(cc.id)],
        [2, 3, 0],
        'free slots: 3 − 1, 3 − 0, and none for a webhook at its limit',
      );
      const total = await store.webhooks.claimDue({
        owner: 'me',
        now,
        leaseUntil: now + 60_000,
        limit: 1,
        perWebhook: 10,
        inFlight: new Map(),
      });
      assert.equal(
        total.claims.reduce((n, x) => n + x.deliveries.length, 0),
        1,
        'the overall limit holds across webhooks',
      );

      const attempt = (n: number) => ({
        attempt: n,
        startedAt: new Date().toISOString(),
        durationMs: 3,
        statusCode: 200,
        error: null,
      });
      const [first, second] = claims.find((x) => x.target.webhookId === b.id)!.deliveries;
      const unleased = (await store.webhooks.listDeliveries(cc.id, { limit: 10 })).items[0]!;
      const applied = await store.webhooks.recordAttempts('me', [
        {
          webhookId: b.id,
          messageId: first!.messageId,
          record: { attempt: attempt(1), status: 'delivered' },
        },
        { webhookId: cc.id, messageId: unleased.id, record: { attempt: attempt(1), status: 'delivered' } },
        {
          webhookId: b.id,
          messageId: second!.messageId,
          record: { attempt: attempt(1), status: 'pending', nextAttemptAt: FAR },
        },
      ]);
      assert.deepEqual(applied, [true, false, true], 'a row this owner holds no lease on is left alone');
      const [done, retry, untouched] = await Promise.all([
        store.webhooks.getDelivery(b.id, first!.messageId),
        store.webhooks.getDelivery(b.id, second!.messageId),
        store.webhooks.getDelivery(cc.id, unleased.id),
      ]);
      assert.equal(done?.status, 'delivered');
      assert.deepEqual(
        done?.attemptLog.map((x) => x.statusCode),
        [200],
      );
      assert.equal(retry?.status, 'pending');
      assert.equal(retry?.nextAttemptAt, new Date(FAR).toISOString());
      assert.equal(untouched?.status, 'pending');
      assert.deepEqual(untouched?.attemptLog, []);
      assert.deepEqual(await store.webhooks.outboxStats().then((s) => s.dead), 0);
      for (const hook of [a, b, cc]) await store.webhooks.delete(hook.id);
    },
  );

  c.test('outbox stats count pending and dead deliveries of every webhook', async () => {
    const store = c.store();
    const before = await store.webhooks.outboxStats();
    const hook = await newHook(store, ['rollout.halted']);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(await store.webhooks.publish({ type: 'rollout.halted', timestamp: 'now', data: {} }));
    }
    await claimAll(store, hook.id, 'me');
    const attempt = {
      attempt: 1,
      startedAt: new Date().toISOString(),
      durationMs: 1,
      statusCode: 500,
      error: null,
    };
    await record(store, hook.id, ids[0]!, 'me', { attempt, status: 'dead' });
    await record(store, hook.id, ids[1]!, 'me', {
      attempt: { ...attempt, statusCode: 200 },
      status: 'delivered',
    });
    assert.deepEqual(await store.webhooks.outboxStats(), {
      pending: before.pending + 1,
      dead: before.dead + 1,
    });
    await store.webhooks.delete(hook.id);
    assert.deepEqual(await store.webhooks.outboxStats(), before);
  });

  c.test('an expired lease makes the delivery claimable again with the same message id', async () => {
    const store = c.store();
    const hook = await newHook(store, ['rollout.halted']);
    const id = await store.webhooks.publish({ type: 'rollout.halted', timestamp: 'now', data: {} });
    const now = Date.now() + 1;
    const first = await claimFor(store, hook.id, 'dead', { now, leaseUntil: now + 10, limit: 5 });
    assert.deepEqual(
      first?.deliveries.map((d) => d.messageId),
      [id],
    );
    assert.ok(
      ((await store.webhooks.nextDueAt()) ?? 0) >= now + 10,
      'a leased row is due when its lease ends',
    );
    const again = await claimFor(store, hook.id, 'next', {
      now: now + 11,
      leaseUntil: now + 60_000,
      limit: 5,
    });
    assert.deepEqual(
      again?.deliveries.map((d) => d.messageId),
      [id],
    );
    await store.webhooks.delete(hook.id);
  });

  c.test('failed and dead deliveries are retried by hand; a 410 disables the webhook', async () => {
    const store = c.store();
    const hook = await newHook(store, ['rollout.*']);
    const id = await store.webhooks.publish({ type: 'rollout.aborted', timestamp: 'now', data: {} });
    await claimAll(store, hook.id, 'me');
    const attempt = {
      attempt: 1,
      startedAt: new Date().toISOString(),
      durationMs: 5,
      statusCode: 410,
      error: null,
    };
    await record(store, hook.id, id, 'me', {
      attempt,
      status: 'failed',
      disableWebhook: 'the endpoint answered 410 Gone',
    });
    const disabled = await store.webhooks.get(hook.id);
    assert.equal(disabled?.enabled, false);
    assert.equal(disabled?.disabledReason, 'the endpoint answered 410 Gone');
    assert.equal(
      (await store.webhooks.listDeliveries(hook.id, { status: 'failed', limit: 5 })).items.length,
      1,
    );
    assert.equal(await claimFor(store, hook.id, 'me'), undefined, 'a disabled webhook is not claimed');

    assert.equal(await store.webhooks.retryDelivery(hook.id, id, Date.now()), 'retried');
    assert.equal(await store.webhooks.retryDelivery(hook.id, 'msg_none', Date.now()), 'missing');
    const enabled = await store.webhooks.update(hook.id, { enabled: true });
    assert.equal(enabled?.disabledReason, null);
    assert.deepEqual(
      (await claimAll(store, hook.id, 'me')).map((d) => [d.messageId, d.attempts]),
      [[id, 1]],
    );
    await store.webhooks.delete(hook.id);
  });

  c.test('rotation keeps the replaced secret until its expiry; patch changes the filters', async () => {
    const store = c.store();
    const hook = await newHook(store, ['tenant.ready']);
    const rotated = await store.webhooks.rotateSecret(hook.id, 'whsec_bmV3', FAR);
    assert.equal(rotated?.previousSecretExpiresAt, new Date(FAR).toISOString());
    await store.webhooks.update(hook.id, {
      events: ['rollout.succeeded'],
      url: 'https://other.example.com/',
    });
    await store.webhooks.publish({ type: 'rollout.succeeded', timestamp: 'now', data: {} });
    const claimed = await claimFor(store, hook.id, 'me', { leaseUntil: FAR, limit: 5 });
    assert.deepEqual(claimed?.target.secrets, {
      current: 'whsec_bmV3',
      previous: 'whsec_dGVzdA==',
      previousExpiresAt: FAR,
    });
    assert.equal(claimed?.target.url, 'https://other.example.com/');
    assert.equal(claimed?.deliveries.length, 1);
    await store.webhooks.delete(hook.id);
  });

  c.test('published events reach subscribers; deleting a webhook deletes its deliveries', async () => {
    const store = c.store();
    const hook = await newHook(store, ['rollout.started']);
    const id = await store.webhooks.publish({
      type: 'rollout.started',
      timestamp: 'now',
      data: { rollout: { id: 'ro-1' } },
    });
    const page = await store.webhooks.listDeliveries(hook.id, { limit: 10 });
    assert.deepEqual(
      page.items.map((d) => d.id),
      [id],
    );
    assert.equal(await store.webhooks.delete(hook.id), true);
    assert.equal(
      await store.webhooks.getDelivery(hook.id, id),
      undefined,
      'deliveries go with their webhook',
    );
    assert.equal(await store.webhooks.delete(hook.id), false);
  });

  c.test('deliveries page newest first', async () => {
    const store = c.store();
    const hook = await newHook(store, ['rollout.*']);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await store.webhooks.publish({ type: 'rollout.started', timestamp: 'now', data: {} }));
    }
    const first = await store.webhooks.listDeliveries(hook.id, { limit: 3 });
    assert.ok(first.nextCursor);
    const second = await store.webhooks.listDeliveries(hook.id, { limit: 3, cursor: first.nextCursor });
    assert.deepEqual(
      [...first.items, ...second.items].map((d) => d.id),
      [...ids].reverse(),
    );
    await store.webhooks.delete(hook.id);
  });

  c.test(
    'a rollout event is queued by the transaction of its phase change, and only if it commits',
    async () => {
      const store = c.store();
      const hook = await newHook(store, ['rollout.*']);
      const tenant = await store.tenants.create({ name: unique('rw'), spec: specOf(), actor: 'test' });
      const publish = (type: 'rollout.started' | 'rollout.aborted') => (saved: Rollout) => ({
        type,
        resource: { id: saved.id, phase: saved.control.phase },
      });
      const rollout = await store.rollouts.create(
        oneWaveRollout([tenant], { description: 'webhooks' }),
        publish('rollout.started'),
      );
      const aborted = {
        control: { ...rollout.control, phase: 'aborted' as const },
        waveTimes: rollout.waveTimes,
      };
      await assert.rejects(
        store.rollouts.saveControl(rollout.id, aborted, rollout.version + 1, publish('rollout.aborted')),
        PreconditionFailedError,
      );
      await store.rollouts.saveControl(rollout.id, aborted, rollout.version, publish('rollout.aborted'));
      const delivered = await claimAll(store, hook.id, 'me');
      assert.deepEqual(
        delivered.map((d) => [d.event.type, d.event.data['rollout']]),
        [
          ['rollout.started', { id: rollout.id, phase: 'running' }],
          ['rollout.aborted', { id: rollout.id, phase: 'aborted' }],
        ],
        'one event per committed change, none for the lost compare-and-set',
      );
      await store.webhooks.delete(hook.id);
    },
  );
}
