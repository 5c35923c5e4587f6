/**
 * Properties of plans and revisions, through the API on a real database: for random sequences of
 * plan revisions and tenant patches, a tenant's effective config is always its plan revision's
 * config with its overrides merged onto it (then the provider defaults), and a rollback to any
 * earlier generation g makes a new generation whose spec is generation g's.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { deepEqualJson } from '../domain/canonical-json.js';
import { mergePatch } from '../domain/plan.js';
import type { JsonObject } from '../domain/tenant.js';
import { backends } from '../store/testing/test-databases.js';
import { apiSuite, uniqueName } from './testing/api-harness.js';
import type { Tenant } from './types.js';

const key = fc.constantFrom('A', 'B', 'C', 'MODE');
const env = fc.dictionary(key, fc.oneof(fc.constantFrom('1', '2', 'x'), fc.constant(null)), { maxKeys: 3 });
const planConfig = fc.record({
  image: fc.constantFrom('app:1', 'app:2', 'app:3'),
  env: fc.dictionary(key, fc.constantFrom('p', 'q'), { maxKeys: 3 }),
});
/** A tenant step: a patch of its overrides, or a move to another plan revision. */
const step = fc.oneof(
  fc.record({ kind: fc.constant('patch' as const), image: fc.option(fc.constantFrom('t:1', 't:2')), env }),
  fc.record({ kind: fc.constant('revision' as const), pick: fc.nat() }),
);

const backend = backends()[0];
if (backend) {
  apiSuite(backend, 'plan and revision properties', (h) => {
    h.test('effective config = merge(plan revision, overrides); rollback to g reproduces g', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(planConfig, { minLength: 1, maxLength: 3 }),
          fc.array(step, { minLength: 1, maxLength: 5 }),
          fc.nat(),
          async (revisions, steps, rollbackPick) => {
            const name = uniqueName('prop');
            const base = (config: object) => ({ spec: { config }, allowedOverrides: ['/env', '/image'] });
            const created = await h.inject({
              method: 'POST',
              url: '/v1/plans',
              payload: { name, ...base(revisions[0]!) },
            });
            assert.equal(created.statusCode, 201, created.body);
            for (const config of revisions.slice(1)) {
              await h.inject({ method: 'PUT', url: `/v1/plans/${name}`, payload: base(config) });
            }
            const latest = (await h.store().plans.get(name))!.revision;
            const res = await h.inject({
              method: 'POST',
              url: '/v1/tenants',
              payload: { name: uniqueName('t'), spec: { plan: { name } } },
            });
            assert.equal(res.statusCode, 201, res.body);
            const id = res.json<Tenant>().id;
            for (const s of steps) {
              const spec =
                s.kind === 'patch'
                  ? { config: { env: s.env, ...(s.image !== null && { image: s.image }) } }
                  : { plan: { revision: (s.pick % latest) + 1 } };
              const patched = await h.inject({
                method: 'PATCH',
                url: `/v1/tenants/${id}`,
                payload: { spec },
              });
              assert.ok([200, 202].includes(patched.statusCode), patched.body);
            }

            const tenant = (await h.store().tenants.get(id))!;
            const plan = (await h.store().plans.revision(name, tenant.spec.plan!.revision))!;
            const expected = mergePatch(
              { env: { FROM_DEFAULTS: 'yes' } },
              mergePatch(plan.spec.config, tenant.spec.config),
            );
            const view = await h.inject({ method: 'GET', url: `/v1/tenants/${id}?view=effective` });
            assert.deepEqual(view.json<Tenant>().spec.config, expected as JsonObject);

            const g = (rollbackPick % tenant.generation) + 1;
            const target = (await h.store().revisions.get(id, g))!;
            const rolled = await h.inject({
              method: 'POST',
              url: `/v1/tenants/${id}/rollback`,
              payload: { toGeneration: g },
            });
            if (g === tenant.generation) {
              assert.equal(rolled.statusCode, 409);
              return;
            }
            const same = deepEqualJson(
              { ...target.spec, plan: target.spec.plan ?? null },
              { ...tenant.spec, plan: tenant.spec.plan ?? null },
            );
            if (same) {
              assert.equal(rolled.statusCode, 409, rolled.body);
              return;
            }
            assert.equal(rolled.statusCode, 202, rolled.body);
            const after = (await h.store().tenants.get(id))!;
            assert.equal(after.generation, tenant.generation + 1);
            assert.deepEqual(
              { ...after.spec, plan: after.spec.plan ?? null },
              { ...target.spec, plan: target.spec.plan ?? null },
            );
            assert.deepEqual((await h.store().revisions.get(id, after.generation))!.spec, after.spec);
          },
        ),
        { numRuns: 25 },
      );
    });
  });
}
