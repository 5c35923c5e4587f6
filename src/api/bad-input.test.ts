/**
 * The bad-input rule of docs/api.md ("Errors": no malformed request gets a 5xx): malformed or hostile
 * requests get a clear 4xx problem+json with a stable code, never a 5xx, and nothing is stored (tenant count
 * and an existing tenant's version unchanged).
 */
import assert from 'node:assert/strict';
import { backends } from '../store/testing/test-databases.js';
import { apiSuite, tenantBody, uniqueName } from './testing/api-harness.js';
import { BODY_CASES, REQUEST_CASES } from './testing/bad-input-cases.js';
import type { Problem, Tenant } from './types.js';
import { liveTenantCount } from '../store/testing/tenant-count.js';

for (const backend of backends()) {
  apiSuite(backend, 'bad input: clear 4xx, nothing stored', (h) => {
    let victim = { id: '', version: 0 };
    h.test('set up a tenant the bad requests aim at', async () => {
      const res = await h.inject({
        method: 'POST',
        url: '/v1/tenants',
        payload: tenantBody(uniqueName('victim')),
      });
      victim = res.json<Tenant>();
    });

    for (const c of [...BODY_CASES, ...REQUEST_CASES]) {
      h.test(`${c.status} ${c.code}: ${c.reason}`, async () => {
        const before = await liveTenantCount(h.store());
        const isObject = typeof c.payload === 'object' && c.payload !== null;
        const payload = isObject ? JSON.stringify(c.payload) : (c.payload as string | undefined);
        const headers = { ...(isObject && { 'content-type': 'application/json' }), ...c.headers };
        const url = c.url.replace('VICTIM', victim.id);
        const res = await h.inject({
          method: c.method,
          url,
          headers,
          ...(payload !== undefined && { payload }),
        });
        assert.equal(res.statusCode, c.status, res.body.slice(0, 500));
        assert.equal(res.headers['content-type'], 'application/problem+json');
        const problem = res.json<Problem>();
        assert.equal(problem.code, c.code);
        assert.equal(problem.status, c.status);
        assert.equal(problem.requestId, res.headers['x-request-id']);
        assert.equal(typeof problem.detail, 'string');
        assert.equal(await liveTenantCount(h.store()), before, 'no tenant was stored');
        const after = await h.store().tenants.get(victim.id);
        assert.equal(after?.version, victim.version, 'the existing tenant is unchanged');
      });
    }

    h.test('validation problems name the offending paths', async () => {
      const payload = { name: 'Bad', spec: { config: {}, extra: 1 }, more: 2 };
      const res = await h.inject({ method: 'POST', url: '/v1/tenants', payload });
      const paths = (res.json<Problem>().errors ?? []).map((e) => e.path).sort();
      assert.deepEqual(paths, ['more', 'name', 'spec.extra']);
    });
  });
}
