import assert from 'node:assert/strict';
import { backends } from '../store/testing/test-databases.js';
import { apiSuite, tenantBody, uniqueName } from './testing/api-harness.js';
import type { Problem, Tenant } from './types.js';

interface Revision {
  generation: number;
  spec: Tenant['spec'];
  actor: string;
  createdAt: string;
}
interface Diff {
  from: number;
  to: number;
  patch: { op: string; path: string; value?: unknown }[];
}

for (const backend of backends()) {
  apiSuite(
    backend,
    'tenant revisions',
    (h) => {
      const create = async (config: Record<string, unknown>) => {
        const res = await h.inject({
          method: 'POST',
          url: '/v1/tenants',
          payload: tenantBody(uniqueName('rev'), config),
        });
        assert.equal(res.statusCode, 201, res.body);
        return res.json<Tenant>();
      };
      const patch = async (
        tenant: Tenant,
        spec: Record<string, unknown>,
        token: 'admin' | 'operator' = 'admin',
      ) => {
        const res = await h.inject({
          method: 'PATCH',
          url: `/v1/tenants/${tenant.id}`,
          payload: { spec },
          token,
        });
        assert.equal(res.statusCode, 202, res.body);
      };

      h.test('every generation is listed newest first with its actor; secrets read ***', async () => {
        const tenant = await create({ image: 'app:1', secretEnv: { TOKEN: 'hunter2' } });
        await patch(tenant, { config: { image: 'app:2' } });
        await patch(tenant, { labels: { tier: 'pro' } }, 'operator');
        const res = await h.inject({
          method: 'GET',
          url: `/v1/tenants/${tenant.name}/revisions`,
          token: 'viewer',
        });
        assert.equal(res.statusCode, 200, res.body);
        assert.ok(!res.body.includes('hunter2'));
        const items = res.json<{ items: Revision[] }>().items;
        assert.deepEqual(
          items.map((r) => [r.generation, r.actor, r.spec.config.image, r.spec.labels]),
          [
            [3, 'api:operator-bot', 'app:2', { tier: 'pro' }],
            [2, 'api:admin-bot', 'app:2', {}],
            [1, 'api:admin-bot', 'app:1', {}],
          ],
        );
        assert.deepEqual(items[0]!.spec.config.secretEnv, { TOKEN: '***' });
        assert.equal(items[0]!.spec.plan, null);

        const paged = await h.inject({ method: 'GET', url: `/v1/tenants/${tenant.id}/revisions?limit=2` });
        const first = paged.json<{ items: Revision[]; nextCursor: string }>();
        assert.deepEqual(
          first.items.map((r) => r.generation),
          [3, 2],
        );
        const rest = await h.inject({
          method: 'GET',
          url: `/v1/tenants/${tenant.id}/revisions?limit=2&cursor=${first.nextCursor}`,
        });
        assert.deepEqual(
          rest.json<{ items: Revision[]; nextCursor: null }>().items.map((r) => r.generation),
          [1],
        );
      });

      h.test('one revision by generation; an unknown one is 404 naming it', async () => {
        const tenant = await create({ image: 'app:1' });
        const res = await h.inject({ method: 'GET', url: `/v1/tenants/${tenant.id}/revisions/1` });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json<Revision>().spec.config.image, 'app:1');
        const missing = await h.inject({ method: 'GET', url: `/v1/tenants/${tenant.id}/revisions/7` });
        assert.equal(missing.statusCode, 404);
        assert.equal(missing.json<Problem>().code, 'NOT_FOUND');
        assert.match(missing.json<Problem>().detail, /generation 7/);
        for (const bad of ['0', 'x', '-1', '1.5']) {
          const res = await h.inject({ method: 'GET', url: `/v1/tenants/${tenant.id}/revisions/${bad}` });
          assert.equal(res.statusCode, 400, `${bad}: ${res.body}`);
        }
      });

      h.test(
        'a diff is RFC 6902 from the previous generation (or `against`); a changed secret shows ***',
        async () => {
          const tenant = await create({ image: 'app:1', env: { A: '1' }, secretEnv: { TOKEN: 'hunter2' } });
          await patch(tenant, {
            config: { image: 'app:2', env: { B: '2' }, secretEnv: { TOKEN: 'swordfish' } },
          });
          await patch(tenant, { paused: true });
          const res = await h.inject({ method: 'GET', url: `/v1/tenants/${tenant.id}/revisions/2/diff` });
          assert.equal(res.statusCode, 200, res.body);
          assert.ok(!res.body.includes('hunter2') && !res.body.includes('swordfish'));
          const diff = res.json<Diff>();
          assert.deepEqual([diff.from, diff.to], [1, 2]);
          const byPath = Object.fromEntries(diff.patch.map((op) => [op.path, [op.op, op.value]]));
          assert.deepEqual(byPath['/config/image'], ['replace', 'app:2']);
          assert.deepEqual(byPath['/config/env/B'], ['add', '2']);
          assert.deepEqual(byPath['/config/secretEnv/TOKEN'], ['replace', '***']);

          const against = await h.inject({
            method: 'GET',
            url: `/v1/tenants/${tenant.id}/revisions/1/diff?against=3`,
          });
          const back = against.json<Diff>();
          assert.deepEqual([back.from, back.to], [3, 1]);
          assert.ok(back.patch.some((op) => op.path === '/paused' && op.value === false));
          assert.ok(back.patch.some((op) => op.path === '/config/image' && op.value === 'app:1'));

          const none = await h.inject({ method: 'GET', url: `/v1/tenants/${tenant.id}/revisions/1/diff` });
          assert.equal(none.statusCode, 404);
          const unknown = await h.inject({
            method: 'GET',
            url: `/v1/tenants/${tenant.id}/revisions/2/diff?against=9`,
          });
          assert.equal(unknown.statusCode, 404);
          const bad = await h.inject({
            method: 'GET',
            url: `/v1/tenants/${tenant.id}/revisions/2/diff?against=0`,
          });
          assert.equal(bad.statusCode, 400);
          const extra = await h.inject({
            method: 'GET',
            url: `/v1/tenants/${tenant.id}/revisions/2/diff?x=1`,
          });
          assert.equal(extra.statusCode, 400);
        },
      );

      h.test('an unknown tenant is 404 on every revisions route', async () => {
        for (const url of [
          '/v1/tenants/nobody/revisions',
          '/v1/tenants/nobody/revisions/1',
          '/v1/tenants/nobody/revisions/2/diff',
        ]) {
          const res = await h.inject({ method: 'GET', url });
          assert.equal(res.statusCode, 404, url);
        }
      });
    },
    { rawSpecs: 'operator' },
  );
}
