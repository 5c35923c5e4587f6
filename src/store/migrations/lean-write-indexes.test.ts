/**
 * Migration 0021 on real databases: the retention indexes of runs, executions and callbacks hold
 * only settled rows and still serve the sweep's read (the planner proves `time < cutoff` implies
 * the index's predicate), `tenants` gets its fillfactor on PostgreSQL, and `down` puts back the
 * full indexes and the default fillfactor.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { postgresDialect, sqliteDialect } from '../dialect.js';
import { backends } from '../testing/test-databases.js';
import { migrateTo, rawKysely } from './testing/raw-kysely.js';

const SETTLED = [
  ['workflow_runs', 'workflow_runs_finished_run', 'finished_at', 'run_id'],
  ['compute_executions', 'compute_executions_finished_execution', 'finished_at', 'execution_id'],
  ['callbacks', 'callbacks_delivered_id', 'delivered_at', 'id'],
] as const;

async function indexSql(raw: Kysely<unknown>, postgres: boolean, name: string): Promise<string> {
  const { rows } = postgres
    ? await sql<{ def: string }>`select indexdef as def from pg_indexes where indexname = ${name}`.execute(
        raw,
      )
    : await sql<{
        def: string;
      }>`select sql as def from sqlite_master where type = 'index' and name = ${name}`.execute(raw);
  assert.equal(rows.length, 1, `index ${name}`);
  return rows[0]!.def;
}

/** The plan of the sweep's read (retention-repository.ts, `expiredRows`), parameters bound. */
async function sweepPlan(raw: Kysely<unknown>, postgres: boolean, table: string, time: string, id: string) {
  const read = sql`select ${sql.ref(time)} as at, ${sql.ref(id)} as id from ${sql.table(table)}
    where ${sql.ref(time)} < ${'2999-01-01T00:00:00.000Z'} order by ${sql.ref(time)}, ${sql.ref(id)} limit ${100}`;
  if (postgres) {
    // Tiny tables: without this PostgreSQL would rightly scan them; what is asked is whether the
    // partial index can serve the read at all.
    await sql`set enable_seqscan = off`.execute(raw);
    await sql`set enable_sort = off`.execute(raw);
    const { rows } = await sql<{ 'QUERY PLAN': string }>`explain ${read}`.execute(raw);
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  }
  const { rows } = await sql<{ detail: string }>`explain query plan ${read}`.execute(raw);
  return rows.map((row) => row.detail).join('\n');
}

async function tenantsOptions(raw: Kysely<unknown>): Promise<string[] | null> {
  const { rows } = await sql<{
    reloptions: string[] | null;
  }>`select reloptions from pg_class where relname = 'tenants' and relkind = 'r'`.execute(raw);
  return rows[0]!.reloptions;
}

for (const backend of backends()) {
  const postgres = backend.name === 'postgres';
  const dialect = postgres ? postgresDialect : sqliteDialect;
  describe(`migration 0021-lean-write-indexes [${backend.name}]`, () => {
    test('partial settled-time indexes serve the sweep; down restores the full ones', async () => {
      const db = await backend.create({ migrate: false });
      const raw = rawKysely(db, dialect);
      try {
        await migrateTo(raw, dialect, '0021-lean-write-indexes');
        for (const [table, name, time, id] of SETTLED) {
          assert.match(await indexSql(raw, postgres, name), new RegExp(`where.*${time}.* is not null`, 'i'));
          assert.match(await sweepPlan(raw, postgres, table, time, id), new RegExp(name));
        }
        if (postgres) assert.deepEqual(await tenantsOptions(raw), ['fillfactor=70']);

        await migrateTo(raw, dialect, '0020-sqlite-execution-transition');
        for (const [table, name, time, id] of SETTLED) {
          assert.doesNotMatch(await indexSql(raw, postgres, name), /where/i);
          assert.match(await sweepPlan(raw, postgres, table, time, id), new RegExp(name));
        }
        if (postgres) assert.equal(await tenantsOptions(raw), null);

        await migrateTo(raw, dialect, '0021-lean-write-indexes');
        for (const [, name, time] of SETTLED) {
          assert.match(await indexSql(raw, postgres, name), new RegExp(`where.*${time}.* is not null`, 'i'));
        }
      } finally {
        await raw.destroy();
        await db.cleanup();
      }
    });
  });
}
