/** Conformance: `tenants.list` — keyset pages and every filter, alone and combined. */
import assert from 'node:assert/strict';
import { ValidationError } from '../../domain/errors.js';
import type { Tenant } from '../../domain/tenant.js';
import type { Store, TenantListQuery } from '../store.js';
import { archive } from './tenant-basics.js';
import { specOf, unique, type Conformance } from './harness.js';

/** Every page of `query`, following cursors. */
async function listAll(
  store: Store,
  query: Omit<TenantListQuery, 'cursor'>,
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.tenants.list({ ...query, cursor });
    ids.push(...page.items.map((t) => t.id));
    cursor = page.nextCursor ?? undefined;
    pages += 1;
  } while (cursor !== undefined);
  return { ids, pages };
}

async function createMany(
  store: Store,
  count: number,
  make: (i: number) => { name?: string; labels?: Record<string, string>; provider: string },
): Promise<Tenant[]> {
  const tenants: Tenant[] = [];
  for (let i = 0; i < count; i++) {
    const { name, labels, provider } = make(i);
    tenants.push(
      await store.tenants.create({
        name: name ?? unique('t'),
        spec: specOf({ provider, labels: labels ?? {} }),
        actor: 'test',
      }),
    );
  }
  return tenants;
}

export function tenantListing(c: Conformance): void {
  c.test('pages cover every tenant exactly once, in id order', async () => {
    const provider = unique('pages');
    const tenants = await createMany(c.store(), 23, () => ({ provider }));
    const { ids, pages } = await listAll(c.store(), { limit: 5, provider });
    assert.equal(pages, 5);
    assert.deepEqual(ids, tenants.map((t) => t.id).sort());
    const exact = await c.store().tenants.list({ limit: 23, provider });
    assert.equal(exact.items.length, 23);
    assert.equal(exact.nextCursor, null);
  });

  c.test('phase filter, and archived tenants only when asked for', async () => {
    const store = c.store();
    const provider = unique('phases');
    const [a, b, d] = await createMany(store, 3, () => ({ provider }));
    await store.tenants.change(a!.id, { actor: 'test', phase: { to: 'provisioning', reason: 'r' } });
    await archive(store, d!.id);
    const ids = async (q: Partial<TenantListQuery>) =>
      (await listAll(store, { limit: 2, provider, ...q })).ids;
    assert.deepEqual(await ids({ phase: 'provisioning' }), [a!.id]);
    assert.deepEqual(await ids({ phase: 'requested' }), [b!.id]);
    assert.deepEqual(await ids({}), [a!.id, b!.id].sort());
    assert.deepEqual(await ids({ includeArchived: true }), [a!.id, b!.id, d!.id].sort());
    assert.deepEqual(await ids({ phase: 'archived' }), [d!.id]);
  });

  c.test('name prefix is an exact byte-wise prefix (hyphens included)', async () => {
    const store = c.store();
    const base = unique('np');
    const provider = unique('prefix');
    const names = [`${base}-a`, `${base}-b`, `${base}a`, `${base}0`, `${base}`];
    const tenants = await createMany(store, names.length, (i) => ({ provider, name: names[i]! }));
    const byName = (prefix: string) =>
      listAll(store, { limit: 2, namePrefix: prefix }).then((r) => r.ids.sort());
    const idsOf = (...n: number[]) => n.map((i) => tenants[i]!.id).sort();
    assert.deepEqual(await byName(`${base}-`), idsOf(0, 1));
    assert.deepEqual(await byName(base), idsOf(0, 1, 2, 3, 4));
    assert.deepEqual(await byName(`${base}a`), idsOf(2));
    assert.deepEqual(await byName(`${base}-a`), idsOf(0));
  });

  c.test('provider filter', async () => {
    const p1 = unique('prov');
    const p2 = unique('prov');
    const [a] = await createMany(c.store(), 1, () => ({ provider: p1 }));
    await createMany(c.store(), 2, () => ({ provider: p2 }));
    assert.deepEqual((await listAll(c.store(), { limit: 10, provider: p1 })).ids, [a!.id]);
    assert.equal((await listAll(c.store(), { limit: 1, provider: p2 })).ids.length, 2);
  });

  c.test(
    'label selector: = needs the pair, != excludes the pair (and keeps tenants without the key)',
    async () => {
      const store = c.store();
      const provider = unique('labels');
      const labelSets: Record<string, string>[] = [
        { tier: 'pro', plan: 'x' },
        { tier: 'free', plan: 'x' },
        { plan: 'y' },
        { tier: 'pro', plan: 'y' },
      ];
      const t = await createMany(store, labelSets.length, (i) => ({ provider, labels: labelSets[i]! }));
      const ids = (labels: TenantListQuery['labels']) =>
        listAll(store, { limit: 3, provider, labels }).then((r) => r.ids);
      const idsOf = (...n: number[]) => n.map((i) => t[i]!.id).sort();
      assert.deepEqual(await ids([{ key: 'tier', op: '=', value: 'pro' }]), idsOf(0, 3));
      assert.deepEqual(await ids([{ key: 'tier', op: '!=', value: 'free' }]), idsOf(0, 2, 3));
      assert.deepEqual(
        await ids([
          { key: 'tier', op: '=', value: 'pro' },
          { key: 'plan', op: '!=', value: 'y' },
        ]),
        idsOf(0),
      );
      assert.deepEqual(await ids([{ key: 'nope', op: '=', value: 'pro' }]), []);
    },
  );

  c.test('filters combine with pagination', async () => {
    const store = c.store();
    const provider = unique('combo');
    const t = await createMany(store, 12, (i) => ({ provider, labels: { even: String(i % 2 === 0) } }));
    const { ids, pages } = await listAll(store, {
      limit: 2,
      provider,
      labels: [{ key: 'even', op: '=', value: 'true' }],
    });
    assert.deepEqual(
      ids,
      t
        .filter((_, i) => i % 2 === 0)
        .map((x) => x.id)
        .sort(),
    );
    assert.equal(pages, 3);
  });

  c.test(
    'label filters across pages: every matching tenant exactly once, = and != alone and combined',
    async () => {
      const store = c.store();
      const provider = unique('lpages');
      const k = unique('k');
      const k2 = unique('k');
      const t = await createMany(store, 17, (i) => ({
        provider,
        labels: { [k]: i % 3 === 0 ? 'a' : 'b', [k2]: i % 2 === 0 ? 'x' : 'y' },
      }));
      const expected = (keep: (i: number) => boolean) =>
        t
          .filter((_, i) => keep(i))
          .map((x) => x.id)
          .sort();
      const cases: [Omit<TenantListQuery, 'cursor'>, (i: number) => boolean][] = [
        [{ limit: 2, labels: [{ key: k, op: '=', value: 'a' }] }, (i) => i % 3 === 0],
        [
          {
            limit: 2,
            labels: [
              { key: k, op: '=', value: 'b' },
              { key: k2, op: '=', value: 'x' },
            ],
          },
          (i) => i % 3 !== 0 && i % 2 === 0,
        ],
        [{ limit: 3, provider, labels: [{ key: k, op: '!=', value: 'a' }] }, (i) => i % 3 !== 0],
        [
          {
            limit: 2,
            provider,
            labels: [
              { key: k2, op: '!=', value: 'x' },
              { key: k, op: '=', value: 'b' },
            ],
          },
          (i) => i % 3 !== 0 && i % 2 !== 0,
        ],
      ];
      for (const [query, keep] of cases) {
        const want = expected(keep);
        const { ids, pages } = await listAll(store, query);
        assert.deepEqual(ids, want, JSON.stringify(query.labels));
        assert.equal(pages, Math.max(1, Math.ceil(want.length / query.limit)));
        const viewed: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.tenants.listForView({ ...query, cursor });
          viewed.push(...page.items.map((item) => (item.unchanged ? item.held.id : item.tenant.id)));
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined);
        assert.deepEqual(viewed, want);
      }
    },
  );

  c.test('a cursor this server did not issue is a ValidationError', async () => {
    await assert.rejects(c.store().tenants.list({ limit: 5, cursor: 'not-a-cursor' }), ValidationError);
  });
}
