import assert from 'node:assert/strict';
import { backends } from '../store/testing/test-databases.js';
import { apiSuite, tenantBody, uniqueName, type ApiHarness } from './testing/api-harness.js';
import type { Problem, Tenant } from './types.js';

interface AuditRecord {
  id: string;
  at: string;
  actor: string;
  action: string;
  targetId: string;
  targetName: string;
  details: Record<string, unknown>;
}
interface AuditList {
  items: AuditRecord[];
  nextCursor: string | null;
}

async function archivedTenant(h: ApiHarness, name = uniqueName('gone')): Promise<Tenant> {
  const res = await h.inject({ method: 'POST', url: '/v1/tenants', payload: tenantBody(name) });
  assert.equal(res.statusCode, 201, res.body);
  const tenant = res.json<Tenant>();
  for (const to of ['deleting', 'archived'] as const)
    await h.store().tenants.change(tenant.id, { actor: 'test', phase: { to, reason: 'Test' } });
  return tenant;
}

const purge = (h: ApiHarness, idOrName: string, token: 'admin' | 'operator' = 'admin') =>
  h.inject({ method: 'DELETE', url: `/v1/tenants/${idOrName}?purge=true`, token });

async function auditOf(h: ApiHarness, tenantId: string): Promise<AuditRecord[]> {
  const res = await h.inject({ method: 'GET', url: '/v1/audit?limit=500' });
  assert.equal(res.statusCode, 200, res.body);
  return res.json<AuditList>().items.filter((r) => r.targetId === tenantId);
}

for (const backend of backends()) {
  apiSuite(backend, 'purge: admin only, audited, by id or name', (h) => {
    h.test('an operator may not purge (403); the tenant stays and nothing is audited', async () => {
      const tenant = await archivedTenant(h);
      const res = await purge(h, tenant.id, 'operator');
      assert.equal(res.statusCode, 403, res.body);
      assert.equal(res.json<Problem>().code, 'FORBIDDEN');
      assert.ok(await h.store().tenants.get(tenant.id));
      assert.deepEqual(await auditOf(h, tenant.id), []);
    });

    h.test('an admin purge answers 204 and leaves an audit record: who purged what, when', async () => {
      const tenant = await archivedTenant(h);
      const started = new Date().toISOString();
      assert.equal((await purge(h, tenant.id)).statusCode, 204);
      assert.equal(await h.store().tenants.get(tenant.id), undefined);
      const [record, ...more] = await auditOf(h, tenant.id);
      assert.deepEqual(more, []);
      assert.equal(record?.action, 'tenant.purge');
      assert.equal(record?.actor, 'api:admin-bot');
      assert.equal(record?.targetName, tenant.name);
      assert.ok(record && record.at >= started);
      assert.equal(record?.details.createdAt, tenant.createdAt);
    });

    h.test('GET /v1/audit is admin only and pages with a cursor', async () => {
      for (const token of ['operator', 'viewer'] as const) {
        const res = await h.inject({ method: 'GET', url: '/v1/audit', token });
        assert.equal(res.statusCode, 403, token);
      }
      await archivedTenant(h).then((t) => purge(h, t.id));
      await archivedTenant(h).then((t) => purge(h, t.id));
      const first = await h.inject({ method: 'GET', url: '/v1/audit?limit=1' });
      const page = first.json<AuditList>();
      assert.equal(page.items.length, 1);
      assert.ok(page.nextCursor);
      const next = await h.inject({
        method: 'GET',
        url: `/v1/audit?limit=1&cursor=${encodeURIComponent(page.nextCursor)}`,
      });
      assert.equal(next.statusCode, 200);
      assert.ok(next.json<AuditList>().items[0]!.id < page.items[0]!.id, 'newest first');
    });

    h.test('purge by name finds the archived tenant of that name, even with a live namesake', async () => {
      const name = uniqueName('byname');
      const tenant = await archivedTenant(h, name);
      const live = await h.inject({ method: 'POST', url: '/v1/tenants', payload: tenantBody(name) });
      assert.equal(live.statusCode, 201);
      const res = await purge(h, name);
      assert.equal(res.statusCode, 204, res.body);
      assert.equal(await h.store().tenants.get(tenant.id), undefined);
      assert.equal((await h.store().tenants.get(name))?.id, live.json<Tenant>().id, 'the live one stays');
      assert.equal((await auditOf(h, tenant.id)).length, 1);
    });

    h.test('several archived tenants of one name: 409 listing their ids; by id then works', async () => {
      const name = uniqueName('twice');
      const first = await archivedTenant(h, name);
      const second = await archivedTenant(h, name);
      const res = await purge(h, name);
      assert.equal(res.statusCode, 409, res.body);
      const problem = res.json<Problem>();
      assert.equal(problem.code, 'CONFLICT');
      assert.match(problem.detail, new RegExp(`${second.id}, ${first.id}`));
      assert.equal(problem.errors?.length, 2);
      assert.equal((await purge(h, second.id)).statusCode, 204);
      assert.equal((await purge(h, name)).statusCode, 204, 'one left: the name is unambiguous again');
      assert.equal(await h.store().tenants.get(first.id), undefined);
    });

    h.test('a live tenant is 409, an unknown name 404', async () => {
      const name = uniqueName('alive');
      await h.inject({ method: 'POST', url: '/v1/tenants', payload: tenantBody(name) });
      const live = await purge(h, name);
      assert.equal(live.statusCode, 409);
      assert.match(live.json<Problem>().detail, /only an archived tenant can be purged/);
      assert.equal((await purge(h, uniqueName('nobody'))).statusCode, 404);
    });

    h.test('the OpenAPI document describes GET /v1/audit and the AuditRecord schema', async () => {
      const res = await h.inject({ method: 'GET', url: '/openapi.json', token: null });
      const doc = res.json<{
        paths: Record<string, Record<string, unknown>>;
        components: { schemas: object };
      }>();
      assert.ok(doc.paths['/v1/audit']?.get);
      assert.ok('AuditRecord' in doc.components.schemas);
      assert.ok('AuditRecordList' in doc.components.schemas);
    });
  });
}
