import assert from 'node:assert/strict';
import { backends } from '../store/testing/test-databases.js';
import { apiSuite, tenantBody, uniqueName } from './testing/api-harness.js';
import type { Problem, Tenant, TenantEventList, TenantList } from './types.js';

for (const backend of backends()) {
  apiSuite(
    backend,
    'tenants: create, read, list',
    (h) => {
      h.test(
        'POST /v1/tenants creates: 201, Location, ETag, stored user spec with defaults filled in',
        async () => {
          const name = uniqueName('acme');
          const res = await h.inject({ method: 'POST', url: '/v1/tenants', payload: tenantBody(name) });
          assert.equal(res.statusCode, 201, res.body);
          const tenant = res.json<Tenant>();
          assert.equal(res.headers.location, `/v1/tenants/${tenant.id}`);
          assert.equal(res.headers.etag, `"${tenant.version}"`);
          assert.match(String(res.headers['x-request-id']), /.+/);
          assert.equal(tenant.name, name);
          assert.deepEqual(tenant.spec, {
            provider: 'fake',
            plan: null,
            config: { image: 'nginx:alpine' },
            labels: {},
            annotations: {},
            retryPolicy: null,
            paused: false,
            suspended: false,
          });
          assert.equal(tenant.generation, 1);
          assert.equal(tenant.status.phase, 'requested');
          const stored = await h.store().tenants.get(tenant.id);
          assert.deepEqual(
            stored?.spec.config,
            { image: 'nginx:alpine' },
            'provider defaults are not stored',
          );
          assert.deepEqual(h.trigger().calls.at(-1), [tenant.id, 'api']);
        },
      );

      h.test('actor of the Created event is the token name', async () => {
        const res = await h.inject({
          method: 'POST',
          url: '/v1/tenants',
          payload: tenantBody(uniqueName()),
          token: 'operator',
        });
        const events = await h.inject({ method: 'GET', url: `/v1/tenants/${res.json<Tenant>().id}/events` });
        assert.equal(events.statusCode, 200);
        assert.equal(events.json<TenantEventList>().items[0]?.actor, 'api:operator-bot');
        assert.equal(events.json<TenantEventList>().items[0]?.type, 'Created');
      });

      h.test('secrets are stored but shown as *** everywhere', async () => {
        const name = uniqueName('sec');
        const config = { image: 'x', secretEnv: { DB_PASSWORD: 'hunter2' }, env: { A: 'b' } };
        const created = await h.inject({
          method: 'POST',
          url: '/v1/tenants',
          payload: tenantBody(name, config),
        });
        assert.equal(created.statusCode, 201, created.body);
        assert.deepEqual(created.json<Tenant>().spec.config.secretEnv, { DB_PASSWORD: '***' });
        assert.ok(!created.body.includes('hunter2'));
        const got = await h.inject({ method: 'GET', url: `/v1/tenants/${name}` });
        assert.ok(!got.body.includes('hunter2'));
        const list = await h.inject({ method: 'GET', url: `/v1/tenants?q=${name}` });
        assert.ok(!list.body.includes('hunter2'));
        const events = await h.inject({ method: 'GET', url: `/v1/tenants/${name}/events` });
        assert.ok(!events.body.includes('hunter2'));
        const stored = await h.store().tenants.get(name);
        assert.deepEqual(stored?.spec.config.secretEnv, { DB_PASSWORD: 'hunter2' });
      });

      h.test('GET by id and by name; unknown → 404 problem', async () => {
        const name = uniqueName();
        const created = (
          await h.inject({ method: 'POST', url: '/v1/tenants', payload: tenantBody(name) })
        ).json<Tenant>();
        for (const key of [created.id, name]) {
          const res = await h.inject({ method: 'GET', url: `/v1/tenants/${key}` });
          assert.equal(res.statusCode, 200);
          assert.equal(res.json<Tenant>().id, created.id);
          assert.equal(res.headers.etag, `"${created.version}"`);
        }
        const missing = await h.inject({ method: 'GET', url: '/v1/tenants/nope-404' });
        assert.equal(missing.statusCode, 404);
        assert.equal(missing.headers['content-type'], 'application/problem+json');
        assert.equal(missing.json<Problem>().code, 'NOT_FOUND');
        assert.equal(missing.json<Problem>().requestId, missing.headers['x-request-id']);
      });

      h.test('duplicate name → 409 CONFLICT', async () => {
        const name = uniqueName();
        await h.inject({ method: 'POST', url: '/v1/tenants', payload: tenantBody(name) });
        const again = await h.inject({ method: 'POST', url: '/v1/tenants', payload: tenantBody(name) });
        assert.equal(again.statusCode, 409);
        assert.equal(again.json<Problem>().code, 'CONFLICT');
      });

      h.test(
        'config is validated with provider defaults merged: schema violations → 400 with paths',
        async () => {
          const res = await h.inject({
            method: 'POST',
            url: '/v1/tenants',
            payload: tenantBody(uniqueName(), { image: 'x', ports: [{ containerPort: 70000 }] }),
          });
          assert.equal(res.statusCode, 400, res.body);
          assert.equal(res.json<Problem>().code, 'VALIDATION_FAILED');
          assert.ok(
            res.json<Problem>().errors?.some((e: { path: string }) => e.path.startsWith('spec.config.ports')),
            res.body,
          );
        },
      );

      h.test('unknown provider → 400 on spec.provider', async () => {
        const payload = { name: uniqueName(), spec: { provider: 'nosuch', config: {} } };
        const res = await h.inject({ method: 'POST', url: '/v1/tenants', payload });
        assert.equal(res.statusCode, 400);
        assert.equal(res.json<Problem>().errors?.[0]?.path, 'spec.provider');
      });

      h.test('list: pagination, filters, label selectors, name prefix', async () => {
        const prefix = uniqueName('list');
        for (const [i, plan] of ['pro', 'free', 'pro'].entries()) {
          const payload = {
            name: `${prefix}-${i}`,
            spec: { config: { image: 'x' }, labels: { plan, tier: i === 2 ? 'gold' : 'std' } },
          };
          assert.equal((await h.inject({ method: 'POST', url: '/v1/tenants', payload })).statusCode, 201);
        }
        const page1 = await h.inject({ method: 'GET', url: `/v1/tenants?q=${prefix}&limit=2` });
        assert.equal(page1.statusCode, 200);
        assert.equal(page1.json<TenantList>().items.length, 2);
        assert.ok(page1.json<TenantList>().nextCursor);
        const page2 = await h.inject({
          method: 'GET',
          url: `/v1/tenants?q=${prefix}&limit=2&cursor=${String(page1.json<TenantList>().nextCursor)}`,
        });
        assert.equal(page2.json<TenantList>().items.length, 1);
        assert.equal(page2.json<TenantList>().nextCursor, null);
        const pro = await h.inject({
          method: 'GET',
          url: `/v1/tenants?q=${prefix}&labels=plan=pro,tier!=gold`,
        });
        assert.deepEqual(
          pro.json<TenantList>().items.map((t: { name: string }) => t.name),
          [`${prefix}-0`],
        );
        const phase = await h.inject({
          method: 'GET',
          url: `/v1/tenants?q=${prefix}&phase=requested&provider=fake`,
        });
        assert.equal(phase.json<TenantList>().items.length, 3);
        const none = await h.inject({ method: 'GET', url: `/v1/tenants?q=${prefix}&phase=ready` });
        assert.equal(none.json<TenantList>().items.length, 0);
      });

      h.test('tenant executions: empty page for a new tenant; events paginate by seq', async () => {
        const name = uniqueName();
        await h.inject({ method: 'POST', url: '/v1/tenants', payload: tenantBody(name) });
        const executions = await h.inject({
          method: 'GET',
          url: `/v1/tenants/${name}/executions?status=running`,
        });
        assert.equal(executions.statusCode, 200, executions.body);
        assert.deepEqual(executions.json<Tenant>(), { items: [], nextCursor: null });
        await h.inject({ method: 'DELETE', url: `/v1/tenants/${name}` });
        const first = await h.inject({ method: 'GET', url: `/v1/tenants/${name}/events?limit=1` });
        assert.equal(first.json<TenantEventList>().items.length, 1);
        const cursor = String(first.json<TenantEventList>().nextCursor);
        assert.match(cursor, /^\d+$/);
        const rest = await h.inject({ method: 'GET', url: `/v1/tenants/${name}/events?cursor=${cursor}` });
        assert.ok(rest.json<TenantEventList>().items.length >= 1);
        assert.ok(rest.json<TenantEventList>().items.every((e: { seq: number }) => e.seq > Number(cursor)));
      });
    },
    { rawSpecs: 'operator' },
  );
}
