import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../store/testing/test-databases.js';
import { hashToken } from './auth.js';
import { createRateLimiter } from './rate-limit.js';
import { createApiServer } from './server.js';
import { apiDeps, apiSuite, tenantBody, testApiOptions, TOKENS, uniqueName } from './testing/api-harness.js';
import type { Problem, Tenant, TenantEventList } from './types.js';
import { liveTenantCount } from '../store/testing/tenant-count.js';

const OPEN = [
  '/healthz',
  '/readyz',
  '/metrics',
  '/openapi.json',
  '/docs',
  '/docs/json',
  '/docs/static/swagger-ui.css',
];

for (const backend of backends()) {
  apiSuite(backend, 'auth: bearer tokens and roles', (h) => {
    h.test('no token → 401 UNAUTHORIZED with WWW-Authenticate; bad tokens too', async () => {
      for (const authorization of [
        undefined,
        'Bearer nope',
        'Basic YWRtaW46eA==',
        'Bearer',
        `bearer  ${TOKENS.admin}x`,
      ]) {
        const res = await h.inject({
          method: 'GET',
          url: '/v1/tenants',
          token: null,
          headers: authorization ? { authorization } : {},
        });
        assert.equal(res.statusCode, 401, String(authorization));
        assert.equal(res.json<Problem>().code, 'UNAUTHORIZED');
        assert.match(String(res.headers['www-authenticate']), /^Bearer/);
      }
    });

    h.test('the scheme is case-insensitive', async () => {
      const res = await h.inject({
        method: 'GET',
        url: '/v1/tenants',
        token: null,
        headers: { authorization: `bearer ${TOKENS.viewer}` },
      });
      assert.equal(res.statusCode, 200);
    });

    h.test('viewer reads but may not write (403 FORBIDDEN); nothing stored', async () => {
      assert.equal((await h.inject({ method: 'GET', url: '/v1/tenants', token: 'viewer' })).statusCode, 200);
      const before = await liveTenantCount(h.store());
      const res = await h.inject({
        method: 'POST',
        url: '/v1/tenants',
        token: 'viewer',
        payload: tenantBody(uniqueName()),
      });
      assert.equal(res.statusCode, 403);
      assert.equal(res.json<Problem>().code, 'FORBIDDEN');
      assert.equal(await liveTenantCount(h.store()), before);
      for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
        const write = await h.inject({
          method,
          url: '/v1/tenants/some-tenant',
          token: 'viewer',
          payload: { spec: {} },
        });
        assert.equal(write.statusCode, 403, method);
      }
    });

    h.test('operator writes tenants', async () => {
      const res = await h.inject({
        method: 'POST',
        url: '/v1/tenants',
        token: 'operator',
        payload: tenantBody(uniqueName()),
      });
      assert.equal(res.statusCode, 201);
      const del = await h.inject({
        method: 'DELETE',
        url: `/v1/tenants/${res.json<Tenant>().id}`,
        token: 'operator',
      });
      assert.equal(del.statusCode, 202);
    });

    h.test('health, readiness, metrics, OpenAPI and docs are open', async () => {
      for (const url of OPEN) {
        const res = await h.inject({ method: 'GET', url, token: null });
        assert.equal(res.statusCode, 200, url);
      }
    });
  });

  apiSuite(
    backend,
    'auth disabled (no token configured)',
    (h) => {
      h.test('every caller is the anonymous admin', async () => {
        const res = await h.inject({
          method: 'POST',
          url: '/v1/tenants',
          token: null,
          payload: tenantBody(uniqueName()),
        });
        assert.equal(res.statusCode, 201);
        const events = await h.inject({
          method: 'GET',
          url: `/v1/tenants/${res.json<Tenant>().id}/events`,
          token: null,
        });
        assert.equal(events.json<TenantEventList>().items[0]?.actor, 'api:anonymous');
      });
    },
    { tokens: [] },
  );

  apiSuite(
    backend,
    'rate limit',
    (h) => {
      h.test(
        'per token: 429 RATE_LIMITED + Retry-After after the bucket is empty; others unaffected',
        async () => {
          for (let i = 0; i < 3; i++)
            assert.equal((await h.inject({ method: 'GET', url: '/v1/tenants' })).statusCode, 200);
          const limited = await h.inject({ method: 'GET', url: '/v1/tenants' });
          assert.equal(limited.statusCode, 429);
          assert.equal(limited.json<Problem>().code, 'RATE_LIMITED');
          assert.ok(Number(limited.headers['retry-after']) >= 1);
          assert.equal(
            (await h.inject({ method: 'GET', url: '/v1/tenants', token: 'viewer' })).statusCode,
            200,
          );
          assert.equal((await h.inject({ method: 'GET', url: '/healthz', token: null })).statusCode, 200);
        },
      );
    },
    { rateLimitPerMinute: 3 },
  );
}

describe('auth helpers', () => {
  test('hashToken is hex SHA-256; malformed configured hashes are refused at start', async () => {
    assert.equal(hashToken('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const deps = apiDeps({} as never);
    await assert.rejects(
      createApiServer(deps, testApiOptions({ tokens: [{ name: 'x', role: 'admin', sha256: 'nothex' }] })),
      /sha256/,
    );
  });

  test('token bucket refills continuously and reports the wait', () => {
    let now = 0;
    const limiter = createRateLimiter(60, () => now);
    for (let i = 0; i < 60; i++) assert.equal(limiter.take('a'), 0);
    assert.equal(limiter.take('a'), 1);
    assert.equal(limiter.take('b'), 0);
    now += 1000;
    assert.equal(limiter.take('a'), 0);
    assert.equal(createRateLimiter(0).take('a'), 0, '0 disables');
  });
});
