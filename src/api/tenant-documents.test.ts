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
import { RecentKeys, TenantDocumentCache } from './tenant-documents.js';
import { apiDeps, apiSuite, tenantBody, testApiOptions, TOKENS, uniqueName } from './testing/api-harness.js';
import type { Tenant } from './types.js';

const ADMIN = { authorization: `Bearer ${TOKENS.admin}` };
const MERGE = { ...ADMIN, 'content-type': 'application/merge-patch+json' };

test('the document cache keeps its byte budget, dropping the least recently used first', () => {
  const cache = new TenantDocumentCache(10);
  const entry = (body: string) => ({ id: body, version: 1, body, etag: '"1"' });
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
  const replaced = cache.get('a')!;
  cache.put('a', entry('aa'));
  cache.touch('a', replaced);
  assert.equal(cache.get('a')?.body, 'aa', 'touching a replaced entry does not bring it back');
  cache.drop('a');
  cache.touch('a', replaced);
  assert.deepEqual(cache.stats(), { entries: 0, size: 0 }, 'nor does touching a dropped one');
  cache.offer('x', entry('xxxxxx'));
  cache.offer('y', entry('yyyyy'));
  assert.deepEqual([cache.get('x')?.body, cache.get('y')], ['xxxxxx', undefined], 'an offer never evicts');
  cache.offer('x', entry('xxxxxxx'));
  assert.equal(cache.get('x')?.body, 'xxxxxxx', 'an offer replaces a held entry when it fits');
  cache.put('z', entry('zzz'));
  cache.offer('x', entry('x'.repeat(8)));
  assert.equal(cache.get('x'), undefined, 'a held entry that cannot be replaced is dropped');
  assert.deepEqual(cache.stats(), { entries: 1, size: 3 });
});

test('once the document cache is full, a miss evicts only for a key that missed recently', () => {
  const cache = new TenantDocumentCache(10);
  const entry = (body: string, version = 1) => ({ id: body[0]!, version, body, etag: `"${version}"` });
  cache.admit('a', entry('aaaa'));
  cache.admit('b', entry('bbbb'));
  assert.deepEqual(cache.stats(), { entries: 2, size: 8 }, 'admitted while the budget has room');
  cache.admit('c', entry('cccc'));
  assert.equal(cache.get('c'), undefined, 'a first miss on a full cache evicts nothing');
  assert.deepEqual(cache.stats(), { entries: 2, size: 8 });
  cache.admit('d', entry('dddd'));
  cache.admit('c', entry('cccc'));
  assert.equal(cache.get('c')?.body, 'cccc', 'a second miss admits it');
  assert.deepEqual(cache.stats(), { entries: 2, size: 8 });
  cache.admit('c', entry('cccc', 2));
  assert.equal(cache.get('c')?.version, 2, 'a held key takes its newer version at once');
  const evicted = cache.get('a') ? 'b' : 'a';
  cache.admit(evicted, entry(evicted.repeat(4)));
  assert.equal(cache.get(evicted), undefined, 'an admitted key that was evicted starts over');
  cache.admit(evicted, entry(evicted.repeat(4)));
  assert.equal(cache.get(evicted)?.body, evicted.repeat(4));
});

/** A small deterministic generator, so a failing sequence can be replayed. */
function randomInts(seed: number): (below: number) => number {
  let state = seed;
  return (below) => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return Math.floor((state / 2 ** 32) * below);
  };
}

test('recent keys drop their oldest past the capacity, like a Set in insertion order', () => {
  const next = randomInts(7);
  for (const capacity of [1, 3, 16]) {
    const keys = new RecentKeys(capacity);
    const model = new Set<string>();
    for (let step = 0; step < 20_000; step++) {
      const key = `k${next(capacity * 3)}`;
      if (next(3) === 0) {
        assert.equal(keys.delete(key), model.delete(key), `delete ${key} at step ${step}`);
      } else {
        keys.add(key);
        model.add(key);
        if (model.size > capacity) model.delete(model.values().next().value!);
      }
      assert.equal(keys.size, model.size, `size at step ${step}`);
    }
    for (let k = 0; k < capacity * 3; k++) assert.equal(keys.has(`k${k}`), model.has(`k${k}`));
  }
});

/** The document cache as it was written on a `Map` in insertion order: the model of its eviction. */
class MapOrderCache {
  readonly slots = new Map<string, { body: string; used: boolean }>();
  size = 0;
  constructor(private readonly budget: number) {}
  touch(key: string): void {
    const slot = this.slots.get(key);
    if (slot) slot.used = true;
  }
  drop(key: string): void {
    const slot = this.slots.get(key);
    if (!slot) return;
    this.slots.delete(key);
    this.size -= slot.body.length;
  }
  put(key: string, body: string): void {
    this.drop(key);
    if (body.length > this.budget) return;
    this.slots.set(key, { body, used: false });
    this.size += body.length;
    for (const [oldest, slot] of this.slots) {
      if (this.size <= this.budget) break;
      this.slots.delete(oldest);
      if (slot.used) {
        slot.used = false;
        this.slots.set(oldest, slot);
      } else {
        this.size -= slot.body.length;
      }
    }
  }
}

test('the document cache evicts in second-chance order, as a map in insertion order would', () => {
  const next = randomInts(11);
  const budget = 60;
  const cache = new TenantDocumentCache(budget);
  const model = new MapOrderCache(budget);
  for (let step = 0; step < 50_000; step++) {
    const key = `t${next(40)}`;
    const op = next(10);
    if (op < 4) {
      const entry = cache.get(key);
      if (entry) cache.touch(key, entry);
      model.touch(key);
    } else if (op < 5) {
      cache.drop(key);
      model.drop(key);
    } else {
      const body = key.repeat(1 + next(4));
      cache.put(key, { id: key, version: step, body, etag: `"${step}"` });
      model.put(key, body);
    }
    assert.deepEqual(cache.stats(), { entries: model.slots.size, size: model.size }, `step ${step}`);
  }
  for (let k = 0; k < 40; k++) assert.equal(cache.get(`t${k}`)?.body, model.slots.get(`t${k}`)?.body);
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

    h.test('list pages reuse renderings only while each row keeps its version', async () => {
      const prefix = uniqueName('page');
      const tenants = [];
      for (const i of [1, 2, 3]) {
        const res = await h.inject({
          method: 'POST',
          url: '/v1/tenants',
          payload: tenantBody(`${prefix}-${i}`, { image: 'app:1', secretEnv: { TOKEN: 'hunter2-page' } }),
        });
        assert.equal(res.statusCode, 201, res.body);
        tenants.push(res.json<Tenant>());
      }
      const page = async () => {
        const res = await h.inject({ method: 'GET', url: `/v1/tenants?q=${prefix}&limit=2` });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
        assert.ok(!res.body.includes('hunter2-page'), 'the secret never reaches the wire');
        return res;
      };
      const first = await page();
      const { items, nextCursor } = first.json<{ items: Tenant[]; nextCursor: string | null }>();
      assert.deepEqual(items, tenants.slice(0, 2), 'the items as POST answered them');
      assert.equal(typeof nextCursor, 'string');
      assert.equal((await page()).body, first.body, 'unchanged rows, same bytes');
      // Each item GET by id shares the list's renderings; a write by another writer shows at once.
      assert.deepEqual((await get(h.app(), tenants[0]!.id)).tenant, tenants[0]);
      await h.store().tenants.change(tenants[1]!.id, {
        actor: 'test',
        spec: { ...(await h.store().tenants.get(tenants[1]!.id))!.spec, labels: { tier: 'pro' } },
      });
      const after = (await page()).json<{ items: Tenant[] }>().items;
      assert.equal(after[0]!.version, 1);
      assert.equal(after[1]!.version, 2);
      assert.deepEqual(after[1]!.spec.labels, { tier: 'pro' });
      assert.deepEqual(after[1]!.spec.config.secretEnv, { TOKEN: '***' });
      const last = await h.inject({
        method: 'GET',
        url: `/v1/tenants?q=${prefix}&limit=2&cursor=${encodeURIComponent(nextCursor!)}`,
      });
      assert.deepEqual(last.json(), { items: [tenants[2]], nextCursor: null });
    });

    h.test('secret values read "***" from a fresh render and from the cache', async () => {
      const created = await create({ image: 'app:1', secretEnv: { TOKEN: 'hunter2-doc' } });
      for (const lookup of [created.name, created.name, created.id, created.id]) {
        const { tenant, body } = await get(h.app(), lookup);
        assert.deepEqual(tenant.spec.config.secretEnv, { TOKEN: '***' }, `by ${lookup}`);
        assert.ok(!body.includes('hunter2-doc'), `by ${lookup}: the secret never reaches the wire`);
      }
    });

    h.test(
      "a document written from the row's texts is the one the write answered, byte for byte",
      async () => {
        // No secret field: a miss writes the document from the stored texts (tenant-document-text.ts).
        const created = await create({ image: 'app:1', env: { GREETING: 'grüß dich 😀 "quoted" \\ \n' } });
        const res = await h.inject({
          method: 'PATCH',
          url: `/v1/tenants/${created.name}`,
          headers: { ...MERGE, 'if-match': `"${created.version}"` },
          payload: JSON.stringify({ spec: { labels: { tier: 'pro' }, annotations: { note: 'ünïcode ✓' } } }),
        });
        assert.equal(res.statusCode, 202, res.body);
        // A fresh server: its cache holds nothing, so its first GET is a miss.
        const fresh = await createApiServer(apiDeps(h.store()), testApiOptions());
        try {
          for (const lookup of [created.name, created.id]) {
            assert.equal((await get(fresh, lookup)).body, res.body, `by ${lookup}`);
          }
        } finally {
          await fresh.close();
        }
      },
    );
  });
}
