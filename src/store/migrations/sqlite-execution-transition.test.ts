/**
 * Migration 0020-sqlite-execution-transition on SQLite: `up` adds the view and its trigger,
 * `down` leaves the schema exactly as 0019 left it; on PostgreSQL both change nothing.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { postgresDialect, sqliteDialect } from '../dialect.js';
import { backends } from '../testing/test-databases.js';
import { migrateTo, rawKysely } from './testing/raw-kysely.js';

const BEFORE = '0019-sqlite-shown-and-run-end';
const THIS = '0020-sqlite-execution-transition';

/** The schema's objects (SQLite: sqlite_master; PostgreSQL: views of the public schema). */
async function schema(raw: Kysely<unknown>, name: 'sqlite' | 'postgres'): Promise<unknown[]> {
  const query =
    name === 'sqlite'
      ? sql`select type, name, sql from sqlite_master where name not like 'kysely_%' order by type, name`
      : sql`select table_name as name from information_schema.views where table_schema = 'public' order by name`;
  return (await query.execute(raw)).rows;
}

for (const backend of backends()) {
  describe(`migration ${THIS} [${backend.name}]`, () => {
    test('up adds the view of an execution move (SQLite only); down restores the schema before it', async () => {
      const dialect = backend.name === 'sqlite' ? sqliteDialect : postgresDialect;
      const db = await backend.create({ migrate: false });
      const raw = rawKysely(db, dialect);
      try {
        await migrateTo(raw, dialect, BEFORE);
        const before = await schema(raw, backend.name);
        await migrateTo(raw, dialect, THIS);
        const names = (await schema(raw, backend.name)).map((o) => (o as { name: string }).name);
        assert.equal(
          names.includes('compute_execution_transition_writes'),
          backend.name === 'sqlite',
          names.join(', '),
        );
        if (backend.name === 'sqlite')
          assert.ok(names.includes('compute_execution_transition_writes_apply'), names.join(', '));
        await migrateTo(raw, dialect, BEFORE);
        assert.deepEqual(await schema(raw, backend.name), before);
      } finally {
        await raw.destroy();
        await db.cleanup();
      }
    });
  });
}
