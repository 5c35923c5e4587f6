import assert from 'node:assert/strict';
import { StoreUnavailableError, UnavailableError } from '../domain/errors.js';
import type { NewTenant, Store } from '../store/store.js';
import { backends } from '../store/testing/test-databases.js';
import type { ApiStore } from './api-deps.js';
import { apiSuite, breakable, tenantBody, uniqueName } from './testing/api-harness.js';
import type { Problem, Tenant } from './types.js';

for (const backend of backends()) {
  const db = breakable();
  apiSuite(
    backend,
    'health, readiness, metrics, request ids, dependency failures',
    (h) => {
      h.test('/healthz 200, /readyz 200 with checks', async () => {
        assert.deepEqual((await h.inject({ method: 'GET', url: '/healthz', token: null })).json<Tenant>(), {
          status: 'ok',
        });
        const ready = await h.inject({ method: 'GET', url: '/readyz', token: null });
        assert.equal(ready.statusCode, 200);
        assert.deepEqual(ready.json<Tenant>(), { status: 'ready', checks: { database: 'ok', engine: 'ok' } });
      });

      h.test('/metrics: Prometheus text with the request histogram by route pattern', async () => {
        await h.inject({ method: 'GET', url: '/v1/tenants/some-name' });
        const res = await h.inject({ method: 'GET', url: '/metrics', token: null });
        assert.equal(res.statusCode, 200);
        assert.match(String(res.headers['content-type']), /^text\/plain/);
        assert.match(
          res.body,
          /lessor_http_request_duration_seconds_bucket\{[^}]*route="\/v1\/tenants\/:idOrName"[^}]*status_code="404"/,
        );
      });

      h.test('X-Request-Id: a sane client id is echoed, anything else replaced', async () => {
        const sane = await h.inject({
          method: 'GET',
          url: '/healthz',
          headers: { 'x-request-id': 'abc-123.x:y' },
        });
        assert.equal(sane.headers['x-request-id'], 'abc-123.x:y');
        for (const bad of ['a b', 'x'.repeat(129), '<script>', 'é']) {
          const res = await h.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': bad } });
          assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/, bad);
        }
      });

      h.test('database down: /readyz and every store-backed route answer 503 UNAVAILABLE', async () => {
        const name = uniqueName();
        await h.inject({ method: 'POST', url: '/v1/tenants', payload: tenantBody(name) });
        for (const error of [
          new UnavailableError('connection refused'),
          Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
          Object.assign(new Error('y'), { code: '57P01' }),
        ]) {
          db.fail(error);
          const ready = await h.inject({ method: 'GET', url: '/readyz', token: null });
          assert.equal(ready.statusCode, 503);
          assert.equal(ready.json<Problem>().code, 'STORE_UNAVAILABLE');
          const get = await h.inject({ method: 'GET', url: `/v1/tenants/${name}` });
          assert.equal(get.statusCode, 503);
          assert.equal(get.headers['retry-after'], '5');
          const post = await h.inject({
            method: 'POST',
            url: '/v1/tenants',
            payload: tenantBody(uniqueName()),
          });
          assert.equal(post.statusCode, 503);
        }
        db.fail(undefined);
        assert.equal((await h.inject({ method: 'GET', url: '/readyz', token: null })).statusCode, 200);
      });

      h.test('an unexpected error is 500 INTERNAL with a generic detail (no internals leak)', async () => {
        db.fail(new TypeError('secret internals: cannot read x of undefined'));
        const res = await h.inject({ method: 'GET', url: '/v1/tenants' });
        db.fail(undefined);
        assert.equal(res.statusCode, 500);
        assert.equal(res.json<Problem>().code, 'INTERNAL');
        assert.equal(res.json<Problem>().detail, 'internal error');
        assert.ok(!res.body.includes('secret internals'));
      });
    },
    { wrapStore: db.wrap },
  );
}

/** A store that reads but cannot write (a full disk): writes and the write probe fail, reads answer. */
function fullDisk(): { wrap: (store: Store) => ApiStore; full: (on: boolean) => void } {
  let full = false;
  const refuse = () =>
    Promise.reject(new StoreUnavailableError('database unavailable: database or disk is full'));
  return {
    full: (on) => (full = on),
    wrap: (store) => ({
      tenants: new Proxy(store.tenants, {
        get: (target, key) => {
          if (key === 'create') return (input: NewTenant) => (full ? refuse() : target.create(input));
          const value: unknown = Reflect.get(target, key);
          return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
        },
      }),
      revisions: store.revisions,
      plans: store.plans,
      events: store.events,
      callbacks: store.callbacks,
      idempotency: store.idempotency,
      audit: store.audit,
      probeWrite: () => (full ? refuse() : store.probeWrite()),
    }),
  };
}

for (const backend of backends()) {
  const disk = fullDisk();
  apiSuite(
    backend,
    'readiness on a database that reads but cannot write',
    (h) => {
      h.test(
        '/readyz and writes answer 503 STORE_UNAVAILABLE with Retry-After; reads still answer',
        async () => {
          const name = uniqueName();
          assert.equal(
            (await h.inject({ method: 'POST', url: '/v1/tenants', payload: tenantBody(name) })).statusCode,
            201,
          );
          disk.full(true);
          try {
            const ready = await h.inject({ method: 'GET', url: '/readyz', token: null });
            assert.deepEqual([ready.statusCode, ready.json<Problem>().code], [503, 'STORE_UNAVAILABLE']);
            const post = await h.inject({
              method: 'POST',
              url: '/v1/tenants',
              payload: tenantBody(uniqueName()),
            });
            assert.deepEqual(
              [post.statusCode, post.json<Problem>().code, post.headers['retry-after']],
              [503, 'STORE_UNAVAILABLE', '5'],
            );
            assert.equal((await h.inject({ method: 'GET', url: `/v1/tenants/${name}` })).statusCode, 200);
          } finally {
            disk.full(false);
          }
          assert.equal((await h.inject({ method: 'GET', url: '/readyz', token: null })).statusCode, 200);
        },
      );
    },
    { wrapStore: disk.wrap },
  );
}
