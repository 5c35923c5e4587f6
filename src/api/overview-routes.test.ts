/** `GET /v1/whoami` and `GET /v1/tenant-summary`. */
import assert from 'node:assert/strict';
import { backends } from '../store/testing/test-databases.js';
import { apiSuite, tenantBody, uniqueName } from './testing/api-harness.js';
import type { Problem, Tenant, TenantSummary, WhoAmI } from './types.js';

for (const backend of backends()) {
  apiSuite(backend, 'whoami and tenant summary', (h) => {
    const cases = [
      { token: 'admin', name: 'admin-bot', role: 'admin', grants: ['read', 'write', 'admin'] },
      { token: 'operator', name: 'operator-bot', role: 'operator', grants: ['read', 'write'] },
      { token: 'viewer', name: 'viewer-bot', role: 'viewer', grants: ['read'] },
    ] as const;
    for (const c of cases) {
      h.test(`whoami names the ${c.role} token and its grants`, async () => {
        const res = await h.inject({ method: 'GET', url: '/v1/whoami', token: c.token });
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json<WhoAmI>(), {
          name: c.name,
          role: c.role,
          authenticated: true,
          authRequired: true,
          grants: c.grants,
        });
      });
    }

    h.test('whoami without a token: 200, not signed in, no role, no grants', async () => {
      const res = await h.inject({ method: 'GET', url: '/v1/whoami', token: null });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json<WhoAmI>(), {
        name: 'anonymous',
        role: null,
        authenticated: false,
        authRequired: true,
        grants: [],
      });
    });

    h.test('whoami with a wrong or malformed token is 401', async () => {
      for (const authorization of ['Bearer nope', 'Basic abc', '']) {
        const res = await h.inject({
          method: 'GET',
          url: '/v1/whoami',
          token: null,
          headers: { authorization },
        });
        assert.equal(res.statusCode, 401, authorization);
        assert.equal(res.json<Problem>().code, 'UNAUTHORIZED');
      }
    });

    h.test('tenant summary counts by phase, per provider and in total', async () => {
      const before = (
        await h.inject({ method: 'GET', url: '/v1/tenant-summary', token: 'viewer' })
      ).json<TenantSummary>();
      const created = await h.inject({
        method: 'POST',
        url: '/v1/tenants',
        payload: tenantBody(uniqueName()),
      });
      const tenant = created.json<Tenant>();
      await h
        .store()
        .tenants.change(tenant.id, { actor: 'test', phase: { to: 'provisioning', reason: 'r' } });
      await h.inject({ method: 'POST', url: '/v1/tenants', payload: tenantBody(uniqueName()) });
      const res = await h.inject({ method: 'GET', url: '/v1/tenant-summary', token: 'viewer' });
      assert.equal(res.statusCode, 200);
      const after = res.json<TenantSummary>();
      assert.equal(after.total, before.total + 2);
      assert.equal(after.phases.requested, before.phases.requested + 1);
      assert.equal(after.phases.provisioning, before.phases.provisioning + 1);
      assert.deepEqual(Object.keys(after.phases).sort(), Object.keys(before.phases).sort());
      const fake = await h.inject({
        method: 'GET',
        url: '/v1/tenant-summary?provider=fake',
        token: 'viewer',
      });
      assert.equal(fake.json<TenantSummary>().total, after.total, 'every tenant here is a fake one');
      const other = await h.inject({
        method: 'GET',
        url: '/v1/tenant-summary?provider=docker',
        token: 'viewer',
      });
      assert.equal(other.json<TenantSummary>().total, 0);
    });

    h.test('tenant summary rejects bad input without a 5xx', async () => {
      for (const url of ['/v1/tenant-summary?provider=NOT_A_TYPE', '/v1/tenant-summary?extra=1']) {
        const res = await h.inject({ method: 'GET', url, token: 'viewer' });
        assert.equal(res.statusCode, 400, url);
        assert.equal(res.json<Problem>().code, 'VALIDATION_FAILED');
      }
      const anonymous = await h.inject({ method: 'GET', url: '/v1/tenant-summary', token: null });
      assert.equal(anonymous.statusCode, 401);
    });
  });

  apiSuite(
    backend,
    'whoami and the failed-authentication limit',
    (h) => {
      h.test('wrong tokens sent to whoami count as failed authentications, then 429', async () => {
        const wrong = { authorization: 'Bearer guess' };
        for (let i = 0; i < 2; i++) {
          const res = await h.inject({ method: 'GET', url: '/v1/whoami', token: null, headers: wrong });
          assert.equal(res.statusCode, 401);
        }
        const locked = await h.inject({ method: 'GET', url: '/v1/whoami', token: 'admin' });
        assert.equal(locked.statusCode, 429, 'a right token is not told apart while locked out');
        assert.equal(locked.json<Problem>().code, 'RATE_LIMITED');
      });
    },
    { authFailuresPerMinute: 2 },
  );

  apiSuite(
    backend,
    'whoami without tokens',
    (h) => {
      h.test('no token configured: the caller is the anonymous admin, no sign-in needed', async () => {
        const res = await h.inject({ method: 'GET', url: '/v1/whoami', token: null });
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json<WhoAmI>(), {
          name: 'anonymous',
          role: 'admin',
          authenticated: false,
          authRequired: false,
          grants: ['read', 'write', 'admin'],
        });
      });
    },
    { tokens: [] },
  );
}
