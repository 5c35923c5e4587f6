/**
 * The webhook dispatcher against a real store (SQLite file) and real HTTP receivers on loopback
 * that verify signatures with the `standardwebhooks` package.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { silentLogger } from '../domain/logger.js';
import { newWebhookSecret, type Webhook } from '../domain/webhook.js';
import type { Store } from '../store/store.js';
import { createStore } from '../store/create-store.js';
import { backends, sqliteBackend, type TestDatabase } from '../store/testing/test-databases.js';
import { WebhookReceiver } from './testing/webhook-receiver.js';
import { DestinationGuard } from './webhook-destination.js';
import { WebhookDispatcher, type WebhookDispatcherOptions } from './webhook-dispatcher.js';
import { webhookSender } from './webhook-sender.js';

const LOOPBACK = { allowHttp: true, allowedNetworks: ['127.0.0.0/8'] };

const OPTIONS: WebhookDispatcherOptions = {
  timeoutMs: 10_000,
  initialBackoffMs: 20,
  maxBackoffMs: 100,
  retryWindowMs: 3_600_000,
  maxConcurrencyPerEndpoint: 4,
  maxInFlight: 64,
  pollIntervalMs: 50,
};

let db: TestDatabase;
let store: Store;
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  db = await sqliteBackend.create();
  store = db.store;
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

after(async () => {
  await db.cleanup();
});

function dispatcher(options: Partial<WebhookDispatcherOptions> = {}, policy = LOOPBACK): WebhookDispatcher {
  const sender = webhookSender(new DestinationGuard(policy));
  const d = new WebhookDispatcher(
    {
      webhooks: store.webhooks,
      send: sender.send,
      render: (event) => event,
      ownerId: `test-${Math.random()}`,
      logger: silentLogger,
    },
    { ...OPTIONS, ...options },
  );
  d.start();
  cleanups.push(async () => {
    await d.stop(0);
    sender.close();
  });
  return d;
}

async function receiver(): Promise<WebhookReceiver> {
  const r = new WebhookReceiver();
  await r.start();
  cleanups.push(() => r.close());
  return r;
}

async function subscribe(r: WebhookReceiver, events: readonly string[]): Promise<Webhook> {
  const secret = newWebhookSecret();
  r.secrets = [secret];
  const hook = await store.webhooks.create({ url: r.url, description: '', events, enabled: true, secret });
  cleanups.push(async () => void (await store.webhooks.delete(hook.id)));
  return hook;
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const delivery = (hook: Webhook, id: string) => () => store.webhooks.getDelivery(hook.id, id);

describe('webhook dispatcher', () => {
  test('delivers signed events that a Standard Webhooks verifier accepts', async () => {
    const r = await receiver();
    const hook = await subscribe(r, ['tenant.created']);
    const d = dispatcher();
    const tenant = await store.tenants.create({
      name: 'signed',
      spec: { provider: 'fake', config: {}, labels: {}, annotations: {}, retryPolicy: null, paused: false },
      actor: 'test',
    });
    d.wake();
    await r.waitFor(1);
    const [got] = r.received;
    assert.deepEqual(got!.verifiedWith, [0]);
    assert.equal(got!.payload.type, 'tenant.created');
    assert.equal((got!.payload.data['tenant'] as { id: string }).id, tenant.id);
    assert.match(got!.id, /^msg_/);
    const done = await until(delivery(hook, got!.id), (x) => x?.status === 'delivered');
    assert.equal(done!.attempts, 1);
    assert.equal(done!.attemptLog[0]!.statusCode, 204);
  });

  test('5xx and 429 are retried with the same webhook-id; Retry-After sets the wait', async () => {
    const r = await receiver();
    r.answer = (_req, i) =>
      i === 0
        ? { status: 503 }
        : i === 1
          ? { status: 429, headers: { 'retry-after': '1' } }
          : { status: 200 };
    const hook = await subscribe(r, ['rollout.*']);
    const id = await store.webhooks.publish({ type: 'rollout.started', timestamp: 'now', data: {} });
    dispatcher();
    const done = await until(delivery(hook, id), (x) => x?.status === 'delivered');
    assert.deepEqual(
      done!.attemptLog.map((a) => a.statusCode),
      [503, 429, 200],
    );
    assert.deepEqual(
      r.received.map((x) => x.id),
      [id, id, id],
    );
    assert.ok(r.received.every((x) => x.verifiedWith.length === 1));
    const [, second, third] = done!.attemptLog;
    const waited = Date.parse(third!.startedAt) - Date.parse(second!.startedAt) - second!.durationMs;
    assert.ok(waited >= 990, `Retry-After: 1 waited ${waited} ms`);
  });

  test('other 4xx fail without retry; 410 fails and disables the webhook', async () => {
    const r = await receiver();
    r.answer = () => ({ status: 400 });
    const hook = await subscribe(r, ['rollout.halted']);
    const id = await store.webhooks.publish({ type: 'rollout.halted', timestamp: 'now', data: {} });
    dispatcher();
    const failed = await until(delivery(hook, id), (x) => x?.status === 'failed');
    assert.equal(failed!.attempts, 1);
    assert.equal((await store.webhooks.get(hook.id))!.enabled, true);

    r.answer = () => ({ status: 410 });
    const gone = await store.webhooks.publish({ type: 'rollout.halted', timestamp: 'now', data: {} });
    await until(delivery(hook, gone), (x) => x?.status === 'failed');
    const disabled = await store.webhooks.get(hook.id);
    assert.equal(disabled!.enabled, false);
    assert.match(disabled!.disabledReason ?? '', /410/);
    const later = await store.webhooks.publish({ type: 'rollout.halted', timestamp: 'now', data: {} });
    assert.equal(
      await store.webhooks.getDelivery(hook.id, later),
      undefined,
      'a disabled webhook gets nothing',
    );
    assert.equal(r.received.length, 2);
  });

  test('past the retry window a delivery is dead; a retry by hand delivers it with the same id', async () => {
    const r = await receiver();
    r.answer = () => ({ status: 500 });
    const hook = await subscribe(r, ['rollout.aborted']);
    const id = await store.webhooks.publish({ type: 'rollout.aborted', timestamp: 'now', data: {} });
    const d = dispatcher({ retryWindowMs: 1, initialBackoffMs: 1000, maxBackoffMs: 1000 });
    const dead = await until(delivery(hook, id), (x) => x?.status === 'dead');
    assert.equal(dead!.attempts, 1);

    r.answer = () => ({ status: 200 });
    assert.equal(await store.webhooks.retryDelivery(hook.id, id, Date.now()), 'retried');
    d.wake();
    const done = await until(delivery(hook, id), (x) => x?.status === 'delivered');
    assert.equal(done!.attempts, 2);
    assert.deepEqual(
      r.received.map((x) => x.id),
      [id, id],
    );
  });

  test('after a rotation both secrets sign until the old one expires', async () => {
    const r = await receiver();
    const hook = await subscribe(r, ['rollout.succeeded']);
    const old = r.secrets[0]!;
    const fresh = newWebhookSecret();
    await store.webhooks.rotateSecret(hook.id, fresh, Date.now() + 3_600_000);
    r.secrets = [old, fresh];
    dispatcher();
    await store.webhooks.publish({ type: 'rollout.succeeded', timestamp: 'now', data: {} });
    await r.waitFor(1);
    assert.deepEqual(r.received[0]!.verifiedWith, [0, 1]);
    assert.equal(r.received[0]!.signature.split(' ').length, 2);

    await store.webhooks.rotateSecret(hook.id, newWebhookSecret(), Date.now() - 1);
    await store.webhooks.publish({ type: 'rollout.succeeded', timestamp: 'now', data: {} });
    await r.waitFor(2);
    assert.deepEqual(r.received[1]!.verifiedWith, [], 'neither old secret signs once the overlap is over');
    assert.equal(r.received[1]!.signature.split(' ').length, 1);
  });

  test('a hanging endpoint holds only its own slots; the others are delivered', async () => {
    const slow = await receiver();
    slow.answer = () => 'hang';
    const fast = await receiver();
    const slowHook = await subscribe(slow, ['rollout.rolled_back']);
    await subscribe(fast, ['rollout.rolled_back']);
    dispatcher({ maxConcurrencyPerEndpoint: 2, timeoutMs: 60_000 });
    for (let i = 0; i < 10; i++) {
      await store.webhooks.publish({ type: 'rollout.rolled_back', timestamp: 'now', data: { i } });
    }
    await fast.waitFor(10);
    assert.equal(fast.verified().length, 10);
    assert.equal(slow.received.length, 2, 'the per-endpoint bound holds');
    const pending = await store.webhooks.listDeliveries(slowHook.id, { status: 'pending', limit: 100 });
    assert.equal(pending.items.length, 10);
  });

  test('a destination outside the allowed networks is refused at delivery, without retry', async () => {
    const r = await receiver();
    const hook = await subscribe(r, ['rollout.started']);
    const id = await store.webhooks.publish({ type: 'rollout.started', timestamp: 'now', data: {} });
    dispatcher({}, { allowHttp: true, allowedNetworks: [] });
    const failed = await until(delivery(hook, id), (x) => x?.status === 'failed');
    assert.match(failed!.lastError ?? '', /not a public address/);
    assert.equal(failed!.lastStatusCode, null);
    assert.equal(r.received.length, 0);
  });
});

for (const backend of backends()) {
  describe(`webhook dispatchers on two replicas [${backend.name}]`, () => {
    test('two processes sharing the outbox send each attempt once', async () => {
      const shared = await backend.create();
      const other = await createStore({ url: shared.url });
      const r = new WebhookReceiver();
      await r.start();
      const secret = newWebhookSecret();
      r.secrets = [secret];
      const hook = await shared.store.webhooks.create({
        url: r.url,
        description: '',
        events: ['rollout.*'],
        enabled: true,
        secret,
      });
      const sender = webhookSender(new DestinationGuard(LOOPBACK));
      const replicas = [shared.store, other].map(
        (s, i) =>
          new WebhookDispatcher(
            {
              webhooks: s.webhooks,
              send: sender.send,
              render: (event) => event,
              ownerId: `replica-${i}`,
              logger: silentLogger,
            },
            { ...OPTIONS, maxConcurrencyPerEndpoint: 3 },
          ),
      );
      try {
        for (const d of replicas) d.start();
        const ids = new Set<string>();
        for (let i = 0; i < 60; i++) {
          ids.add(
            await shared.store.webhooks.publish({ type: 'rollout.started', timestamp: 'now', data: { i } }),
          );
          if (i % 10 === 0) for (const d of replicas) d.wake();
        }
        await until(
          () => shared.store.webhooks.listDeliveries(hook.id, { status: 'delivered', limit: 100 }),
          (page) => page.items.length === 60,
        );
        // Attempts still in flight (a duplicate being sent) end before the count.
        for (const d of replicas) await d.stop(60_000);
        assert.equal(r.received.length, 60, 'no attempt was sent twice');
        assert.deepEqual(new Set(r.received.map((x) => x.id)), ids);
        assert.ok(r.received.every((x) => x.verifiedWith.length === 1));
        const delivered = await shared.store.webhooks.listDeliveries(hook.id, { limit: 100 });
        assert.ok(delivered.items.every((x) => x.attempts === 1 && x.attemptLog.length === 1));
      } finally {
        for (const d of replicas) await d.stop(0);
        sender.close();
        await r.close();
        await other.close();
        await shared.cleanup();
      }
    });
  });
}
