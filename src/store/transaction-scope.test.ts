/**
 * A transaction callback that awaits another store call fails at once with TransactionMisuseError,
 * on a real SQLite file (where that call would otherwise wait forever for the commit of the
 * transaction holding the one connection) and on PostgreSQL; the transaction rolls back, the
 * change signal is not told, and the database keeps serving. The Kysely instances are built the
 * way the bindings build theirs: the real driver behind the wrapper every binding uses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Kysely,
  PostgresDialect,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type Dialect,
} from 'kysely';
import { silentLogger } from '../domain/logger.js';
import { ChangeSignal } from './change-signal.js';
import { parseDatabaseUrl } from './create-store.js';
import { transaction, type StoreContext } from './context.js';
import { postgresDialect, sqliteDialect, type SqlDialect } from './dialect.js';
import { createPool } from './postgres/postgres-binding.js';
import type { Database } from './schema.js';
import { specCodec } from './sealed-specs.js';
import { GroupCommitDriver } from './sqlite/group-commit-driver.js';
import { openSqliteDatabase } from './sqlite/sqlite-binding.js';
import { backends, type TestDatabase } from './testing/test-databases.js';
import { TransactionMisuseError } from './transaction-scope.js';
import { withUnavailableMapping } from './unavailable-dialect.js';

const ignore = { failed: () => undefined };

function kyselyFor(url: string): { db: Kysely<Database>; dialect: SqlDialect } {
  const target = parseDatabaseUrl(url);
  if (target.kind === 'postgres') {
    const dialect = new PostgresDialect({ pool: createPool(target.url, silentLogger) });
    return {
      db: new Kysely<Database>({ dialect: withUnavailableMapping(dialect, postgresDialect, ignore) }),
      dialect: postgresDialect,
    };
  }
  const database = openSqliteDatabase({ filename: target.filename });
  const dialect: Dialect = {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new GroupCommitDriver(database, { busyTimeoutMs: 5_000 }),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
  return {
    db: new Kysely<Database>({ dialect: withUnavailableMapping(dialect, sqliteDialect, ignore) }),
    dialect: sqliteDialect,
  };
}

const probeRow = (db: Kysely<Database>) =>
  db.selectFrom('health_probe').select('written_at').where('id', '=', 1).executeTakeFirst();

for (const backend of backends()) {
  describe(`[${backend.name}] transaction scope`, () => {
    let database: TestDatabase | undefined;
    let ctx: StoreContext | undefined;
    const told: string[] = [];
    before(async () => {
      database = await backend.create();
      const { db, dialect } = kyselyFor(database.url);
      const context: StoreContext = {
        db,
        dialect,
        specs: specCodec(undefined),
        planSpecs: specCodec(undefined, 'plan'),
        secrets: undefined,
        changes: new ChangeSignal(),
      };
      ctx = context;
      context.changes.subscribe('events', () => told.push('events'));
    });
    after(async () => {
      await ctx?.db.destroy();
      await database?.cleanup();
    });

    const cases: { reason: string; stray: (c: StoreContext) => Promise<unknown> }[] = [
      { reason: 'a plain query on the database handle', stray: (c) => probeRow(c.db) },
      { reason: 'a nested transaction', stray: (c) => transaction(c, (trx) => probeRow(trx)) },
      {
        reason: 'a query awaited after other awaits',
        stray: async (c) => {
          await new Promise((resolve) => setImmediate(resolve));
          return probeRow(c.db);
        },
      },
    ];
    for (const { reason, stray } of cases) {
      test(`[${backend.name}] ${reason} inside a transaction callback fails loudly and rolls back`, async () => {
        const c = ctx!;
        const writtenAt = `misuse-${reason}`;
        await assert.rejects(
          transaction(c, async (trx, tx) => {
            await trx.insertInto('health_probe').values({ id: 1, written_at: writtenAt }).execute();
            tx.changed('events');
            await stray(c);
          }),
          TransactionMisuseError,
        );
        assert.equal((await probeRow(c.db))?.written_at, undefined, 'the write was rolled back');
        assert.deepEqual(told.splice(0), [], 'a rolled-back transaction tells the signal nothing');
      });
    }

    test(`[${backend.name}] a stray write that waits for the transaction's own row is freed, not deadlocked`, async () => {
      // On PostgreSQL the stray insert waits for the transaction's uncommitted row with the same
      // key, and the transaction waits for the stray insert: only the rollback ends the wait.
      const c = ctx!;
      let stray: Promise<unknown> | undefined;
      const bystander = probeRow(c.db);
      await assert.rejects(
        transaction(c, async (trx) => {
          await trx.insertInto('health_probe').values({ id: 1, written_at: 'held' }).execute();
          stray = c.db.insertInto('health_probe').values({ id: 1, written_at: 'stray' }).execute();
          await stray;
        }),
        TransactionMisuseError,
      );
      await stray;
      await bystander;
      assert.equal((await probeRow(c.db))?.written_at, 'stray', 'the stray write ran after the rollback');
      await c.db.deleteFrom('health_probe').where('id', '=', 1).execute();
      assert.deepEqual(told.splice(0), []);
    });

    test(`[${backend.name}] SQL on the transaction, and store calls after it settled, are fine`, async () => {
      const c = ctx!;
      let later: (() => Promise<unknown>) | undefined;
      await transaction(c, async (trx, tx) => {
        await trx.insertInto('health_probe').values({ id: 1, written_at: 'committed' }).execute();
        assert.equal((await probeRow(trx))?.written_at, 'committed');
        tx.changed('events');
        later = () => probeRow(c.db);
      });
      assert.deepEqual(told.splice(0), ['events'], 'told once, after the commit');
      assert.equal(((await later!()) as { written_at: string } | undefined)?.written_at, 'committed');
    });
  });
}
