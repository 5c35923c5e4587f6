/**
 * Group commit on a real SQLite file: concurrent writers share commits, no caller sees a result
 * before its write is committed (checked from a second connection), a lone writer commits at once,
 * and a failure stays inside its own unit — or fails the whole batch when SQLite lost it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, sql, type Generated } from 'kysely';
import { GroupCommitDriver, type SqliteDatabase } from './group-commit-driver.js';

interface Db {
  items: { id: Generated<number>; label: string };
}

const dir = await mkdtemp(join(tmpdir(), 'lessor-group-commit-'));
after(() => rm(dir, { recursive: true, force: true }));
let fileNo = 0;

interface Harness {
  readonly db: Kysely<Db>;
  readonly driver: GroupCommitDriver;
  /** A second connection: sees only committed data. */
  readonly observer: BetterSqlite3.Database;
  /** SQL texts run by the driver, in order. */
  readonly statements: string[];
  /** Makes the next statement whose SQL contains `marker` fail as an I/O error that lost the transaction. */
  loseTransactionOn(marker: string): void;
  /**
   * Makes the next statement whose SQL is exactly `text` fail with `code` before it runs; the
   * transaction stays open, as SQLite leaves it when a COMMIT or ROLLBACK cannot write.
   */
  failNext(text: string, code: string): void;
  close(): Promise<void>;
}

async function open(): Promise<Harness> {
  const file = join(dir, `db-${fileNo++}.sqlite`);
  const database = new BetterSqlite3(file);
  database.pragma('journal_mode = WAL');
  database.exec('create table items (id integer primary key, label text not null unique)');
  const statements: string[] = [];
  let lossMarker: string | null = null;
  const failures: { text: string; code: string }[] = [];
  const source: SqliteDatabase = {
    get inTransaction() {
      return database.inTransaction;
    },
    close: () => database.close(),
    prepare(text: string) {
      statements.push(text);
      const failure = failures.find((f) => f.text === text);
      if (failure) {
        failures.splice(failures.indexOf(failure), 1);
        throw Object.assign(new Error(`injected ${failure.code} on ${text}`), { code: failure.code });
      }
      if (lossMarker !== null && text.includes(lossMarker)) {
        lossMarker = null;
        // What SQLite does on SQLITE_IOERR or SQLITE_FULL mid-transaction: roll it all back.
        if (database.inTransaction) database.exec('rollback');
        throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
      }
      return database.prepare(text);
    },
  };
  let driver: GroupCommitDriver | undefined;
  const db = new Kysely<Db>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => (driver = new GroupCommitDriver(source, { busyTimeoutMs: 2000 })),
      createIntrospector: (k) => new SqliteIntrospector(k),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  });
  const observer = new BetterSqlite3(file, { readonly: true });
  return {
    db,
    driver: driver!,
    observer,
    statements,
    loseTransactionOn: (marker) => (lossMarker = marker),
    failNext: (text, code) => failures.push({ text, code }),
    close: async () => {
      observer.close();
      await db.destroy();
    },
  };
}

/** `work`, or a failure naming `what` when it has not settled within `ms`: a wedged driver never settles. */
async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms (wedged)`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const commits = (h: Harness) => h.statements.filter((s) => s === 'commit').length;
const committedLabels = (h: Harness) =>
  (h.observer.prepare('select label from items order by label').all() as { label: string }[]).map(
    (r) => r.label,
  );

describe('GroupCommitDriver', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await open();
  });
  afterEach(() => h.close());

  test('a lone write commits at once, and a lone read opens no transaction', async () => {
    await h.db.insertInto('items').values({ label: 'a' }).execute();
    assert.equal(commits(h), 1);
    assert.deepEqual(committedLabels(h), ['a']);
    const before = h.statements.length;
    await h.db.selectFrom('items').selectAll().execute();
    assert.deepEqual(h.statements.slice(before), ['select * from "items"']);
  });

  test('concurrent writers share commits, and each sees its result only once committed', async () => {
    const labels = Array.from({ length: 60 }, (_, i) => `w${String(i).padStart(2, '0')}`);
    const seenCommitted: boolean[] = [];
    await Promise.all(
      labels.map(async (label, i) => {
        if (i % 2 === 0) {
          await h.db.insertInto('items').values({ label }).execute();
        } else {
          await h.db.transaction().execute(async (trx) => {
            await trx.insertInto('items').values({ label }).execute();
            await trx.selectFrom('items').select('id').where('label', '=', label).executeTakeFirstOrThrow();
          });
        }
        seenCommitted.push(committedLabels(h).includes(label));
      }),
    );
    assert.deepEqual(
      seenCommitted,
      labels.map(() => true),
    );
    assert.deepEqual(committedLabels(h), labels);
    assert.ok(commits(h) < labels.length / 4, `${commits(h)} commits for ${labels.length} writes`);
  });

  test('a transaction that rolls back inside a batch undoes itself alone', async () => {
    const results = await Promise.allSettled([
      h.db.insertInto('items').values({ label: 'before' }).execute(),
      h.db.transaction().execute(async (trx) => {
        await trx.insertInto('items').values({ label: 'undone' }).execute();
        throw new Error('changed my mind');
      }),
      h.db.insertInto('items').values({ label: 'after' }).execute(),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(committedLabels(h), ['after', 'before']);
    assert.ok(h.statements.includes('rollback to lessor_unit'), 'the transaction joined as a savepoint');
  });

  test('a transaction that opened the batch and rolls back leaves no trace', async () => {
    await assert.rejects(
      h.db.transaction().execute(async (trx) => {
        await trx.insertInto('items').values({ label: 'undone' }).execute();
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    await h.db.insertInto('items').values({ label: 'next' }).execute();
    assert.deepEqual(committedLabels(h), ['next']);
  });

  test('a failing statement fails alone; the batch around it commits', async () => {
    await h.db.insertInto('items').values({ label: 'taken' }).execute();
    const results = await Promise.allSettled([
      h.db.insertInto('items').values({ label: 'one' }).execute(),
      h.db.insertInto('items').values({ label: 'taken' }).execute(),
      h.db.insertInto('items').values({ label: 'two' }).execute(),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(committedLabels(h), ['one', 'taken', 'two']);
  });

  test('when SQLite loses the batch, every unit in it fails and nothing of it is kept', async () => {
    h.loseTransactionOn("'doomed'");
    const results = await Promise.allSettled([
      h.db.insertInto('items').values({ label: 'first' }).execute(),
      h.db.insertInto('items').values({ label: 'second' }).execute(),
      h.db
        .insertInto('items')
        .values({ label: sql<string>`'doomed'` })
        .execute(),
      h.db.insertInto('items').values({ label: 'later' }).execute(),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(committedLabels(h), ['later']);
  });

  test('a COMMIT that fails and then a ROLLBACK that fails: every unit fails, the connection is not wedged', async () => {
    h.failNext('commit', 'SQLITE_FULL');
    h.failNext('rollback', 'SQLITE_IOERR');
    const results = await within(
      2000,
      'the failed batch',
      Promise.allSettled(
        ['lost-1', 'lost-2', 'lost-3'].map((label) => h.db.insertInto('items').values({ label }).execute()),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'rejected'],
    );
    await within(2000, 'the next write', h.db.insertInto('items').values({ label: 'next' }).execute());
    assert.deepEqual(await within(2000, 'a read', h.db.selectFrom('items').select('label').execute()), [
      { label: 'next' },
    ]);
    assert.deepEqual(committedLabels(h), ['next'], 'nothing of the failed batch was committed');
  });

  test('a transaction whose ROLLBACK fails is not committed; the next call works', async () => {
    h.failNext('rollback', 'SQLITE_IOERR');
    await assert.rejects(
      within(
        2000,
        'the failed transaction',
        h.db.transaction().execute(async (trx) => {
          await trx.insertInto('items').values({ label: 'undone' }).execute();
          throw new Error('changed my mind');
        }),
      ),
    );
    await within(2000, 'the next write', h.db.insertInto('items').values({ label: 'next' }).execute());
    assert.deepEqual(committedLabels(h), ['next']);
  });

  test('a savepoint whose ROLLBACK TO fails loses its batch: nothing of it is committed', async () => {
    h.failNext('rollback to lessor_unit', 'SQLITE_IOERR');
    const results = await within(
      2000,
      'the batch',
      Promise.allSettled([
        h.db.insertInto('items').values({ label: 'before' }).execute(),
        h.db.transaction().execute(async (trx) => {
          await trx.insertInto('items').values({ label: 'undone' }).execute();
          throw new Error('changed my mind');
        }),
      ]),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    await within(2000, 'the next write', h.db.insertInto('items').values({ label: 'after' }).execute());
    assert.deepEqual(committedLabels(h), ['after']);
  });
});

describe('GroupCommitDriver.readNow', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await open();
  });
  afterEach(() => h.close());

  test('runs a read at once while the connection is free, and nothing else', async () => {
    await h.db.insertInto('items').values({ label: 'a' }).execute();
    const read = h.db.selectFrom('items').select('label').orderBy('label').compile();
    assert.deepEqual(h.driver.readNow(read), [{ label: 'a' }]);
    const write = h.db.insertInto('items').values({ label: 'b' }).compile();
    assert.equal(h.driver.readNow(write), undefined);
    assert.deepEqual(committedLabels(h), ['a']);
  });

  test('declines while a unit holds the connection or a batch is open, so no uncommitted row is read', async () => {
    await h.db.insertInto('items').values({ label: 'a' }).execute();
    const read = h.db.selectFrom('items').select('label').orderBy('label').compile();
    let release!: () => void;
    const inside = new Promise<void>((resolve) => (release = resolve));
    let wrote!: () => void;
    const written = new Promise<void>((resolve) => (wrote = resolve));
    const transaction = h.db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ label: 'b' }).execute();
      wrote();
      await inside;
    });
    await written;
    assert.equal(h.driver.readNow(read), undefined);
    release();
    await transaction;
    assert.deepEqual(h.driver.readNow(read), [{ label: 'a' }, { label: 'b' }]);
  });

  test('declines rather than throws once the database is closed', async () => {
    const read = h.db.selectFrom('items').select('label').compile();
    await h.db.selectFrom('items').select('label').execute();
    await h.db.destroy();
    assert.equal(h.driver.readNow(read), undefined);
    h.observer.close();
    h = await open();
  });
});

describe('GroupCommitDriver streaming', () => {
  test('streaming a query is refused rather than silently buffered; the connection keeps serving', async () => {
    const h = await open();
    try {
      await h.db.insertInto('items').values({ label: 'a' }).execute();
      const stream = h.db.selectFrom('items').selectAll().stream();
      await assert.rejects(
        (async () => {
          for await (const row of stream) assert.fail(`no row may arrive: ${JSON.stringify(row)}`);
        })(),
        /does not stream query results/,
      );
      assert.equal((await h.db.selectFrom('items').selectAll().execute()).length, 1);
    } finally {
      await h.close();
    }
  });
});
