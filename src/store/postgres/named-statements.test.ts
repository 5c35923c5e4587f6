/**
 * PostgreSQL keeps a prepared query's statement parsed per connection: its text goes as a named
 * statement (postgres-binding.ts), which the server lists in `pg_prepared_statements` for that
 * session, once however often it runs; SQL that is not a prepared query goes unnamed. A schema
 * change under a kept statement (another process migrated) costs one retry, not an outage.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { silentLogger } from '../../domain/logger.js';
import { postgresDialect } from '../dialect.js';
import { encodeCursor } from '../codec.js';
import { preparedQuery, preparedStatementName } from '../prepared-query.js';
import { PLAIN_SPECS } from '../sealed-specs.js';
import { listTenants } from '../tenant-list.js';
import type { Database } from '../schema.js';
import { postgresBackend, type TestDatabase } from '../testing/test-databases.js';
import { createPool } from './postgres-binding.js';

let db: TestDatabase | undefined;
let pool: pg.Pool | undefined;
let kysely: Kysely<Database> | undefined;

before(async () => {
  db = await postgresBackend.create();
  pool = createPool(db.url, silentLogger, 1); // one connection: one session to look into
  kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
});

after(async () => {
  await kysely?.destroy();
  await db?.cleanup();
});

const byName = preparedQuery((k, a: { name: string }) =>
  k.selectFrom('tenants').select('id').where('name', '=', a.name),
);

async function preparedInSession(): Promise<{ name: string; statement: string }[]> {
  const { rows } = await sql<{ name: string; statement: string }>`
    select name, statement from pg_prepared_statements order by name`.execute(kysely!);
  return [...rows];
}

test('a prepared query runs as one named statement per connection; other SQL stays unnamed', async () => {
  const target = { db: kysely!, dialect: postgresDialect };
  for (const name of ['a', 'b', 'c']) assert.deepEqual(await byName.rows(target, { name }), []);
  const prepared = await preparedInSession();
  assert.equal(prepared.length, 1, JSON.stringify(prepared));
  const text = prepared[0]!.statement;
  assert.match(text, /from "tenants"/);
  assert.equal(prepared[0]!.name, preparedStatementName(text));
  assert.match(prepared[0]!.name, /^lessor_\d+$/);
});

test('the tenant list is one named statement per filter shape, reading only the listed columns', async () => {
  // Its own connection: the session the other tests count stays as they expect.
  const own = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: createPool(db!.url, silentLogger, 1) }),
  });
  try {
    const target = { db: own, dialect: postgresDialect };
    const byLabel = (value: string, after: string) => ({
      limit: 5,
      cursor: encodeCursor([after]),
      labels: [{ key: 'plan', op: '=' as const, value }],
    });
    for (const [value, after] of [
      ['a', '0'],
      ['b', '1'],
    ]) {
      assert.deepEqual((await listTenants(target, PLAIN_SPECS, byLabel(value!, after!))).items, []);
    }
    assert.deepEqual((await listTenants(target, PLAIN_SPECS, { limit: 5 })).items, []);
    const { rows: named } = await sql<{ statement: string }>`
      select statement from pg_prepared_statements`.execute(own);
    assert.equal(named.length, 2, JSON.stringify(named));
    for (const { statement } of named) {
      assert.match(statement, /^select "tenants"\."id", "tenants"\."name", "tenants"\."spec", /);
      assert.doesNotMatch(statement, /\*|"paused"|"plan_name"/);
    }
    const labelled = named.find((p) => p.statement.includes('tenant_labels'))!.statement;
    assert.match(labelled, /"tenant_labels"\."tenant_id" > \$\d+\)/, 'the cursor inside the label subquery');
  } finally {
    await own.destroy();
  }
});

test('a named statement parses the rows of every execution as pg would, reusing its first row description', async () => {
  // Its own connection: the last test below turns naming off on the shared one.
  const own = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: createPool(db!.url, silentLogger, 1) }),
  });
  const lookups = { count: 0 };
  const getTypeParser = pg.types.getTypeParser;
  try {
    await sql`insert into tenants (id, name, provider, phase, generation, observed_generation, spec,
      status, version, created_at, updated_at)
      values ('t-described', 'described', 'fake', 'ready', 3, 2, '{"a":1}', '{}', 9007199254740991,
      '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z')`.execute(own);
    const columns = ['id', 'generation', 'paused', 'spec', 'version', 'created_at', 'plan_name'] as const;
    const byName = preparedQuery((k, a: { name: string }) =>
      k.selectFrom('tenants').select(columns).where('name', '=', a.name),
    );
    // The same select sent unnamed: pg builds this result's description from scratch.
    const { rows: plain } = await sql`select id, generation, paused, spec, version, created_at,
      plan_name from tenants where name = ${'described'}`.execute(own);
    assert.deepEqual(plain, [
      {
        id: 't-described',
        generation: 3,
        paused: 0,
        spec: '{"a":1}',
        version: 9007199254740991,
        created_at: '2026-01-01T00:00:00.000Z',
        plan_name: null,
      },
    ]);
    const counted = (oid: number, format?: 'text' | 'binary'): unknown => {
      lookups.count++;
      return getTypeParser(oid, format ?? 'text') as unknown;
    };
    (pg.types as { getTypeParser: unknown }).getTypeParser = counted;
    const target = { db: own, dialect: postgresDialect };
    assert.deepEqual(await byName.rows(target, { name: 'described' }), plain);
    const firstLookups = lookups.count;
    assert.ok(firstLookups > 0, 'the first execution looks its parsers up');
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await byName.rows(target, { name: 'described' }), plain);
      assert.deepEqual(await byName.rows(target, { name: 'nobody' }), []);
    }
    assert.equal(lookups.count, firstLookups, 'later executions reuse the parsers of the first');
  } finally {
    (pg.types as { getTypeParser: unknown }).getTypeParser = getTypeParser;
    await sql`delete from tenants where id = 't-described'`.execute(own);
    await own.destroy();
  }
});

test('a kept statement whose result columns changed runs again unnamed, and the connection stops naming', async () => {
  const target = { db: kysely!, dialect: postgresDialect };
  const selectAll = preparedQuery((k, a: { name: string }) =>
    k.selectFrom('tenants').selectAll().where('name', '=', a.name),
  );
  assert.deepEqual(await selectAll.rows(target, { name: 'a' }), []);
  const other = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: createPool(db!.url, silentLogger, 1) }),
  });
  try {
    await sql`alter table tenants add column added_by_another_version text`.execute(other);
  } finally {
    await other.destroy();
  }
  assert.deepEqual(await selectAll.rows(target, { name: 'a' }), []);
  const byId = preparedQuery((k, a: { id: string }) =>
    k.selectFrom('tenants').select('name').where('id', '=', a.id),
  );
  assert.deepEqual(await byId.rows(target, { id: 'none' }), []);
  const kept = (await preparedInSession()).map((p) => p.name);
  assert.equal(kept.length, 2, 'no statement was named after the change');
});
