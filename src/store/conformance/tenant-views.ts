/**
 * Conformance: `tenants.getForView` — the read behind `GET /v1/tenants/{idOrName}`. Secret values
 * come back masked without being opened, and a held document is found current only when the
 * database's row is still at that id and version: with two stores on one database (two replicas),
 * a write through one is never hidden from a reader holding an older document in the other. The
 * module opens its own stores on the group's database (secrets need a key ring).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { FAKE_CONFIG_SCHEMA } from '../../compute/providers/fake/index.js';
import { mapSecretValues, mayHoldSecrets } from '../../compute/secrets.js';
import { SecretKeyRing, SecretsError } from '../../domain/secret-key-ring.js';
import type { Tenant } from '../../domain/tenant.js';
import { createStore } from '../create-store.js';
import type { SecretFields } from '../sealed-specs.js';
import type { HeldVersion, Store, TenantDocumentRead } from '../store.js';
import { specOf, unique, type Conformance } from './harness.js';
import { archive } from './tenant-basics.js';

const fields: SecretFields = {
  mapSecrets: (_provider, config, fn) => mapSecretValues(FAKE_CONFIG_SCHEMA, config, fn),
  mayHoldSecrets: (_provider, text) => mayHoldSecrets(FAKE_CONFIG_SCHEMA, text),
};

const held = (tenant: Pick<Tenant, 'id' | 'version'>): HeldVersion => ({
  id: tenant.id,
  version: tenant.version,
});

/**
 * The tenant a view read sent, after checking that its document is that tenant: the scalars, the
 * status text, and a spec text only as the masked spec itself.
 */
function tenantOf(read: TenantDocumentRead | undefined, reason: string): Tenant {
  assert.ok(read, `${reason}: the tenant is found`);
  assert.equal(read.unchanged, false, `${reason}: the document is sent`);
  const { document } = read;
  const tenant = document.tenant();
  const { id, name, generation, version, createdAt, updatedAt } = tenant;
  assert.deepEqual(
    {
      id: document.id,
      name: document.name,
      generation: document.generation,
      version: document.version,
      createdAt: document.createdAt,
      updatedAt: document.updatedAt,
    },
    { id, name, generation, version, createdAt, updatedAt },
    reason,
  );
  assert.deepEqual(JSON.parse(document.statusText), tenant.status, reason);
  if (document.specText !== undefined) assert.deepEqual(JSON.parse(document.specText), tenant.spec, reason);
  return tenant;
}

/** The spec text a view read handed out (undefined: it may hold a secret value). */
async function specTextOf(store: Store, lookup: string): Promise<string | undefined> {
  const read = await store.tenants.getForView(lookup);
  assert.ok(read && !read.unchanged);
  return read.document.specText;
}

export function tenantViews(c: Conformance): void {
  const opened: Store[] = [];
  const open = async (key: Buffer): Promise<Store> => {
    const store = await createStore({
      url: c.database().url,
      secrets: { ring: new SecretKeyRing([key]), fields },
    });
    opened.push(store);
    return store;
  };
  const closeAll = () => Promise.all(opened.splice(0).map((s) => s.close()));
  const key = randomBytes(32);

  c.test('secret values read back masked, without being opened', async () => {
    try {
      const store = await open(key);
      const name = unique('view-secret');
      const spec = specOf({ config: { image: 'app:1', secretEnv: { TOKEN: 'hunter2' }, env: { A: 'b' } } });
      const created = await store.tenants.create({ name, spec, actor: 'test' });
      // A store whose key cannot open the values still serves the view: nothing is decrypted.
      const stranger = await open(randomBytes(32));
      await assert.rejects(stranger.tenants.get(created.id), SecretsError);
      for (const reader of [store, stranger]) {
        for (const lookup of [created.id, name]) {
          const tenant = tenantOf(await reader.tenants.getForView(lookup), `by ${lookup}`);
          assert.deepEqual(tenant, {
            ...created,
            spec: { ...spec, config: { image: 'app:1', secretEnv: { TOKEN: '***' }, env: { A: 'b' } } },
          });
          // A spec with a secret field in it is never handed out as its stored text.
          assert.equal(await specTextOf(reader, lookup), undefined);
        }
      }
    } finally {
      await closeAll();
    }
  });

  c.test('a spec is handed out as its stored text only when it names no secret field', async () => {
    try {
      const store = await open(key);
      const plain = specOf({ config: { image: 'app:1', env: { A: 'b' } }, labels: { tier: 'pro' } });
      const created = await store.tenants.create({ name: unique('view-text'), spec: plain, actor: 'test' });
      const text = await specTextOf(store, created.name);
      assert.ok(text !== undefined, 'a spec without secrets comes back as its text');
      assert.deepEqual(JSON.parse(text), plain);
      // An empty secret map holds no value, but its name is in the text: the store does not tell.
      const empty = specOf({ config: { image: 'app:1', secretEnv: {} } });
      const named = await store.tenants.create({ name: unique('view-text'), spec: empty, actor: 'test' });
      assert.equal(await specTextOf(store, named.name), undefined);
      // Secret fields that cannot tell whether a text holds secrets: never handed out.
      const blind = await createStore({
        url: c.database().url,
        secrets: {
          ring: new SecretKeyRing([key]),
          fields: { mapSecrets: (provider, config, fn) => fields.mapSecrets(provider, config, fn) },
        },
      });
      opened.push(blind);
      assert.equal(await specTextOf(blind, created.name), undefined);
    } finally {
      await closeAll();
    }
  });

  c.test('a held document is current only while the row keeps its id and version', async () => {
    try {
      const [one, two] = [await open(key), await open(key)];
      const name = unique('view-held');
      const created = await one.tenants.create({ name, spec: specOf(), actor: 'test' });
      for (const lookup of [created.id, name]) {
        assert.deepEqual(
          await one.tenants.getForView(lookup, held(created)),
          { unchanged: true, held: held(created) },
          `by ${lookup}: the held version is current`,
        );
      }
      // Another replica writes: the reader holding version 1 gets version 2 at once.
      await two.tenants.change(created.id, { actor: 'test', spec: specOf({ labels: { tier: 'pro' } }) });
      for (const lookup of [created.id, name]) {
        const tenant = tenantOf(await one.tenants.getForView(lookup, held(created)), `by ${lookup}`);
        assert.equal(tenant.version, 2);
        assert.deepEqual(tenant.spec.labels, { tier: 'pro' });
        assert.deepEqual(tenant, await two.tenants.get(created.id));
      }
      const other = await one.tenants.create({ name: unique('view-other'), spec: specOf(), actor: 'test' });
      const cases = [
        { reason: 'an older version', held: { id: created.id, version: 1 } },
        { reason: 'a newer version', held: { id: created.id, version: 3 } },
        { reason: "another tenant's id at the same version", held: { id: other.id, version: 2 } },
      ];
      for (const { reason, held: stale } of cases) {
        const tenant = tenantOf(await one.tenants.getForView(name, stale), reason);
        assert.equal(tenant.id, created.id, reason);
        assert.equal(tenant.version, 2, reason);
      }
    } finally {
      await closeAll();
    }
  });

  c.test(
    'a name reused after archiving reads the new tenant; unknown and archived names read nothing',
    async () => {
      try {
        const store = await open(key);
        const name = unique('view-reused');
        const first = await store.tenants.create({ name, spec: specOf(), actor: 'test' });
        await archive(store, first.id);
        const archived = tenantOf(await store.tenants.getForView(first.id), 'an archived tenant by id');
        assert.equal(archived.status.phase, 'archived');
        assert.equal(await store.tenants.getForView(name, held(archived)), undefined);
        const second = await store.tenants.create({ name, spec: specOf(), actor: 'test' });
        // Held: the archived tenant at version 1 — same name, same version, another row.
        const tenant = tenantOf(await store.tenants.getForView(name, held(first)), 'the reused name');
        assert.equal(tenant.id, second.id);
        assert.equal(await store.tenants.getForView(unique('view-none')), undefined);
      } finally {
        await closeAll();
      }
    },
  );

  c.test('a list for display masks secrets and reports rows still at their held version', async () => {
    try {
      const [one, two] = [await open(key), await open(key)];
      const prefix = unique('view-list');
      const spec = specOf({ config: { image: 'app:1', secretEnv: { TOKEN: 'hunter2' } } });
      const a = await one.tenants.create({ name: `${prefix}-a`, spec, actor: 'test' });
      const b = await one.tenants.create({ name: `${prefix}-b`, spec, actor: 'test' });
      const query = { limit: 10, namePrefix: prefix };
      const fresh = await one.tenants.listForView(query);
      assert.deepEqual(
        fresh.items.map((item) => (item.unchanged ? item.held : item.tenant.spec.config.secretEnv)),
        [{ TOKEN: '***' }, { TOKEN: '***' }],
      );
      await two.tenants.change(b.id, { actor: 'test', spec: { ...spec, labels: { tier: 'pro' } } });
      const held = new Map([
        [a.id, 1],
        [b.id, 1],
      ]);
      const page = await one.tenants.listForView(query, (id) => held.get(id));
      assert.deepEqual(page.items[0], { unchanged: true, held: { id: a.id, version: 1 } });
      const changed = page.items[1];
      assert.ok(changed && !changed.unchanged, 'the row written by the other store is sent');
      assert.equal(changed.tenant.version, 2);
      assert.deepEqual(changed.tenant.spec.config.secretEnv, { TOKEN: '***' });
      assert.equal(page.nextCursor, null);
    } finally {
      await closeAll();
    }
  });
}
