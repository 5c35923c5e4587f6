/**
 * A prepared query sends exactly the SQL and parameters Kysely would have compiled for the same
 * values, on both dialects' compilers (the repositories using it are run on real databases by the
 * store conformance suite). The queries here go to a driver that records them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CamelCasePlugin,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
} from 'kysely';
import { postgresDialect, sqliteDialect, type SqlDialect } from './dialect.js';
import { preparedQuery, preparedQueryFamily, type QueryTarget } from './prepared-query.js';
import type { Database } from './schema.js';

function recordingTarget(dialect: SqlDialect): { target: QueryTarget; sent: CompiledQuery[] } {
  const sent: CompiledQuery[] = [];
  const connection: DatabaseConnection = {
    executeQuery: <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
      sent.push(query);
      return Promise.resolve({ rows: [], numAffectedRows: 1n });
    },
    streamQuery: () => {
      throw new Error('not used');
    },
  };
  const driver: Driver = {
    init: async () => {},
    acquireConnection: async () => connection,
    beginTransaction: async () => {},
    commitTransaction: async () => {},
    rollbackTransaction: async () => {},
    releaseConnection: async () => {},
    destroy: async () => {},
  };
  const sqlite = dialect.name === 'sqlite';
  const kyselyDialect: Dialect = {
    createAdapter: () => (sqlite ? new SqliteAdapter() : new PostgresAdapter()),
    createDriver: () => driver,
    createIntrospector: (db) => (sqlite ? new SqliteIntrospector(db) : new PostgresIntrospector(db)),
    createQueryCompiler: () => (sqlite ? new SqliteQueryCompiler() : new PostgresQueryCompiler()),
  };
  return { target: { db: new Kysely<Database>({ dialect: kyselyDialect }), dialect }, sent };
}

const byName = preparedQuery((db, a: { name: string }) =>
  db.selectFrom('tenants').selectAll().where('name', '=', a.name).where('archived', '=', 0),
);

/** Arguments used out of declaration order, one of them twice, constants in between. */
const guardedUpdate = preparedQuery(
  (db, a: { id: string; attempt: number; state: string; output: string | null }) =>
    db
      .updateTable('workflow_runs')
      .set({ output: a.output, state: a.state, lease_owner: null, updated_at: a.state })
      .where('attempt', '=', a.attempt)
      .where('run_id', '=', a.id)
      .where('engine', '=', 'embedded'),
);

const labelRows = preparedQueryFamily(
  (count: number) => String(count),
  (db, a: Record<string, string>, count: number) =>
    db.insertInto('tenant_labels').values(
      Array.from({ length: count }, (_, i) => ({
        tenant_id: a.tenant!,
        key: a[`k${i}`]!,
        value: a[`v${i}`]!,
      })),
    ),
);

for (const dialect of [sqliteDialect, postgresDialect]) {
  describe(`[${dialect.name}] prepared queries`, () => {
    const cases = [
      {
        reason: 'a lookup with a constant after the argument',
        run: (t: QueryTarget) => byName.rows(t, { name: 'acme' }),
        expected: (t: QueryTarget) =>
          t.db.selectFrom('tenants').selectAll().where('name', '=', 'acme').where('archived', '=', 0),
      },
      {
        reason: 'a second call with another value reuses the SQL with the new value',
        run: async (t: QueryTarget) => {
          await byName.rows(t, { name: 'first' });
          return byName.rows(t, { name: 'second' });
        },
        expected: (t: QueryTarget) =>
          t.db.selectFrom('tenants').selectAll().where('name', '=', 'second').where('archived', '=', 0),
      },
      {
        reason: 'arguments out of order, one used twice, a null value, constants between',
        run: (t: QueryTarget) =>
          guardedUpdate.affected(t, { id: 'r-1', attempt: 7, state: 'running', output: null }),
        expected: (t: QueryTarget) =>
          t.db
            .updateTable('workflow_runs')
            .set({ output: null, state: 'running', lease_owner: null, updated_at: 'running' })
            .where('attempt', '=', 7)
            .where('run_id', '=', 'r-1')
            .where('engine', '=', 'embedded'),
      },
      {
        reason: 'a family member per shape: a three-row insert',
        run: async (t: QueryTarget) => {
          await labelRows.affected(t, 1, { tenant: 'x', k0: 'a', v0: 'b' });
          const args = { tenant: 't-2', k0: 'a', v0: '1', k1: 'b', v1: '2', k2: 'c', v2: '3' };
          return labelRows.affected(t, 3, args);
        },
        expected: (t: QueryTarget) =>
          t.db.insertInto('tenant_labels').values([
            { tenant_id: 't-2', key: 'a', value: '1' },
            { tenant_id: 't-2', key: 'b', value: '2' },
            { tenant_id: 't-2', key: 'c', value: '3' },
          ]),
      },
    ];
    for (const c of cases) {
      test(`[${dialect.name}] ${c.reason}`, async () => {
        const { target, sent } = recordingTarget(dialect);
        await c.run(target);
        const expected = c.expected(target).compile();
        const last = sent[sent.length - 1];
        assert.equal(last?.sql, expected.sql);
        assert.deepEqual(last?.parameters, expected.parameters);
      });
    }

    test(`[${dialect.name}] runs inside a transaction on the transaction's connection`, async () => {
      const { target, sent } = recordingTarget(dialect);
      await target.db.transaction().execute((trx) => byName.rows({ db: trx, dialect }, { name: 'in-trx' }));
      assert.deepEqual(sent.at(-1)?.parameters, ['in-trx', 0]);
    });

    test(`[${dialect.name}] an undefined argument is refused, not left out`, async () => {
      const { target } = recordingTarget(dialect);
      await assert.rejects(
        guardedUpdate.affected(target, { id: 'r', attempt: 1, state: 'running', output: undefined as never }),
        /argument 'output' is undefined/,
      );
    });

    test(`[${dialect.name}] an argument that is not a bound parameter is refused`, async () => {
      const { target } = recordingTarget(dialect);
      const inlined = preparedQuery((db, a: { name: string }) =>
        db.selectFrom('tenants').selectAll().where('name', '=', String(a.name)),
      );
      await assert.rejects(inlined.rows(target, { name: 'x' }), /argument 'name' is not a bound parameter/);
    });

    test(`[${dialect.name}] a Kysely instance with plugins is refused, even once compiled`, async () => {
      const { target } = recordingTarget(dialect);
      await byName.rows(target, { name: 'x' });
      const withPlugin = { db: target.db.withPlugin(new CamelCasePlugin()), dialect };
      await assert.rejects(byName.rows(withPlugin, { name: 'x' }), /plugins/);
    });

    test(`[${dialect.name}] first: rows read at once settle it; otherwise the query goes through Kysely once`, async () => {
      const { target, sent } = recordingTarget(dialect);
      const asked: CompiledQuery[] = [];
      const row = { id: 'now' };
      const answering = { ...target, readNow: <R>(q: CompiledQuery) => (asked.push(q), [row] as R[]) };
      assert.equal(await byName.first(answering, { name: 'a' }), row);
      assert.deepEqual(asked.at(-1)?.parameters, ['a', 0]);
      assert.equal(sent.length, 0, 'not sent through Kysely');
      const declining = { ...target, readNow: (q: CompiledQuery) => (asked.push(q), undefined) };
      assert.equal(await byName.first(declining, { name: 'b' }), undefined);
      assert.equal(asked.length, 2, 'readNow asked once');
      assert.deepEqual(sent.at(-1)?.parameters, ['b', 0]);
      const failing = {
        ...target,
        readNow: () => {
          throw new Error('read failed');
        },
      };
      await assert.rejects(byName.first(failing, { name: 'c' }), /read failed/);
      const inlined = preparedQuery((db, a: { name: string }) =>
        db.selectFrom('tenants').selectAll().where('name', '=', String(a.name)),
      );
      await assert.rejects(inlined.first(answering, { name: 'x' }), /not a bound parameter/);
    });
  });
}
