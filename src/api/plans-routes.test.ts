import assert from 'node:assert/strict';
import { backends } from '../store/testing/test-databases.js';
import { liveTenantCount } from '../store/testing/tenant-count.js';
import { apiSuite, uniqueName } from './testing/api-harness.js';
import type { Problem, Tenant } from './types.js';

interface Plan {
  name: string;
  revision: number;
  description: string;
  spec: { provider: string; config: Record<string, unknown>; retryPolicy: unknown };
  allowedOverrides: string[];
}

const planBody = (name: string, image = 'app:1', allowedOverrides = ['/env', '/secretEnv']) => ({
  name,
  description: `${name} tier`,
  spec: { config: { image, env: { TIER: name }, secretEnv: { KEY: 'plan-secret' } } },
  allowedOverrides,
});

for (const backend of backends()) {
  apiSuite(backend, 'plans, plan tenants and policy', (h) => {
    const createPlan = async (name = uniqueName('pro'), image = 'app:1', overrides?: string[]) => {
      const res = await h.inject({
        method: 'POST',
        url: '/v1/plans',
        payload: planBody(name, image, overrides),
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json<Plan>();
    };
    const createTenant = (
      spec: Record<string, unknown>,
      token: 'admin' | 'operator' = 'operator',
      query = '',
    ) =>
      h.inject({
        method: 'POST',
        url: `/v1/tenants${query}`,
        payload: { name: uniqueName('t'), spec },
        token,
      });

    h.test(
      'a plan: 201 at revision 1, secrets ***, PUT makes N+1 only on change, revisions kept',
      async () => {
        const plan = await createPlan();
        assert.equal(plan.revision, 1);
        assert.equal(plan.spec.provider, 'fake');
        assert.deepEqual(plan.spec.config.secretEnv, { KEY: '***' });
        const { name: _n, ...body } = planBody(plan.name);
        const same = await h.inject({ method: 'PUT', url: `/v1/plans/${plan.name}`, payload: body });
        assert.equal(same.json<Plan>().revision, 1);
        const kept = {
          ...body,
          spec: { config: { ...body.spec.config, image: 'app:2', secretEnv: { KEY: '***' } } },
        };
        const put = await h.inject({
          method: 'PUT',
          url: `/v1/plans/${plan.name}`,
          payload: kept,
          headers: { 'if-match': '"1"' },
        });
        assert.equal(put.statusCode, 200, put.body);
        assert.equal(put.json<Plan>().revision, 2);
        assert.equal(put.headers.etag, '"2"');
        const stored = await h.store().plans.get(plan.name);
        assert.deepEqual(
          stored?.spec.config.secretEnv,
          { KEY: 'plan-secret' },
          '*** keeps the stored secret',
        );
        const stale = await h.inject({
          method: 'PUT',
          url: `/v1/plans/${plan.name}`,
          payload: body,
          headers: { 'if-match': '"1"' },
        });
        assert.equal(stale.statusCode, 412);

        const revisions = await h.inject({
          method: 'GET',
          url: `/v1/plans/${plan.name}/revisions`,
          token: 'viewer',
        });
        assert.deepEqual(
          revisions.json<{ items: Plan[] }>().items.map((r) => [r.revision, r.spec.config.image]),
          [
            [2, 'app:2'],
            [1, 'app:1'],
          ],
        );
        assert.ok(!revisions.body.includes('plan-secret'));
        const one = await h.inject({ method: 'GET', url: `/v1/plans/${plan.name}/revisions/1` });
        assert.equal(one.json<Plan>().spec.config.image, 'app:1');
        assert.equal(
          (await h.inject({ method: 'GET', url: `/v1/plans/${plan.name}/revisions/3` })).statusCode,
          404,
        );
        const list = await h.inject({ method: 'GET', url: '/v1/plans?limit=500', token: 'viewer' });
        assert.ok(list.json<{ items: Plan[] }>().items.some((p) => p.name === plan.name && p.revision === 2));
      },
    );

    h.test('plan writes are admin only; bad plans are 400; a name clash 409', async () => {
      const name = uniqueName('x');
      const asOperator = await h.inject({
        method: 'POST',
        url: '/v1/plans',
        payload: planBody(name),
        token: 'operator',
      });
      assert.equal(asOperator.statusCode, 403);
      const bad = await h.inject({
        method: 'POST',
        url: '/v1/plans',
        payload: { name, spec: { config: { image: 5 } } },
      });
      assert.equal(bad.statusCode, 400, bad.body);
      const pointer = await h.inject({
        method: 'POST',
        url: '/v1/plans',
        payload: { ...planBody(name), allowedOverrides: ['env'] },
      });
      assert.equal(pointer.statusCode, 400);
      assert.equal(await h.store().plans.get(name), undefined, 'nothing stored');
      await createPlan(name);
      const clash = await h.inject({ method: 'POST', url: '/v1/plans', payload: planBody(name) });
      assert.equal(clash.statusCode, 409);
      for (const method of ['PUT', 'DELETE'] as const) {
        const res = await h.inject({
          method,
          url: `/v1/plans/${name}`,
          payload: method === 'PUT' ? {} : undefined,
          token: 'operator',
        });
        assert.equal(res.statusCode, 403, method);
      }
    });

    h.test(
      'a tenant from a plan: pinned latest revision, overrides only, effective view and hash',
      async () => {
        const plan = await createPlan(uniqueName('pro'), 'app:1', ['/env']);
        await h.inject({
          method: 'PUT',
          url: `/v1/plans/${plan.name}`,
          payload: { ...planBody(plan.name, 'app:2', ['/env']), name: undefined },
        });
        const res = await createTenant({ plan: { name: plan.name }, config: { env: { MODE: 'x' } } });
        assert.equal(res.statusCode, 201, res.body);
        const tenant = res.json<Tenant>();
        assert.deepEqual(tenant.spec.plan, { name: plan.name, revision: 2 });
        assert.deepEqual(tenant.spec.config, { env: { MODE: 'x' } });
        assert.match(String(tenant.status.effectiveConfigHash), /^[0-9a-f]{16}$/);
        const effective = await h.inject({
          method: 'GET',
          url: `/v1/tenants/${tenant.id}?view=effective`,
          token: 'viewer',
        });
        assert.deepEqual(effective.json<Tenant>().spec.config, {
          image: 'app:2',
          env: { FROM_DEFAULTS: 'yes', TIER: plan.name, MODE: 'x' },
          secretEnv: { KEY: '***' },
        });
        assert.ok(!effective.body.includes('plan-secret'));

        // A plan change does not move the tenant; a later PUT keeps its pinned revision.
        await h.inject({
          method: 'PUT',
          url: `/v1/plans/${plan.name}`,
          payload: { ...planBody(plan.name, 'app:3', ['/env']), name: undefined },
        });
        const put = await h.inject({
          method: 'PUT',
          url: `/v1/tenants/${tenant.id}`,
          payload: { spec: { plan: { name: plan.name }, config: { env: { MODE: 'y' } } } },
          token: 'operator',
        });
        assert.equal(put.statusCode, 202, put.body);
        assert.deepEqual(put.json<Tenant>().spec.plan, { name: plan.name, revision: 2 });
        const moved = await h.inject({
          method: 'PATCH',
          url: `/v1/tenants/${tenant.id}`,
          payload: { spec: { plan: { revision: 3 } } },
          token: 'operator',
        });
        assert.equal(moved.statusCode, 202, moved.body);
        assert.deepEqual(moved.json<Tenant>().spec.plan, { name: plan.name, revision: 3 });
      },
    );

    h.test(
      'policy: operator raw spec 403, override outside the plan 422 naming the path; admin may',
      async () => {
        const plan = await createPlan(uniqueName('lim'), 'app:1', ['/env']);
        const raw = await createTenant({ config: { image: 'x' } });
        assert.equal(raw.statusCode, 403);
        assert.equal(raw.json<Problem>().code, 'POLICY_VIOLATION');
        const outside = await createTenant({
          plan: { name: plan.name },
          config: { image: 'evil', env: { A: '1' } },
        });
        assert.equal(outside.statusCode, 422, outside.body);
        assert.equal(outside.json<Problem>().code, 'POLICY_VIOLATION');
        assert.deepEqual(
          outside.json<Problem>().errors?.map((e) => e.path),
          ['spec.config.image'],
        );
        assert.match(outside.json<Problem>().detail, /\/image/);
        const admin = await createTenant({ plan: { name: plan.name }, config: { image: 'evil' } }, 'admin');
        assert.equal(admin.statusCode, 201, admin.body);
        const adminRaw = await createTenant({ config: { image: 'x' } }, 'admin');
        assert.equal(adminRaw.statusCode, 201);
        // An operator may not turn a plan tenant into a raw one either.
        const tenant = (await createTenant({ plan: { name: plan.name }, config: {} })).json<Tenant>();
        const off = await h.inject({
          method: 'PATCH',
          url: `/v1/tenants/${tenant.id}`,
          payload: { spec: { plan: null } },
          token: 'operator',
        });
        assert.equal(off.statusCode, 403);
      },
    );

    h.test(
      'unknown plan or revision is 422 naming it; overrides breaking the schema 422 naming the merged path',
      async () => {
        const plan = await createPlan(uniqueName('p'), 'app:1', ['/env', '/ports']);
        const before = await liveTenantCount(h.store());
        const unknown = await createTenant({ plan: { name: 'no-such-plan' } });
        assert.equal(unknown.statusCode, 422);
        assert.match(unknown.json<Problem>().detail, /no-such-plan/);
        const revision = await createTenant({ plan: { name: plan.name, revision: 9 } });
        assert.equal(revision.statusCode, 422);
        assert.match(revision.json<Problem>().detail, /no revision 9/);
        const broken = await createTenant({ plan: { name: plan.name }, config: { env: { A: 5 } } });
        assert.equal(broken.statusCode, 422, broken.body);
        assert.ok(broken.json<Problem>().errors?.some((e) => e.path.startsWith('spec.config.env')));
        const provider = await createTenant({ provider: 'docker', plan: { name: plan.name } });
        assert.equal(provider.statusCode, 422);
        assert.equal(await liveTenantCount(h.store()), before, 'nothing stored');
      },
    );

    h.test('DELETE of a used plan is 409 naming the tenant; unused 204; then 404', async () => {
      const plan = await createPlan(uniqueName('del'));
      const tenant = (await createTenant({ plan: { name: plan.name }, config: {} })).json<Tenant>();
      const used = await h.inject({ method: 'DELETE', url: `/v1/plans/${plan.name}` });
      assert.equal(used.statusCode, 409);
      assert.match(used.json<Problem>().detail, new RegExp(tenant.name));
      const unused = await createPlan(uniqueName('del'));
      assert.equal((await h.inject({ method: 'DELETE', url: `/v1/plans/${unused.name}` })).statusCode, 204);
      assert.equal((await h.inject({ method: 'GET', url: `/v1/plans/${unused.name}` })).statusCode, 404);
      assert.equal((await h.inject({ method: 'DELETE', url: `/v1/plans/${unused.name}` })).statusCode, 404);
    });

    h.test('plan dry runs: 200 with Lessor-Dry-Run, nothing stored, checks still apply', async () => {
      const name = uniqueName('dry');
      const dry = await h.inject({ method: 'POST', url: '/v1/plans?dryRun=true', payload: planBody(name) });
      assert.equal(dry.statusCode, 200, dry.body);
      assert.equal(dry.headers['lessor-dry-run'], 'true');
      assert.equal(dry.json<Plan>().revision, 1);
      assert.equal(await h.store().plans.get(name), undefined);
      await createPlan(name);
      const clash = await h.inject({ method: 'POST', url: '/v1/plans?dryRun=true', payload: planBody(name) });
      assert.equal(clash.statusCode, 409);
      const { name: _n, ...body } = planBody(name, 'app:9');
      const put = await h.inject({ method: 'PUT', url: `/v1/plans/${name}?dryRun=true`, payload: body });
      assert.equal(put.json<Plan>().revision, 2);
      assert.equal((await h.store().plans.get(name))?.revision, 1);
    });
  });

  apiSuite(
    backend,
    'dry runs and rollback',
    (h) => {
      const post = (payload: object, query = '') =>
        h.inject({ method: 'POST', url: `/v1/tenants${query}`, payload });
      const events = async (id: string) => (await h.store().events.listByTenant(id, { limit: 100 })).length;

      h.test(
        'dry-run create: 200, Lessor-Dry-Run, nothing stored, no wake; a name clash is 409',
        async () => {
          const name = uniqueName('dry');
          const calls = h.trigger().calls.length;
          const dry = await post(
            { name, spec: { config: { image: 'a:1', secretEnv: { K: 'hunter2' } } } },
            '?dryRun=true',
          );
          assert.equal(dry.statusCode, 200, dry.body);
          assert.equal(dry.headers['lessor-dry-run'], 'true');
          assert.ok(!dry.body.includes('hunter2'));
          const body = dry.json<Tenant & { diff: unknown[] }>();
          assert.equal(body.generation, 1);
          assert.deepEqual(body.diff, []);
          assert.equal(await h.store().tenants.get(name), undefined);
          assert.equal(h.trigger().calls.length, calls);
          assert.equal((await post({ name, spec: { config: { image: 'a:1' } } })).statusCode, 201);
          assert.equal(
            (await post({ name, spec: { config: { image: 'a:1' } } }, '?dryRun=true')).statusCode,
            409,
          );
          assert.equal(
            (await post({ name: uniqueName(), spec: { config: { image: 7 } } }, '?dryRun=true')).statusCode,
            400,
          );
        },
      );

      h.test(
        'dry-run PUT/PATCH: the would-be tenant and its diff; If-Match still checked; nothing stored',
        async () => {
          const tenant = (
            await post({ name: uniqueName('d'), spec: { config: { image: 'a:1' } } })
          ).json<Tenant>();
          const seen = await events(tenant.id);
          const patch = await h.inject({
            method: 'PATCH',
            url: `/v1/tenants/${tenant.id}?dryRun=true`,
            payload: { spec: { config: { image: 'a:2' } } },
          });
          assert.equal(patch.statusCode, 200, patch.body);
          assert.equal(patch.headers['lessor-dry-run'], 'true');
          const body = patch.json<Tenant & { diff: { op: string; path: string; value: unknown }[] }>();
          assert.equal(body.generation, 2);
          assert.deepEqual(body.diff, [{ op: 'replace', path: '/config/image', value: 'a:2' }]);
          const put = await h.inject({
            method: 'PUT',
            url: `/v1/tenants/${tenant.id}?dryRun=true`,
            payload: { spec: { config: { image: 'a:3' } } },
            headers: { 'if-match': '"99"' },
          });
          assert.equal(put.statusCode, 412);
          const stored = await h.store().tenants.get(tenant.id);
          assert.deepEqual(
            [stored?.generation, stored?.version, stored?.spec.config.image],
            [1, tenant.version, 'a:1'],
          );
          assert.equal(await events(tenant.id), seen, 'no event');
          assert.equal(await h.store().revisions.get(tenant.id, 2), undefined);
        },
      );

      h.test('rollback: 202, a new generation equal to the revision; 404 unknown, 409 current', async () => {
        const tenant = (
          await post({ name: uniqueName('rb'), spec: { config: { image: 'a:1', env: { A: '1' } } } })
        ).json<Tenant>();
        await h.inject({
          method: 'PATCH',
          url: `/v1/tenants/${tenant.id}`,
          payload: { spec: { config: { image: 'a:2' } } },
        });
        const rollback = (toGeneration: unknown, query = '') =>
          h.inject({
            method: 'POST',
            url: `/v1/tenants/${tenant.id}/rollback${query}`,
            payload: { toGeneration },
          });
        assert.equal((await rollback(2)).statusCode, 409);
        assert.equal((await rollback(7)).statusCode, 404);
        for (const bad of [0, 'x', 1.5, null])
          assert.equal((await rollback(bad)).statusCode, 400, String(bad));

        const dry = await rollback(1, '?dryRun=true');
        assert.equal(dry.statusCode, 200, dry.body);
        assert.equal(dry.headers['lessor-dry-run'], 'true');
        assert.equal((await h.store().tenants.get(tenant.id))?.generation, 2);

        const calls = h.trigger().calls.length;
        const res = await rollback(1);
        assert.equal(res.statusCode, 202, res.body);
        const rolled = res.json<Tenant>();
        assert.equal(rolled.generation, 3);
        assert.equal(rolled.spec.config.image, 'a:1');
        assert.equal(h.trigger().calls.length, calls + 1);
        const [first, third] = [
          await h.store().revisions.get(tenant.id, 1),
          await h.store().revisions.get(tenant.id, 3),
        ];
        assert.deepEqual(third?.spec, first?.spec);
        assert.equal((await rollback(1)).statusCode, 409, 'generation 1 is the current spec now');
      });

      h.test('rollback keeps the plan revision of the generation', async () => {
        const name = uniqueName('rbp');
        await h.inject({ method: 'POST', url: '/v1/plans', payload: planBody(name, 'p:1') });
        await h.inject({
          method: 'PUT',
          url: `/v1/plans/${name}`,
          payload: { ...planBody(name, 'p:2'), name: undefined },
        });
        const tenant = (
          await post({ name: uniqueName('t'), spec: { plan: { name, revision: 1 } } })
        ).json<Tenant>();
        await h.inject({
          method: 'PATCH',
          url: `/v1/tenants/${tenant.id}`,
          payload: { spec: { plan: { revision: 2 } } },
        });
        const res = await h.inject({
          method: 'POST',
          url: `/v1/tenants/${tenant.id}/rollback`,
          payload: { toGeneration: 1 },
        });
        assert.equal(res.statusCode, 202, res.body);
        assert.deepEqual(res.json<Tenant>().spec.plan, { name, revision: 1 });
      });
    },
    { rawSpecs: 'operator' },
  );
}
