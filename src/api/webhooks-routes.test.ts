/** The webhook API on both databases: roles, validation, the address guard, secrets shown once. */
import assert from 'node:assert/strict';
import { DestinationGuard } from '../callbacks/webhook-destination.js';
import { backends } from '../store/testing/test-databases.js';
import { apiSuite, testWebhookApi } from './testing/api-harness.js';

const HOOK = { url: 'http://127.0.0.1:9/hook', events: ['tenant.ready', 'rollout.*'], description: 'signup' };

for (const backend of backends()) {
  apiSuite(backend, 'webhooks', (h) => {
    const create = async (body: object = HOOK) =>
      h.inject({ method: 'POST', url: '/v1/webhooks', payload: body });

    h.test('admin only: viewers and operators get 403 on every webhook route', async () => {
      const created = (await create()).json<{ id: string }>();
      const routes = [
        ['GET', '/v1/webhooks'],
        ['POST', '/v1/webhooks'],
        ['GET', `/v1/webhooks/${created.id}`],
        ['PATCH', `/v1/webhooks/${created.id}`],
        ['DELETE', `/v1/webhooks/${created.id}`],
        ['POST', `/v1/webhooks/${created.id}/rotate-secret`],
        ['POST', `/v1/webhooks/${created.id}/test`],
        ['GET', `/v1/webhooks/${created.id}/deliveries`],
        ['POST', `/v1/webhooks/${created.id}/deliveries/msg_x/retry`],
      ] as const;
      for (const token of ['viewer', 'operator'] as const) {
        for (const [method, url] of routes) {
          const res = await h.inject({ method, url, token, payload: method === 'GET' ? undefined : {} });
          assert.equal(res.statusCode, 403, `${token} ${method} ${url}`);
        }
      }
    });

    h.test('create shows the secret once; list and get never do', async () => {
      const res = await create();
      assert.equal(res.statusCode, 201);
      const body = res.json<{ id: string; secret: string; enabled: boolean; events: string[] }>();
      assert.match(body.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
      assert.equal(res.headers.location, `/v1/webhooks/${body.id}`);
      assert.equal(body.enabled, true);
      const got = await h.inject({ method: 'GET', url: `/v1/webhooks/${body.id}` });
      assert.equal(got.statusCode, 200);
      assert.equal('secret' in got.json(), false);
      const list = await h.inject({ method: 'GET', url: '/v1/webhooks?limit=500' });
      assert.ok(!list.body.includes(body.secret));
      assert.ok(list.json<{ items: { id: string }[] }>().items.some((w) => w.id === body.id));
    });

    h.test('bad input is a 400 and stores nothing', async () => {
      const before = (await h.inject({ method: 'GET', url: '/v1/webhooks?limit=500' })).json<{ items: [] }>()
        .items;
      const cases = [
        { ...HOOK, events: ['tenant.exploded'] },
        { ...HOOK, events: [] },
        { ...HOOK, events: ['tenant.*', 'tenant.*'] },
        { ...HOOK, url: 'not a url' },
        { ...HOOK, url: 'http://10.1.2.3/hook' },
        { ...HOOK, url: 'http://user:pw@127.0.0.1/hook' },
        { ...HOOK, url: 'file:///etc/passwd' },
        { ...HOOK, secret: 'whsec_mine' },
        { events: ['*'] },
      ];
      for (const payload of cases) {
        const res = await create(payload);
        assert.equal(res.statusCode, 400, JSON.stringify(payload));
        assert.equal(res.json<{ code: string }>().code, 'VALIDATION_FAILED');
      }
      const after = (await h.inject({ method: 'GET', url: '/v1/webhooks?limit=500' })).json<{ items: [] }>()
        .items;
      assert.equal(after.length, before.length);
    });

    h.test('patch, rotate, test ping, deliveries, retry, delete', async () => {
      const { id, secret } = (await create()).json<{ id: string; secret: string }>();
      const patched = await h.inject({
        method: 'PATCH',
        url: `/v1/webhooks/${id}`,
        payload: { events: ['*'], description: 'all of it' },
      });
      assert.equal(patched.statusCode, 200);
      assert.deepEqual(patched.json<{ events: string[] }>().events, ['*']);
      const refused = await h.inject({
        method: 'PATCH',
        url: `/v1/webhooks/${id}`,
        payload: { url: 'http://192.168.0.1/' },
      });
      assert.equal(refused.statusCode, 400);

      const rotated = await h.inject({ method: 'POST', url: `/v1/webhooks/${id}/rotate-secret` });
      assert.equal(rotated.statusCode, 200);
      const after = rotated.json<{ secret: string; previousSecretExpiresAt: string | null }>();
      assert.notEqual(after.secret, secret);
      assert.ok(Date.parse(after.previousSecretExpiresAt ?? '') > Date.now() + 23 * 3_600_000);

      const ping = await h.inject({ method: 'POST', url: `/v1/webhooks/${id}/test` });
      assert.equal(ping.statusCode, 202);
      const delivery = ping.json<{ id: string; eventType: string; status: string }>();
      assert.equal(delivery.eventType, 'webhook.test');
      assert.equal(delivery.status, 'pending');
      const listed = await h.inject({ method: 'GET', url: `/v1/webhooks/${id}/deliveries?status=pending` });
      assert.deepEqual(
        listed.json<{ items: { id: string }[] }>().items.map((d) => d.id),
        [delivery.id],
      );
      const one = await h.inject({ method: 'GET', url: `/v1/webhooks/${id}/deliveries/${delivery.id}` });
      assert.equal(one.json<{ attemptLog: unknown[] }>().attemptLog.length, 0);
      const early = await h.inject({
        method: 'POST',
        url: `/v1/webhooks/${id}/deliveries/${delivery.id}/retry`,
      });
      assert.equal(early.statusCode, 409, 'a pending delivery is not retried by hand');
      const missing = await h.inject({ method: 'POST', url: `/v1/webhooks/${id}/deliveries/msg_none/retry` });
      assert.equal(missing.statusCode, 404);

      await h.inject({ method: 'PATCH', url: `/v1/webhooks/${id}`, payload: { enabled: false } });
      assert.equal((await h.inject({ method: 'POST', url: `/v1/webhooks/${id}/test` })).statusCode, 409);

      assert.equal((await h.inject({ method: 'DELETE', url: `/v1/webhooks/${id}` })).statusCode, 204);
      assert.equal((await h.inject({ method: 'GET', url: `/v1/webhooks/${id}` })).statusCode, 404);
      assert.equal((await h.inject({ method: 'DELETE', url: `/v1/webhooks/${id}` })).statusCode, 404);
      assert.equal((await h.inject({ method: 'GET', url: `/v1/webhooks/${id}/deliveries` })).statusCode, 404);
    });
  });

  apiSuite(
    backend,
    'webhooks behind the default address guard',
    (h) => {
      h.test('https only; loopback, private, metadata and names resolving to them are refused', async () => {
        for (const url of [
          'http://hooks.example.com/in',
          'https://127.0.0.1/in',
          'https://localhost/in',
          'https://[::1]/in',
          'https://10.0.0.8/in',
          'https://169.254.169.254/latest/meta-data/',
        ]) {
          const res = await h.inject({ method: 'POST', url: '/v1/webhooks', payload: { ...HOOK, url } });
          assert.equal(res.statusCode, 400, url);
          assert.equal(res.json<{ errors: { path: string }[] }>().errors[0]?.path, 'body.url');
        }
        const ok = await h.inject({
          method: 'POST',
          url: '/v1/webhooks',
          payload: { ...HOOK, url: 'https://1.1.1.1/in' },
        });
        assert.equal(ok.statusCode, 201);
      });
    },
    { webhooks: testWebhookApi({ guard: new DestinationGuard({ allowHttp: false, allowedNetworks: [] }) }) },
  );
}
