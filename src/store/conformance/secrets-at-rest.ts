/**
 * Conformance: secret config values at rest. The module opens its own stores on the group's
 * database (secrets need a key ring), so it runs in a group of its own: `resealSecrets` passes over
 * every tenant of the database.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { FAKE_CONFIG_SCHEMA } from '../../compute/providers/fake/index.js';
import { mapSecretValues } from '../../compute/secrets.js';
import { SecretKeyRing, SecretsError, secretKeyId } from '../../domain/secret-key-ring.js';
import type { JsonObject } from '../../domain/tenant.js';
import { createStore } from '../create-store.js';
import type { SecretFields } from '../sealed-specs.js';
import type { Store } from '../store.js';
import { dumpDatabase, whereFound } from '../testing/database-dump.js';
import { oneWaveRollout, specOf, unique, type Conformance } from './harness.js';
import { archive } from './tenant-basics.js';

function dumpRows(dump: { tables: ReadonlyMap<string, string> }, table: string): Record<string, unknown>[] {
  return JSON.parse(dump.tables.get(table) ?? '[]') as Record<string, unknown>[];
}

/** The fake provider's schema says which values are secret (`secretEnv`), as the registry would. */
const fields: SecretFields = {
  mapSecrets: (_provider, config, fn) => mapSecretValues(FAKE_CONFIG_SCHEMA, config, fn),
};

const key1 = randomBytes(32);
const key2 = randomBytes(32);

/** A value that must never be found on disk in plaintext. */
function marker(): string {
  return `s3cret-${randomBytes(6).toString('hex')}`;
}

function secretSpec(secret: string) {
  return specOf({ config: { image: 'app:1', env: { MODE: 'visible' }, secretEnv: { TOKEN: secret } } });
}

function tokenOf(config: JsonObject): unknown {
  return (config.secretEnv as JsonObject | undefined)?.TOKEN;
}

export function secretsAtRest(c: Conformance): void {
  const opened: Store[] = [];
  /** A store on the group's database: sealing with `keys` (the first seals), or plain without. */
  const open = async (keys?: readonly Buffer[]): Promise<Store> => {
    const secrets = keys && { ring: new SecretKeyRing(keys), fields };
    const store = await createStore({ url: c.database().url, ...(secrets && { secrets }) });
    opened.push(store);
    return store;
  };
  const closeAll = () => Promise.all(opened.splice(0).map((s) => s.close()));

  c.test(
    "a rollout's patch and its members' previous specs are sealed, and re-sealed by a rotation",
    async () => {
      try {
        const store = await open([key1]);
        const before = marker();
        const after = marker();
        const tenant = await store.tenants.create({
          name: unique('rsec'),
          spec: secretSpec(before),
          actor: 't',
        });
        const rollout = await store.rollouts.create(
          oneWaveRollout([tenant], {
            description: '',
            change: { patch: { config: { secretEnv: { TOKEN: after } } } },
            createdBy: 't',
            createdByRole: 'admin',
          }),
        );
        await store.rollouts.applyChange(rollout.id, 0, (t) => ({
          kind: 'change',
          change: {
            actor: 't',
            spec: { ...t!.spec, config: { ...t!.spec.config, secretEnv: { TOKEN: after } } },
          },
          merged: false,
        }));
        const dump = await dumpDatabase(c.database().url);
        for (const table of ['rollouts', 'rollout_members']) {
          assert.equal(dump.tables.get(table)?.includes(before), false, `${table} holds the old secret`);
          assert.equal(dump.tables.get(table)?.includes(after), false, `${table} holds the new secret`);
        }
        const rotating = await open([key2, key1]);
        const report = await rotating.resealSecrets();
        assert.ok(report.rolloutSecrets >= 2, JSON.stringify(report));
        const rotated = await open([key2]);
        assert.deepEqual((await rotated.rollouts.get(rollout.id))?.change, {
          patch: { config: { secretEnv: { TOKEN: after } } },
        });
        assert.equal(tokenOf((await rotated.rollouts.previousSpec(rollout.id, 0))!.config), before);
        assert.equal((await rotating.resealSecrets()).rolloutSecrets, 0, 'a second pass finds nothing');
      } finally {
        await closeAll();
      }
    },
  );

  c.test('a secret value is sealed in the row and plaintext in every read', async () => {
    const store = await open([key1]);
    try {
      const secret = marker();
      const tenant = await store.tenants.create({
        name: unique('seal'),
        spec: secretSpec(secret),
        actor: 't',
      });
      assert.equal(tokenOf(tenant.spec.config), secret);
      assert.equal(tokenOf((await store.tenants.get(tenant.id))!.spec.config), secret);
      const listed = await store.tenants.list({ limit: 5, namePrefix: tenant.name });
      assert.equal(tokenOf(listed.items[0]!.spec.config), secret);
      const changed = await store.tenants.change(tenant.id, { actor: 't', status: { message: 'x' } });
      assert.equal(tokenOf(changed.tenant.spec.config), secret);

      const dump = await dumpDatabase(c.database().url);
      assert.deepEqual(whereFound(dump, secret), [], 'the plaintext secret is on disk');
      assert.ok(dump.tables.get('tenants')!.includes(`enc:v1:${secretKeyId(key1)}:`));
      assert.ok(dump.tables.get('tenants')!.includes('visible'), 'a value that is not secret stays readable');
      assert.ok(dump.tables.get('tenant_revisions')!.includes(`enc:v1:${secretKeyId(key1)}:`));
      assert.equal(tokenOf((await store.revisions.get(tenant.id, 1))!.spec.config), secret);
    } finally {
      await closeAll();
    }
  });

  c.test('an unchanged spec is no change, and a status write keeps the stored ciphertext', async () => {
    const store = await open([key1]);
    try {
      const spec = secretSpec(marker());
      const tenant = await store.tenants.create({ name: unique('same'), spec, actor: 't' });
      assert.equal((await store.tenants.change(tenant.id, { actor: 't', spec })).changed, false);
      const before = await storedSpec(c, tenant.id);
      await store.tenants.change(tenant.id, { actor: 't', status: { message: 'working' } });
      assert.equal(await storedSpec(c, tenant.id), before);
      assert.equal((await store.tenants.get(tenant.id))!.generation, 1);
    } finally {
      await closeAll();
    }
  });

  c.test('an archived tenant keeps no secrets, not even sealed ones', async () => {
    const store = await open([key1]);
    try {
      const secret = marker();
      const tenant = await store.tenants.create({
        name: unique('arch'),
        spec: secretSpec(secret),
        actor: 't',
      });
      await store.tenants.change(tenant.id, {
        actor: 't',
        phase: { to: 'deleting', reason: 'DeleteRequested' },
      });
      assert.match(await storedSpec(c, tenant.id), /enc:v1:/, 'a deleting tenant still needs its secrets');
      const archived = await store.tenants.change(tenant.id, {
        actor: 't',
        phase: { to: 'archived', reason: 'Deleted' },
      });
      assert.equal(tokenOf(archived.tenant.spec.config), '***');
      assert.equal(tokenOf((await store.tenants.get(tenant.id))!.spec.config), '***');
      const stored = await storedSpec(c, tenant.id);
      assert.doesNotMatch(stored, /enc:v1:/);
      assert.ok(!stored.includes(secret));
      assert.equal(tokenOf((JSON.parse(stored) as { config: JsonObject }).config), '***');
      const revisions = dumpRows(await dumpDatabase(c.database().url), 'tenant_revisions').filter(
        (r) => r.tenant_id === tenant.id,
      );
      assert.equal(revisions.length, 1);
      assert.ok(
        revisions.every((r) => !String(r.spec).includes('enc:v1:') && !String(r.spec).includes(secret)),
      );
      assert.equal(tokenOf((await store.revisions.get(tenant.id, 1))!.spec.config), '***');
    } finally {
      await closeAll();
    }
  });

  c.test('a store without the key a value was sealed under refuses to read it, naming the key', async () => {
    const writer = await open([key1]);
    const stranger = await open([randomBytes(32)]);
    try {
      const tenant = await writer.tenants.create({
        name: unique('key'),
        spec: secretSpec(marker()),
        actor: 't',
      });
      await assert.rejects(
        stranger.tenants.get(tenant.id),
        (error: unknown) => error instanceof SecretsError && error.message.includes(secretKeyId(key1)),
      );
    } finally {
      await closeAll();
    }
  });

  c.test('server secrets are made once, shared by concurrent callers and sealed at rest', async () => {
    const [a, b] = [await open([key1]), await open([key1])];
    try {
      const name = unique('server-secret');
      const values = await Promise.all([a, b, a].map((s) => s.serverSecrets.getOrCreate(name, marker)));
      assert.equal(new Set(values).size, 1);
      assert.equal(await b.serverSecrets.getOrCreate(name, marker), values[0]);
      assert.deepEqual(whereFound(await dumpDatabase(c.database().url), values[0]!), []);
    } finally {
      await closeAll();
    }
  });

  c.test(
    'resealSecrets moves every secret to the current key, erases archived ones, and is idempotent',
    async () => {
      const plain = await open();
      const old = await open([key1]);
      const rotating = await open([key2, key1]);
      const rotated = await open([key2]);
      try {
        const [legacy, sealed, gone] = [marker(), marker(), marker()];
        const legacyTenant = await plain.tenants.create({
          name: unique('legacy'),
          spec: secretSpec(legacy),
          actor: 't',
        });
        const sealedTenant = await old.tenants.create({
          name: unique('old'),
          spec: secretSpec(sealed),
          actor: 't',
        });
        const goneTenant = await plain.tenants.create({
          name: unique('gone'),
          spec: secretSpec(gone),
          actor: 't',
        });
        await archive(plain, goneTenant.id);
        const planSecret = marker();
        const planName = unique('plan');
        await plain.plans.create({
          name: planName,
          actor: 't',
          description: '',
          spec: {
            provider: 'fake',
            config: { image: 'a', secretEnv: { TOKEN: planSecret } },
            retryPolicy: null,
          },
          allowedOverrides: [],
        });
        const hashKeyName = unique('hash-key');
        const hashKey = await old.serverSecrets.getOrCreate(hashKeyName, marker);
        assert.ok(
          whereFound(await dumpDatabase(c.database().url), legacy).length > 0,
          'the legacy secret is plaintext',
        );

        const report = await rotating.resealSecrets({ batchSize: 2 });
        assert.ok(report.resealed >= 3, JSON.stringify(report));
        assert.equal(report.remaining, 0);
        assert.ok(report.serverSecrets >= 1, JSON.stringify(report));

        const dump = await dumpDatabase(c.database().url);
        // Tables only: the plaintext written before the pass may linger in SQLite's free pages.
        for (const secret of [legacy, sealed, gone, planSecret])
          assert.deepEqual(whereFound({ tables: dump.tables, files: Buffer.alloc(0) }, secret), []);
        for (const table of ['tenant_revisions', 'plan_revisions'])
          assert.ok(!dump.tables.get(table)!.includes(`enc:v1:${secretKeyId(key1)}:`), `${table}: old key`);
        assert.ok(report.revisions >= 4, JSON.stringify(report));
        assert.equal(tokenOf((await rotated.plans.get(planName))!.spec.config), planSecret);
        assert.equal(tokenOf((await rotated.revisions.get(sealedTenant.id, 1))!.spec.config), sealed);
        assert.equal(tokenOf((await rotated.revisions.get(goneTenant.id, 1))!.spec.config), '***');
        assert.ok(
          !dump.tables.get('tenants')!.includes(`enc:v1:${secretKeyId(key1)}:`),
          'a value is still under the old key',
        );
        assert.ok(!dump.tables.get('server_secrets')!.includes(`enc:v1:${secretKeyId(key1)}:`));
        assert.equal(tokenOf((await rotated.tenants.get(legacyTenant.id))!.spec.config), legacy);
        assert.equal(tokenOf((await rotated.tenants.get(sealedTenant.id))!.spec.config), sealed);
        assert.equal(tokenOf((await rotated.tenants.get(goneTenant.id))!.spec.config), '***');

        const again = await rotating.resealSecrets();
        assert.deepEqual(
          { resealed: again.resealed, revisions: again.revisions, serverSecrets: again.serverSecrets },
          { resealed: 0, revisions: 0, serverSecrets: 0 },
        );
        assert.equal(
          await rotated.serverSecrets.getOrCreate(hashKeyName, marker),
          hashKey,
          'a re-sealed secret changed',
        );
      } finally {
        await closeAll();
      }
    },
  );

  c.test("a plan's secret values are sealed in every revision and bound to the plan", async () => {
    const store = await open([key1]);
    try {
      const secret = marker();
      const name = unique('sealed-plan');
      const content = (image: string) => ({
        description: 'd',
        spec: { provider: 'fake', config: { image, secretEnv: { TOKEN: secret } }, retryPolicy: null },
        allowedOverrides: ['/env'],
      });
      await store.plans.create({ name, actor: 't', ...content('a:1') });
      await store.plans.update({ name, actor: 't', ...content('a:2') });
      assert.equal(tokenOf((await store.plans.revision(name, 1))!.spec.config), secret);
      assert.equal(tokenOf((await store.plans.get(name))!.spec.config), secret);
      const dump = await dumpDatabase(c.database().url);
      assert.deepEqual(whereFound(dump, secret), []);
      assert.ok(dump.tables.get('plan_revisions')!.includes(`enc:v1:${secretKeyId(key1)}:`));
    } finally {
      await closeAll();
    }
  });
}

/** The `spec` column of a tenant as stored. */
async function storedSpec(c: Conformance, tenantId: string): Promise<string> {
  const rows = JSON.parse((await dumpDatabase(c.database().url)).tables.get('tenants')!) as {
    id: string;
    spec: string;
  }[];
  return rows.find((row) => row.id === tenantId)!.spec;
}
