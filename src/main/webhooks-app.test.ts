/**
 * Webhooks in a real app (SQLite file, embedded engine, fake provider), driven by the `lessor
 * webhooks …` commands in-process against its HTTP API: a tenant's life reaches a receiver as
 * signed `tenant.created` and `tenant.ready` events that the `standardwebhooks` package verifies,
 * with the tenant as the API shows it (secret values `***`); the test ping, deliveries, retry,
 * rotation and delete commands; and the app's close stops the dispatcher.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WebhookReceiver } from '../callbacks/testing/webhook-receiver.js';
import { ExitCode } from '../cli/exit-codes.js';
import { runInProcess } from '../cli/testing/run-cli.js';
import { startTestLessor, type TestLessor } from '../cli/testing/test-lessor.js';

async function until<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('webhooks in the app, through the CLI', () => {
  let app: TestLessor;
  const receiver = new WebhookReceiver();
  const cli = (...args: string[]) => runInProcess(args, { LESSOR_URL: app.url });
  const ok = async (...args: string[]) => {
    const result = await cli(...args);
    assert.equal(result.code, 0, `lessor ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };

  before(async () => {
    await receiver.start();
    app = await startTestLessor({
      env: {
        LESSOR_WEBHOOKS__ALLOW_HTTP: 'true',
        LESSOR_WEBHOOKS__ALLOWED_NETWORKS: '127.0.0.0/8',
        LESSOR_WEBHOOKS__INITIAL_BACKOFF_MS: '50',
        LESSOR_WEBHOOKS__MAX_BACKOFF_MS: '100',
      },
    });
  });

  after(async () => {
    await app?.close();
    await receiver.close();
  });

  test('a tenant becoming ready reaches a subscribed endpoint, signed; the CLI manages it all', async () => {
    const created = JSON.parse(
      await ok('webhooks', 'create', '--url', receiver.url, '--events', 'tenant.*', '-o', 'json'),
    ) as { id: string; secret: string };
    const refused = await cli('webhooks', 'create', '--url', receiver.url, '--events', 'tenant.exploded');
    assert.equal(refused.code, ExitCode.VALIDATION, refused.stderr);
    const first = await ok('webhooks', 'create', '--url', receiver.url, '--events', 'tenant.ready');
    assert.match(first, /secret: whsec_/);
    receiver.secrets = [created.secret];

    const response = await fetch(`${app.url}/v1/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'hooked', spec: { provider: 'fake', config: { image: 'app:1' } } }),
    });
    assert.equal(response.status, 201);
    const tenant = (await response.json()) as { id: string };
    const ready = await until('tenant.ready', async () =>
      receiver.received.find((r) => r.payload.type === 'tenant.ready' && r.verifiedWith.includes(0)),
    );
    assert.equal(
      (ready.payload.data['tenant'] as { id: string; status: { phase: string } }).status.phase,
      'ready',
    );
    assert.ok(
      receiver.received.some((r) => r.payload.type === 'tenant.created' && r.verifiedWith.includes(0)),
    );
    assert.equal((ready.payload.data['tenant'] as { id: string }).id, tenant.id);

    assert.match(await ok('webhooks', 'list'), new RegExp(created.id));
    assert.match(await ok('webhooks', 'get', created.id), /tenant\.\*/);
    assert.match(await ok('webhooks', 'test', created.id, '--wait'), /ping msg_\w+ delivered \(204\)/);
    const deliveries = JSON.parse(await ok('webhooks', 'deliveries', created.id, '-o', 'json')) as {
      items: { id: string; status: string; eventType: string }[];
    };
    assert.ok(deliveries.items.length >= 3);
    assert.ok(deliveries.items.every((d) => d.status === 'delivered'));
    const ping = deliveries.items.find((d) => d.eventType === 'webhook.test')!;
    const before = receiver.received.filter((r) => r.id === ping.id).length;
    assert.match(await ok('webhooks', 'retry', created.id, ping.id), /queued again/);
    await until('the retried ping', async () =>
      receiver.received.filter((r) => r.id === ping.id).length > before ? true : undefined,
    );

    const rotated = await ok('webhooks', 'rotate-secret', created.id, '-o', 'json');
    const fresh = (JSON.parse(rotated) as { secret: string }).secret;
    receiver.secrets = [created.secret, fresh];
    assert.match(await ok('webhooks', 'test', created.id, '--wait'), /delivered/);
    assert.deepEqual(receiver.received.at(-1)!.verifiedWith, [0, 1], 'old and new secret both sign');

    assert.match(await ok('webhooks', 'delete', created.id), /deleted/);
    assert.equal((await cli('webhooks', 'get', created.id)).code, 3);
  });
});
