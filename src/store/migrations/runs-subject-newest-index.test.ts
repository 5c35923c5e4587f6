/**
 * Migration 0022 on real databases: a subject's newest runs are read straight from
 * `workflow_runs_subject_created_run`, walked backwards, with no sort (SQLite: no temporary
 * B-tree; PostgreSQL: no Sort node) — the reconcile's read (`bySubject`), PostgreSQL's combined
 * tenant-and-runs read and retention's newest-run lookup — and a purge's delete still finds the
 * subject's rows through it. `down` puts back 0008's two-column index, whose plans sort.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { postgresDialect, sqliteDialect } from '../dialect.js';
import { backends } from '../testing/test-databases.js';
import { migrateTo, rawKysely } from './testing/raw-kysely.js';

const NEW = 'workflow_runs_subject_created_run';
const OLD = 'workflow_runs_subject_created';
const SUBJECT = 'tenant:t-1';

/** The reads of a subject's runs, as the repositories write them (parameters as literals). */
const READS: Record<string, RawBuilder<unknown>> = {
  // workflow-run-repository.ts, `bySubject`.
  newest: sql`select * from workflow_runs where subject = ${SUBJECT}
    order by created_at desc, run_id desc limit ${20}`,
  // retention-repository.ts, the newest run of a subject and workflow, which a sweep keeps.
  retained: sql`select run_id from workflow_runs where subject = ${SUBJECT} and workflow = ${'create'}
    order by created_at desc, run_id desc limit ${1}`,
};

async function indexNames(raw: Kysely<unknown>, postgres: boolean): Promise<string[]> {
  const { rows } = postgres
    ? await sql<{
        name: string;
      }>`select indexname as name from pg_indexes where tablename = 'workflow_runs'`.execute(raw)
    : await sql<{
        name: string;
      }>`select name from sqlite_master where type = 'index' and tbl_name = 'workflow_runs'`.execute(raw);
  return rows.map((row) => row.name);
}

async function planOf(raw: Kysely<unknown>, postgres: boolean, read: RawBuilder<unknown>): Promise<string> {
  if (postgres) {
    // An empty table: without this PostgreSQL would rightly scan it; what is asked is whether the
    // index serves the read in its order.
    await sql`set enable_seqscan = off`.execute(raw);
    const { rows } = await sql<{ 'QUERY PLAN': string }>`explain ${read}`.execute(raw);
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  }
  const { rows } = await sql<{ detail: string }>`explain query plan ${read}`.execute(raw);
  return rows.map((row) => row.detail).join('\n');
}

/** PostgreSQL's tenant-and-runs read (tenant-with-runs.ts): the runs as a scalar subquery. */
const COMBINED = sql`select t.id, (select coalesce(json_agg(r order by r.created_at desc, r.run_id desc), '[]'::json)
    from (select * from workflow_runs where subject = ${SUBJECT}
      order by created_at desc, run_id desc limit ${20}) as r) as runs
  from tenants t where t.id = ${'t-1'}`;

for (const backend of backends()) {
  const postgres = backend.name === 'postgres';
  const dialect = postgres ? postgresDialect : sqliteDialect;
  const sorts = postgres ? /Sort/ : /TEMP B-TREE/;
  const reads = postgres ? { ...READS, combined: COMBINED } : READS;
  const purge = sql`delete from workflow_runs where subject = ${SUBJECT}`;

  describe(`migration 0022-runs-subject-newest-index [${backend.name}]`, () => {
    test('the newest runs of a subject come in index order; down restores the old index', async () => {
      const db = await backend.create({ migrate: false });
      const raw = rawKysely(db, dialect);
      try {
        await migrateTo(raw, dialect, '0022-runs-subject-newest-index');
        let names = await indexNames(raw, postgres);
        assert.ok(names.includes(NEW), names.join());
        assert.ok(!names.includes(OLD), names.join());
        for (const [what, read] of Object.entries(reads)) {
          const plan = await planOf(raw, postgres, read);
          assert.match(
            plan,
            postgres ? new RegExp(`Index Scan Backward using ${NEW}`) : new RegExp(NEW),
            what,
          );
          assert.doesNotMatch(plan, sorts, `${what}: ${plan}`);
        }
        assert.match(await planOf(raw, postgres, purge), new RegExp(NEW));

        await migrateTo(raw, dialect, '0021-lean-write-indexes');
        names = await indexNames(raw, postgres);
        assert.ok(names.includes(OLD), names.join());
        assert.ok(!names.includes(NEW), names.join());
        // What 0022 is for: with the two-column index the run id's order is sorted.
        const plan = await planOf(raw, postgres, READS.newest!);
        assert.match(plan, new RegExp(`${OLD}\\b`));
        assert.match(plan, sorts);
        assert.match(await planOf(raw, postgres, purge), new RegExp(`${OLD}\\b`));

        await migrateTo(raw, dialect, '0022-runs-subject-newest-index');
        names = await indexNames(raw, postgres);
        assert.ok(names.includes(NEW) && !names.includes(OLD), names.join());
      } finally {
        await raw.destroy();
        await db.cleanup();
      }
    });
  });
}
