/**
 * `GET /v1/tenants/{idOrName}` through the rendered-document cache: never a stale document, whoever
 * wrote (this server, another server on the same database, the store directly), secrets masked
 * on hits and misses alike, and the cache's byte budget.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { backends } from '../store/testing/test-databases.js';
import { createApiServer } from './server.js';
import { TenantDocumentCache } from './tenant-documents.js';
import { apiDeps, apiSuite, tenantBody, testApiOptions, TOKENS, uniqueName } from './testing/api-harness.js';
import type { Tenant } from './types.js';

const ADMIN = { authorization: `Bearer ${TOKENS.admin}` };
const MERGE = { ...ADMIN, 'content-type': 'application/merge-patch+json' };

test('the document cache keeps its byte budget, dropping the least recently used first', () => {
  const cache = new TenantDocumentCache(10);
  const entry = (body: string) => ({ id: body, version: 1, body });
  cache.put('a', entry('aaaa'));
  cache.put('b', entry('bbbb'));
  cache.touch('a', cache.get('a')!);
  cache.put('c', entry('cccc'));
  assert.equal(cache.get('b'), undefined, 'b was the least recently used');
  assert.deepEqual([cache.get('a')?.body, cache.get('c')?.body], ['aaaa', 'cccc']);
  assert.deepEqual(cache.stats(), { entries: 2, size: 8 });
  cache.put('a', entry('a'));
  assert.deepEqual(cache.stats(), { entries: 2, size: 5 }, 'a replaced entry gives back its size');
  cache.put('big', entry('x'.repeat(11)));
  assert.equal(cache.get('big'), undefined, 'a document above the whole budget is not kept');
  assert.deepEqual(cache.stats(), { entries: 2, size: 5 });
  cache.drop('c');
  assert.deepEqual(cache.stats(), { entries: 1, size: 1 });
});

for (const backend of backends()) {
  apiSuite(backend, 'tenant documents', (h) => {
    const get = async (app: FastifyInstance, idOrName: string) => {
      const res = await app.inject({ method: 'GET', url: `/v1/tenants/${idOrName}`, headers: ADMIN });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      const tenant = res.json<Tenant>();
      assert.equal(res.headers.etag, `"${tenant.version}"`, 'the ETag is the version served');
      return { tenant, body: res.body };
    };
    const create = async (config: Record<string, unknown> = { image: 'app:1' }) => {
      const name = uniqueName('doc');
      const res = await h.inject({ method: 'POST', url: '/v1/tenants', payload: tenantBody(name, config) });
      assert.equal(res.statusCode, 201, res.body);
      return res.json<Tenant>();
    };

    h.test('a repeated GET answers the same bytes; a write by anyone is seen by the next GET', async () => {
      const created = await create();
      const first = await get(h.app(), created.name);
      assert.deepEqual(first.tenant, created);
      assert.equal((await get(h.app(), created.name)).body, first.body, 'same version, same bytes');
      // A writer this server never hears about: the store, as another replica would write.
      await h.store().tenants.change(created.id, {
        actor: 'test',
        spec: { ...(await h.store().tenants.get(created.id))!.spec, labels: { tier: 'pro' } },
      });
      for (const lookup of [created.name, created.id]) {
        const { tenant } = await get(h.app(), lookup);
        assert.equal(tenant.version, 2, `by ${lookup}`);
        assert.deepEqual(tenant.spec.labels, { tier: 'pro' }, `by ${lookup}`);
      }
    });

    h.test(
      'another server on the same database writes; this one never serves the older version',
      async () => {
        const other = await createApiServer(apiDeps(h.store()), testApiOptions());
        try {
          const created = await create();
          await get(h.app(), created.name);
          const res = await other.inject({
            method: 'PATCH',
            url: `/v1/tenants/${created.name}`,
            headers: { ...MERGE, 'if-match': `"${created.version}"` },
            payload: JSON.stringify({ spec: { labels: { moved: 'yes' } } }),
          });
          assert.equal(res.statusCode, 202, res.body);
          const { tenant, body } = await get(h.app(), created.name);
          assert.equal(tenant.version, res.json<Tenant>().version);
          assert.equal(body, res.body, 'the same document the writing server answered');
          // The name is freed (archived) and taken by a new tenant: the name now means that tenant.
          await h.store().tenants.change(created.id, {
            actor: 'test',
            phase: { to: 'deleting', reason: 'DeleteRequested' },
          });
          await h
            .store()
            .tenants.change(created.id, { actor: 'test', phase: { to: 'archived', reason: 'Deleted' } });
          const gone = await h.inject({ method: 'GET', url: `/v1/tenants/${created.name}` });
          assert.equal(gone.statusCode, 404, gone.body);
          const again = await h.inject({
            method: 'POST',
            url: '/v1/tenants',
            payload: tenantBody(created.name),
          });
          assert.equal(again.statusCode, 201, again.body);
          const reused = await get(h.app(), created.name);
          assert.equal(reused.tenant.id, again.json<Tenant>().id);
          assert.equal((await get(h.app(), created.id)).tenant.status.phase, 'archived');
        } finally {
          await other.close();
        }
      },
    );

    h.test('secret values read "***" from a fresh render and from the cache', async () => {
      const created = await create({ image: 'app:1', secretEnv: { TOKEN: 'hunter2-doc' } });
      for (const lookup of [created.name, created.name, created.id, created.id]) {
        const { tenant, body } = await get(h.app(), lookup);
        assert.deepEqual(tenant.spec.config.secretEnv, { TOKEN: '***' }, `by ${lookup}`);
        assert.ok(!body.includes('hunter2-doc'), `by ${lookup}: the secret never reaches the wire`);
      }
    });
  });
}
