/**
 * Migration 0009 on real databases: tenants written before it (no `tenant_revisions`, no
 * `plan_name`) each come out with one kept revision — their current generation, current spec,
 * actor `lessor`, created at their last update — archived ones included; the next spec write adds
 * the following generation's revision beside it, and a purge still takes them all.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { newId } from '../../domain/ids.js';
import { initialStatus, type Phase, type Tenant, type TenantSpec } from '../../domain/tenant.js';
import { tenantRow } from '../tenant-rows.js';
import { specOf } from '../conformance/harness.js';
import { postgresDialect, sqliteDialect, type SqlDialect } from '../dialect.js';
import { backends } from '../testing/test-databases.js';
import { migrateTo, rawKysely } from './testing/raw-kysely.js';

const BEFORE = '0008-generic-workflow-runs';

interface OldTenant {
  readonly name: string;
  readonly generation: number;
  readonly phase: Phase;
  readonly spec: TenantSpec;
  readonly updatedAt: string;
}

const OLD_TENANTS: readonly OldTenant[] = [
  {
    name: 'fresh',
    generation: 1,
    phase: 'ready',
    spec: specOf({ config: { image: 'app:1', env: { MODE: 'prod' } } }),
    updatedAt: '2026-01-02T00:00:00.000Z',
  },
  {
    name: 'changed-often',
    generation: 4,
    phase: 'ready',
    spec: specOf({ config: { image: 'app:4' }, labels: { plan: 'pro' }, paused: true }),
    updatedAt: '2026-01-03T00:00:00.000Z',
  },
  {
    name: 'gone',
    generation: 2,
    phase: 'archived',
    spec: specOf({ config: { image: 'app:2' } }),
    updatedAt: '2026-01-04T00:00:00.000Z',
  },
];

/** Migrates to just before 0009 and writes the tenants as the schema of that time held them. */
async function oldTenants(raw: Kysely<unknown>, dialect: SqlDialect): Promise<Map<string, OldTenant>> {
  await migrateTo(raw, dialect, BEFORE);
  const ids = new Map<string, OldTenant>();
  for (const old of OLD_TENANTS) {
    const tenant: Tenant = {
      id: newId(),
      name: old.name,
      spec: old.spec,
      generation: old.generation,
      status: { ...initialStatus(), phase: old.phase, observedGeneration: old.generation },
      version: old.generation + 3,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: old.updatedAt,
    };
    // plan_name is 0009's own column: the row as it was before has none.
    const { plan_name: _added, ...row } = tenantRow(tenant, JSON.stringify(tenant.spec));
    await raw
      .insertInto('tenants' as never)
      .values(row)
      .execute();
    ids.set(tenant.id, old);
  }
  return ids;
}

for (const backend of backends()) {
  describe(`migration 0009-plans-and-revisions [${backend.name}]`, () => {
    test('backfills one revision per existing tenant; later writes and purge keep working', async () => {
      const dialect = backend.name === 'sqlite' ? sqliteDialect : postgresDialect;
      const db = await backend.create({ migrate: false });
      const raw = rawKysely(db, dialect);
      try {
        const tenants = await oldTenants(raw, dialect);
        await db.store.migrate();
        for (const [id, old] of tenants) {
          const page = await db.store.revisions.list(id, { limit: 10 });
          assert.deepEqual(
            page.items.map((r) => [r.generation, r.spec, r.actor, r.createdAt]),
            [[old.generation, old.spec, 'lessor', old.updatedAt]],
            `${old.name}: its current generation is its one kept revision`,
          );
          assert.equal(page.nextCursor, null);
          assert.equal((await db.store.revisions.get(id, old.generation))?.tenantId, id);
          assert.equal(
            await db.store.revisions.get(id, old.generation - 1),
            undefined,
            `${old.name}: generations before the migration were never kept`,
          );
        }

        const [freshId] = [...tenants].find(([, old]) => old.name === 'fresh') ?? [];
        assert.ok(freshId);
        const next = specOf({ config: { image: 'app:2', env: { MODE: 'debug' } } });
        const written = await db.store.tenants.change(freshId, { actor: 'alice', spec: next });
        assert.equal(written.tenant.generation, 2);
        assert.deepEqual(
          (await db.store.revisions.list(freshId, { limit: 10 })).items.map((r) => [
            r.generation,
            r.actor,
            r.spec.config.image,
          ]),
          [
            [2, 'alice', 'app:2'],
            [1, 'lessor', 'app:1'],
          ],
          'the first write after the migration adds the next generation beside the backfilled one',
        );

        const [goneId] = [...tenants].find(([, old]) => old.name === 'gone') ?? [];
        assert.ok(goneId);
        await db.store.tenants.purge(goneId, { actor: 'test' });
        assert.deepEqual(
          (await db.store.revisions.list(goneId, { limit: 10 })).items,
          [],
          'a purge takes the backfilled revision along',
        );
      } finally {
        await raw.destroy();
        await db.cleanup();
      }
    });
  });
}
