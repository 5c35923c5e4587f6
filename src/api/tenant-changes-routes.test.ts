import assert from 'node:assert/strict';
import type { Phase } from '../domain/tenant.js';
import { backends } from '../store/testing/test-databases.js';
import { apiSuite, tenantBody, uniqueName, type ApiHarness } from './testing/api-harness.js';
import type { Problem, Tenant, TenantEventList, TenantList } from './types.js';

async function create(h: ApiHarness, config: Record<string, unknown> = { image: 'nginx' }) {
  const res = await h.inject({
    method: 'POST',
    url: '/v1/tenants',
    payload: tenantBody(uniqueName(), config),
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<Tenant>() as { id: string; name: string; version: number; generation: number };
}

async function moveTo(h: ApiHarness, id: string, ...phases: Phase[]) {
  for (const to of phases)
    await h.store().tenants.change(id, { actor: 'test', phase: { to, reason: 'Test' } });
}

const MERGE = { 'content-type': 'application/merge-patch+json' };

for (const backend of backends()) {
  apiSuite(backend, 'tenant changes: PUT, PATCH, DELETE, retry', (h) => {
    h.test(
      'PUT replaces the spec: 202 + generation bump; same spec again → 200, nothing changes',
      async () => {
        const t = await create(h);
        const spec = { config: { image: 'nginx:2' }, labels: { plan: 'pro' } };
        const res = await h.inject({ method: 'PUT', url: `/v1/tenants/${t.name}`, payload: { spec } });
        assert.equal(res.statusCode, 202, res.body);
        assert.equal(res.json<Tenant>().generation, 2);
        assert.equal(res.json<Tenant>().spec.provider, 'fake');
        assert.equal(res.headers.etag, `"${res.json<Tenant>().version}"`);
        assert.deepEqual(h.trigger().calls.at(-1), [t.id, 'api']);
        const again = await h.inject({ method: 'PUT', url: `/v1/tenants/${t.name}`, payload: { spec } });
        assert.equal(again.statusCode, 200);
        assert.equal(again.json<Tenant>().generation, 2);
        assert.equal(again.json<Tenant>().version, res.json<Tenant>().version);
      },
    );

    h.test('If-Match: current version passes, stale → 412, weak → 412, malformed → 400', async () => {
      const t = await create(h);
      const put = (ifMatch: string, image: string) =>
        h.inject({
          method: 'PUT',
          url: `/v1/tenants/${t.id}`,
          headers: { 'if-match': ifMatch },
          payload: { spec: { config: { image } } },
        });
      assert.equal((await put(`"${t.version}"`, 'a')).statusCode, 202);
      const stale = await put(`"${t.version}"`, 'b');
      assert.equal(stale.statusCode, 412);
      assert.equal(stale.json<Problem>().code, 'PRECONDITION_FAILED');
      assert.equal((await put(`W/"${t.version + 1}"`, 'b')).statusCode, 412);
      const bad = await put('version-2', 'b');
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json<Problem>().errors?.[0]?.path, 'headers.if-match');
      assert.equal((await put('*', 'c')).statusCode, 202);
    });

    h.test('provider cannot change; spec of a deleting tenant cannot change', async () => {
      const t = await create(h);
      const other = await h.inject({
        method: 'PUT',
        url: `/v1/tenants/${t.id}`,
        payload: { spec: { provider: 'docker', config: {} } },
      });
      assert.equal(other.statusCode, 400);
      assert.equal(other.json<Problem>().errors?.[0]?.path, 'spec.provider');
      await h.inject({ method: 'DELETE', url: `/v1/tenants/${t.id}` });
      const late = await h.inject({
        method: 'PUT',
        url: `/v1/tenants/${t.id}`,
        payload: { spec: { config: { image: 'z' } } },
      });
      assert.equal(late.statusCode, 409);
      assert.equal(late.json<Problem>().code, 'CONFLICT');
    });

    h.test(
      'PATCH merges into the spec (merge-patch+json and json), null removes, secrets survive',
      async () => {
        const t = await create(h, { image: 'nginx', env: { A: '1', B: '2' }, secretEnv: { KEY: 's3cret' } });
        const patch = { spec: { config: { env: { B: null, C: '3' } }, labels: { team: 'x' } } };
        const res = await h.inject({
          method: 'PATCH',
          url: `/v1/tenants/${t.name}`,
          headers: MERGE,
          payload: JSON.stringify(patch),
        });
        assert.equal(res.statusCode, 202, res.body);
        assert.deepEqual(res.json<Tenant>().spec.config, {
          image: 'nginx',
          env: { A: '1', C: '3' },
          secretEnv: { KEY: '***' },
        });
        assert.deepEqual(res.json<Tenant>().spec.labels, { team: 'x' });
        const stored = await h.store().tenants.get(t.id);
        assert.deepEqual(stored?.spec.config.secretEnv, { KEY: 's3cret' });
        const json = await h.inject({
          method: 'PATCH',
          url: `/v1/tenants/${t.name}`,
          payload: { spec: { paused: true } },
        });
        assert.equal(json.statusCode, 202);
        assert.equal(json.json<Tenant>().spec.paused, true);
        const empty = await h.inject({ method: 'PATCH', url: `/v1/tenants/${t.name}`, payload: {} });
        assert.equal(empty.statusCode, 200);
      },
    );

    h.test('PUT with "***" placeholders keeps the stored secrets', async () => {
      const t = await create(h, { image: 'nginx', secretEnv: { KEY: 's3cret', OTHER: 'x' } });
      const read = (await h.inject({ method: 'GET', url: `/v1/tenants/${t.id}` })).json<Tenant>();
      const spec = {
        ...read.spec,
        config: { ...read.spec.config, image: 'nginx:2', secretEnv: { KEY: '***', OTHER: 'new' } },
      };
      const res = await h.inject({ method: 'PUT', url: `/v1/tenants/${t.id}`, payload: { spec } });
      assert.equal(res.statusCode, 202, res.body);
      const stored = await h.store().tenants.get(t.id);
      assert.deepEqual(stored?.spec.config.secretEnv, { KEY: 's3cret', OTHER: 'new' });
    });

    h.test('PATCH: only spec is writable; the patched spec is validated strictly', async () => {
      const t = await create(h);
      for (const payload of [
        { status: { phase: 'ready' } },
        { generation: 9 },
        { name: 'other' },
        { version: 1 },
      ]) {
        const res = await h.inject({
          method: 'PATCH',
          url: `/v1/tenants/${t.id}`,
          headers: MERGE,
          payload: JSON.stringify(payload),
        });
        assert.equal(res.statusCode, 400, JSON.stringify(payload));
        assert.equal(res.json<Problem>().code, 'VALIDATION_FAILED');
      }
      const unknown = await h.inject({
        method: 'PATCH',
        url: `/v1/tenants/${t.id}`,
        payload: { spec: { bogus: 1 } },
      });
      assert.equal(unknown.statusCode, 400);
      assert.equal(unknown.json<Problem>().errors?.[0]?.path, 'spec.bogus');
      const badConfig = await h.inject({
        method: 'PATCH',
        url: `/v1/tenants/${t.id}`,
        payload: { spec: { config: { ports: 'x' } } },
      });
      assert.equal(badConfig.statusCode, 400);
      assert.equal((await h.store().tenants.get(t.id))?.version, t.version, 'nothing stored');
    });

    h.test(
      'DELETE: 202 deleting, idempotent; archived → 200; purge only when archived (409) → 204',
      async () => {
        const t = await create(h);
        const purgeEarly = await h.inject({ method: 'DELETE', url: `/v1/tenants/${t.id}?purge=true` });
        assert.equal(purgeEarly.statusCode, 409);
        assert.equal(purgeEarly.json<Problem>().code, 'CONFLICT');
        const del = await h.inject({ method: 'DELETE', url: `/v1/tenants/${t.id}` });
        assert.equal(del.statusCode, 202);
        assert.equal(del.json<Tenant>().status.phase, 'deleting');
        assert.deepEqual(h.trigger().calls.at(-1), [t.id, 'api']);
        const again = await h.inject({ method: 'DELETE', url: `/v1/tenants/${t.id}` });
        assert.equal(again.statusCode, 202);
        assert.equal(again.json<Tenant>().version, del.json<Tenant>().version);
        await moveTo(h, t.id, 'archived');
        const archived = await h.inject({ method: 'DELETE', url: `/v1/tenants/${t.id}` });
        assert.equal(archived.statusCode, 200);
        const listed = (q: string) => h.inject({ method: 'GET', url: `/v1/tenants?q=${t.name}${q}` });
        assert.equal((await listed('')).json<TenantList>().items.length, 0, 'archived tenants are hidden');
        assert.equal((await listed('&includeArchived=true')).json<TenantList>().items.length, 1);
        const purge = await h.inject({ method: 'DELETE', url: `/v1/tenants/${t.id}?purge=true` });
        assert.equal(purge.statusCode, 204);
        assert.equal(purge.body, '');
        assert.equal((await h.inject({ method: 'GET', url: `/v1/tenants/${t.id}` })).statusCode, 404);
      },
    );

    h.test('DELETE events record who asked', async () => {
      const t = await create(h);
      await h.inject({ method: 'DELETE', url: `/v1/tenants/${t.id}`, token: 'operator' });
      const events = (
        await h.inject({ method: 'GET', url: `/v1/tenants/${t.id}/events` })
      ).json<TenantEventList>().items;
      const types = events.map((e: { type: string }) => e.type);
      assert.ok(types.includes('DeleteRequested') && types.includes('PhaseChanged'), types.join());
      const mine = events.filter((e: { type: string }) => e.type !== 'Created');
      assert.ok(mine.every((e: { actor: string }) => e.actor === 'api:operator-bot'));
    });

    h.test(
      'retry: only from failed (409 INVALID_TRANSITION otherwise); picks provisioning/updating/deleting',
      async () => {
        const t = await create(h);
        const early = await h.inject({ method: 'POST', url: `/v1/tenants/${t.id}/retry` });
        assert.equal(early.statusCode, 409);
        assert.equal(early.json<Problem>().code, 'INVALID_TRANSITION');
        await moveTo(h, t.id, 'failed');
        const retry = await h.inject({ method: 'POST', url: `/v1/tenants/${t.id}/retry` });
        assert.equal(retry.statusCode, 202, retry.body);
        assert.equal(retry.json<Tenant>().status.phase, 'provisioning');
        assert.deepEqual(h.trigger().calls.at(-1), [t.id, 'retry']);

        const u = await create(h);
        await h.store().tenants.change(u.id, { actor: 'test', phase: { to: 'provisioning', reason: 'T' } });
        await h.store().tenants.change(u.id, {
          actor: 'test',
          phase: { to: 'ready', reason: 'T' },
          status: { observedGeneration: 1 },
        });
        await moveTo(h, u.id, 'updating', 'failed');
        assert.equal(
          (await h.inject({ method: 'POST', url: `/v1/tenants/${u.id}/retry` })).json<Tenant>().status.phase,
          'updating',
        );

        const d = await create(h);
        const workflow = { runId: 'r', action: 'delete' as const, state: 'failed' as const, attempt: 1 };
        await h.store().tenants.change(d.id, {
          actor: 'test',
          phase: { to: 'deleting', reason: 'T' },
          status: { workflow },
        });
        await moveTo(h, d.id, 'failed');
        assert.equal(
          (await h.inject({ method: 'POST', url: `/v1/tenants/${d.id}/retry` })).json<Tenant>().status.phase,
          'deleting',
        );
      },
    );
  });
}
