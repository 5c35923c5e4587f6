/**
 * Webhook delivery survives kill -9, on each database: while deliveries to a slow receiver are in
 * flight the server is killed, then restarted; every event is then delivered at least once, and a
 * receiver that saw one event twice saw it under the same `webhook-id` (receivers dedupe on it).
 * Every request is verified with the `standardwebhooks` package.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { WebhookReceiver } from '../../src/callbacks/testing/webhook-receiver.js';
import { backends } from '../../src/store/testing/test-databases.js';
import { deploy, withLogs, type Deployment } from '../support/deployment.js';
import { embeddedEngine } from '../support/engines.js';
import { waitFor } from '../support/wait.js';

const TENANTS = 12;
/** Requests the receiver leaves hanging: these are in flight when the server dies. */
const HANGING = 4;

for (const backend of backends()) {
  const label = `[${backend.name}]`;
  describe(`webhooks across kill -9 ${label}`, () => {
    let d: Deployment | undefined;
    const receiver = new WebhookReceiver();
    before(async () => {
      await receiver.start();
      d = await deploy({
        backend,
        engine: embeddedEngine,
        providers: { fake: { latencyMs: 0 } },
        env: {
          LESSOR_WEBHOOKS__ALLOW_HTTP: 'true',
          LESSOR_WEBHOOKS__ALLOWED_NETWORKS: '127.0.0.0/8',
          // The lease of a killed attempt is twice its timeout plus a margin: keep the wait short.
          LESSOR_WEBHOOKS__TIMEOUT_MS: '2000',
          LESSOR_WEBHOOKS__INITIAL_BACKOFF_MS: '100',
          LESSOR_WEBHOOKS__MAX_BACKOFF_MS: '500',
          LESSOR_WEBHOOKS__MAX_CONCURRENCY_PER_ENDPOINT: String(HANGING),
        },
      });
    });
    after(async () => {
      await d?.close();
      await receiver.close();
    });

    test(`${label} every event is delivered at least once; duplicates carry the same webhook-id`, () =>
      withLogs(d, async () => {
        const { client } = d!;
        const hook = await client.createWebhook({ url: receiver.url, events: ['tenant.created'] });
        receiver.secrets = [hook.secret];
        receiver.answer = (_request, index) => (index < HANGING ? 'hang' : { status: 204 });
        const prefix = `wh${randomBytes(3).toString('hex')}`;
        const ids: string[] = [];
        for (let i = 0; i < TENANTS; i++) {
          ids.push((await client.createTenant({ name: `${prefix}-${i}`, spec: { config: {} } })).id);
        }
        await waitFor('attempts in flight', async () =>
          receiver.received.length >= HANGING ? true : undefined,
        );
        await d!.lessor.kill('SIGKILL');
        await d!.lessor.restart();

        const byTenant = await waitFor(
          'every event delivered',
          async () => {
            const page = await d!.client.listWebhookDeliveries(hook.id, { limit: 500 });
            if (page.items.length < TENANTS || page.items.some((x) => x.status !== 'delivered'))
              return undefined;
            return page.items;
          },
          { timeoutMs: 120_000 },
        );
        assert.equal(byTenant.length, TENANTS);
        assert.ok(
          receiver.received.every((r) => r.verifiedWith.length === 1),
          'every request is signed',
        );
        const idsByTenant = new Map<string, Set<string>>();
        for (const request of receiver.received) {
          const tenantId = (request.payload.data['tenant'] as { id: string }).id;
          idsByTenant.set(tenantId, (idsByTenant.get(tenantId) ?? new Set()).add(request.id));
        }
        for (const id of ids) {
          assert.equal(
            idsByTenant.get(id)?.size,
            1,
            `tenant ${id}: received once or more, under one webhook-id`,
          );
        }
        const seen = receiver.received.filter((r) => r.verifiedWith.length > 0).length;
        assert.ok(seen > TENANTS, 'the requests cut off by the crash were sent again');
      }));
  });
}
