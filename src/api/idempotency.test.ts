import assert from 'node:assert/strict';
import { canonicalJson, sha256Hex } from '../domain/canonical-json.js';
import { testHasher } from '../domain/testing/test-hasher.js';
import type { Store } from '../store/store.js';
import { backends } from '../store/testing/test-databases.js';
import type { ApiStore } from './api-deps.js';
import { IN_FLIGHT_LEASE_MS } from './idempotency.js';
import { CreateTenantRequestSchema } from './schemas.js';
import { apiSuite, tenantBody, uniqueName } from './testing/api-harness.js';
import type { Problem, Tenant } from './types.js';
import { liveTenantCount } from '../store/testing/tenant-count.js';

/**
 * Holds `tenants.create` for names starting with `slow-` until `release()`; never finishes the
 * first create of a name starting with `dies-` (its process died mid-request).
 */
function gated(): { wrap: (store: Store) => ApiStore; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const died = new Set<string>();
  const wrap = (store: Store): ApiStore => ({
    tenants: {
      ...store.tenants,
      get: (id) => store.tenants.get(id),
      getForView: (id, held) => store.tenants.getForView(id, held),
      list: (q) => store.tenants.list(q),
      listForView: (q, held) => store.tenants.listForView(q, held),
      change: (id, c, o) => store.tenants.change(id, c, o),
      purge: (id, audit) => store.tenants.purge(id, audit),
      listSummaries: (a, l) => store.tenants.listSummaries(a, l),
      create: async (input) => {
        if (input.name.startsWith('slow-')) await gate;
        if (input.name.startsWith('dies-') && !died.has(input.name)) {
          died.add(input.name);
          return new Promise<never>(() => {});
        }
        return store.tenants.create(input);
      },
    },
    revisions: store.revisions,
    plans: store.plans,
    events: store.events,
    callbacks: store.callbacks,
    idempotency: store.idempotency,
    audit: store.audit,
    probeWrite: () => store.probeWrite(),
  });
  return { wrap, release: () => release() };
}

for (const backend of backends()) {
  const gate = gated();
  const clock = { ms: Date.now() };
  apiSuite(
    backend,
    'Idempotency-Key on POST /v1/tenants',
    (h) => {
      const post = (key: string, payload: object, token: 'admin' | 'operator' = 'admin') =>
        h.inject({ method: 'POST', url: '/v1/tenants', headers: { 'idempotency-key': key }, payload, token });

      h.test('same key + same body → the first response again, one tenant', async () => {
        const key = uniqueName('key');
        const body = tenantBody(uniqueName());
        const first = await post(key, body);
        assert.equal(first.statusCode, 201);
        const before = await liveTenantCount(h.store());
        const second = await post(key, body);
        assert.equal(second.statusCode, 201);
        assert.deepEqual(second.json<Tenant>(), first.json<Tenant>());
        assert.equal(second.headers.location, first.headers.location);
        assert.equal(second.headers.etag, first.headers.etag);
        assert.equal(second.headers['idempotent-replayed'], 'true');
        assert.equal(await liveTenantCount(h.store()), before);
      });

      h.test('same key + another body → 422 VALIDATION_FAILED (idempotency-key-reused)', async () => {
        const key = uniqueName('key');
        assert.equal((await post(key, tenantBody(uniqueName()))).statusCode, 201);
        const before = await liveTenantCount(h.store());
        const other = await post(key, tenantBody(uniqueName()));
        assert.equal(other.statusCode, 422);
        assert.equal(other.json<Problem>().code, 'VALIDATION_FAILED');
        assert.equal(other.json<Problem>().type, 'urn:lessor:problem:idempotency-key-reused');
        assert.equal(await liveTenantCount(h.store()), before);
      });

      h.test('keys are scoped per token', async () => {
        const key = uniqueName('key');
        assert.equal((await post(key, tenantBody(uniqueName()))).statusCode, 201);
        assert.equal((await post(key, tenantBody(uniqueName()), 'operator')).statusCode, 201);
      });

      h.test('a failed request releases its key', async () => {
        const key = uniqueName('key');
        const invalid = await post(key, tenantBody(uniqueName(), { image: 'x', bogus: true }));
        assert.equal(invalid.statusCode, 400);
        assert.equal((await post(key, tenantBody(uniqueName()))).statusCode, 201);
      });

      h.test('same key while the first request runs → 409 CONFLICT + Retry-After', async () => {
        const key = uniqueName('key');
        const body = tenantBody(uniqueName('slow'));
        const first = post(key, body);
        await new Promise((resolve) => setTimeout(resolve, 100));
        const second = await post(key, body);
        assert.equal(second.statusCode, 409, second.body);
        assert.equal(second.json<Problem>().code, 'CONFLICT');
        assert.equal(second.headers['retry-after'], '1');
        gate.release();
        assert.equal((await first).statusCode, 201);
        assert.equal((await post(key, body)).headers['idempotent-replayed'], 'true');
      });

      h.test(
        'the stored request hash is keyed: no plain SHA-256 of a body that may hold secrets',
        async () => {
          const key = uniqueName('key');
          const body = tenantBody(uniqueName(), { image: 'app:1', secretEnv: { TOKEN: 'hunter2' } });
          assert.equal((await post(key, body)).statusCode, 201);
          const now = clock.ms;
          const claim = await h.store().idempotency.claim({
            key,
            scope: 'admin-bot',
            requestHash: 'probe',
            now,
            expiresAt: now + 1,
          });
          assert.ok(!claim.claimed, 'the completed record is still there');
          // The body as the route validated it (defaults filled in): what the hash covers.
          const parsed = CreateTenantRequestSchema.parse(body);
          assert.notEqual(
            claim.existing.requestHash,
            sha256Hex(`POST /v1/tenants\n${canonicalJson(parsed)}`),
          );
          assert.equal(
            claim.existing.requestHash,
            testHasher({ method: 'POST', route: '/v1/tenants', body: parsed }),
          );
        },
      );

      h.test(
        'a claim left by a process that died stops blocking its key after the in-flight lease',
        async () => {
          const key = uniqueName('key');
          const body = tenantBody(uniqueName('dies'));
          void post(key, body); // claims the key, then "dies": never answers, never releases
          await new Promise((resolve) => setTimeout(resolve, 100));
          assert.equal((await post(key, body)).statusCode, 409);
          clock.ms += IN_FLIGHT_LEASE_MS;
          const retried = await post(key, body);
          assert.equal(retried.statusCode, 201, retried.body);
          assert.equal((await post(key, body)).headers['idempotent-replayed'], 'true');
        },
      );
    },
    { wrapStore: gate.wrap, now: () => new Date(clock.ms), rawSpecs: 'operator' },
  );
}
