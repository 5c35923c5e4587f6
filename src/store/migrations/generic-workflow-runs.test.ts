/**
 * Migration 0008 on real databases: tenant runs written in the old shape (tenant_id, action,
 * generation, config_hash, trigger_source) come out as generic runs — definition, tags, subject —
 * with their journal and promises intact, still cascading to them, and still purged with their
 * tenant; runs of no tenant can be stored afterwards.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { newId } from '../../domain/ids.js';
import { asTenantRun, tenantSubject } from '../../domain/tenant-run.js';
import { initialStatus, type Tenant } from '../../domain/tenant.js';
import { tenantRow } from '../tenant-rows.js';
import { specOf } from '../conformance/harness.js';
import { postgresDialect, sqliteDialect, type SqlDialect } from '../dialect.js';
import type { Store } from '../store.js';
import { backends } from '../testing/test-databases.js';
import { migrateTo, rawKysely } from './testing/raw-kysely.js';

const BEFORE = '0007-server-secrets';

/** Migrates to just before 0008 and writes two runs of a tenant as the old schema held them. */
async function oldRuns(
  raw: Kysely<unknown>,
  dialect: SqlDialect,
  store: Store,
): Promise<{ tenantId: string; runIds: string[] }> {
  await migrateTo(raw, dialect, BEFORE);
  // The tenant row as the schema before 0008 held it (later migrations add columns the store writes).
  const at0 = '2026-01-01T00:00:00.000Z';
  const tenant: Tenant = {
    id: newId(),
    name: 'before-0008',
    spec: specOf(),
    generation: 1,
    status: initialStatus(),
    version: 1,
    createdAt: at0,
    updatedAt: at0,
  };
  const { plan_name: _later, ...row } = tenantRow(tenant, JSON.stringify(tenant.spec));
  await raw
    .insertInto('tenants' as never)
    .values(row)
    .execute();
  const runIds = [`${tenant.id}:provision:g1`, `${tenant.id}:update:g2:r1`];
  const at = '2026-01-01T00:00:00.000Z';
  await sql`insert into workflow_runs (run_id, tenant_id, action, engine, state, attempt, trigger_source,
      generation, config_hash, input, output, error, wake_at, created_at, updated_at, finished_at)
    values (${runIds[0]}, ${tenant.id}, 'provision', 'embedded', 'succeeded', 1, 'api', 1, 'h1', '{"a":1}', '"ok"', null, null, ${at}, ${at}, ${at}),
      (${runIds[1]}, ${tenant.id}, 'update', 'restate', 'waiting', 2, 'retry', 2, 'h2', null, null, null, 5, ${at}, ${at}, null)`.execute(
    raw,
  );
  for (const runId of runIds) {
    await store.steps.record({
      runId,
      seq: 1,
      name: 'load',
      kind: 'step',
      status: 'completed',
      result: { n: 1 },
      error: null,
      startedAt: at,
      finishedAt: at,
      durationMs: 1,
    });
    await store.steps.resolvePromise(runId, 'k', { ok: true }, at);
  }
  return { tenantId: tenant.id, runIds };
}

for (const backend of backends()) {
  describe(`migration 0008-generic-workflow-runs [${backend.name}]`, () => {
    test('converts tenant runs to generic runs, keeps their journal, and purge still takes them', async () => {
      const dialect = backend.name === 'sqlite' ? sqliteDialect : postgresDialect;
      const db = await backend.create({ migrate: false });
      const raw = rawKysely(db, dialect);
      try {
        const { tenantId, runIds } = await oldRuns(raw, dialect, db.store);
        await db.store.migrate();
        const [provision, update] = await Promise.all(runIds.map((id) => db.store.runs.get(id)));
        assert.deepEqual(
          [provision?.workflow, provision?.tags, provision?.state, provision?.input, provision?.output],
          [
            'provision',
            { subject: tenantSubject(tenantId), generation: '1', configHash: 'h1', trigger: 'api' },
            'succeeded',
            { a: 1 },
            'ok',
          ],
        );
        const tenantRun = update && asTenantRun(update);
        assert.deepEqual(
          tenantRun && [
            tenantRun.tenantId,
            tenantRun.action,
            tenantRun.generation,
            tenantRun.configHash,
            tenantRun.triggerSource,
          ],
          [tenantId, 'update', 2, 'h2', 'retry'],
        );
        assert.deepEqual([update?.engine, update?.attempt, update?.wakeAt], ['restate', 2, 5]);
        assert.deepEqual(
          (await db.store.runs.listBySubject(tenantSubject(tenantId), 10)).map((r) => r.runId).sort(),
          [...runIds].sort(),
        );
        for (const runId of runIds) {
          assert.deepEqual(
            (await db.store.steps.list(runId)).map((s) => [s.name, s.result]),
            [['load', { n: 1 }]],
          );
          assert.deepEqual((await db.store.steps.getPromise(runId, 'k'))?.value, { ok: true });
        }
        const fresh = {
          runId: 'count-1',
          workflow: 'count',
          tags: { subject: 'counter:1' },
          engine: 'embedded' as const,
        };
        assert.equal((await db.store.runs.createOrGet({ ...fresh, input: null })).created, true);

        await db.store.tenants.change(tenantId, {
          actor: 'test',
          phase: { to: 'deleting', reason: 'DeleteRequested' },
        });
        await db.store.tenants.change(tenantId, {
          actor: 'test',
          phase: { to: 'archived', reason: 'Deleted' },
        });
        await db.store.tenants.purge(tenantId, { actor: 'test' });
        for (const runId of runIds) {
          assert.equal(await db.store.runs.get(runId), undefined);
          assert.deepEqual(await db.store.steps.list(runId), [], 'the journal cascades from its run');
          assert.equal(await db.store.steps.getPromise(runId, 'k'), undefined);
        }
        assert.equal((await db.store.runs.get('count-1'))?.workflow, 'count');
      } finally {
        await raw.destroy();
        await db.cleanup();
      }
    });
  });
}
