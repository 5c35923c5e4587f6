/**
 * Storage faults raised by SQLite itself on a real file, through the whole store: `PRAGMA
 * max_page_count` makes the engine answer SQLITE_FULL exactly as a full disk does, `PRAGMA
 * query_only` makes it answer SQLITE_READONLY as a read-only file does. Each is a
 * StoreUnavailableError (503 STORE_UNAVAILABLE) from every call, including a failed COMMIT that the
 * group-commit driver reports from `releaseConnection`; nothing acknowledged is lost; the write
 * probe fails while the fault lasts and ends the incident once it is gone; the incident is logged
 * once, not per call. (A real full tmpfs: test/reliability/storage-faults.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import type BetterSqlite3 from 'better-sqlite3';
import { StoreUnavailableError } from '../../domain/errors.js';
import type { Logger } from '../../domain/logger.js';
import { specOf, unique } from '../conformance/harness.js';
import type { Store } from '../store.js';
import { openSqliteDatabase, sqliteStoreOn } from './sqlite-binding.js';
import { liveTenantCount } from '../testing/tenant-count.js';

interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
}

function recordingLogger(lines: LogLine[]): Logger {
  const at =
    (level: LogLine['level']) =>
    (first: object | string, msg?: string): void => {
      lines.push({ level, msg: typeof first === 'string' ? first : (msg ?? '') });
    };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  };
  return logger;
}

const dir = await mkdtemp(join(tmpdir(), 'lessor-storage-faults-'));
after(() => rm(dir, { recursive: true, force: true }));

/** A property of a native better-sqlite3 object, read (and methods bound) on the object itself. */
function native(target: object, key: string | symbol): unknown {
  const value: unknown = Reflect.get(target, key, target);
  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
}

async function eventually(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('SQLite storage faults through the store', () => {
  let database: BetterSqlite3.Database;
  let store: Store;
  let lines: LogLine[];
  /** Set to a statement's text to make its next run fail with SQLITE_FULL (a COMMIT on a full disk). */
  let failNext: string | null;

  /** `statement`, whose `run` fails once while `failNext` names its SQL. */
  const faultyStatement = (statement: BetterSqlite3.Statement): BetterSqlite3.Statement =>
    new Proxy(statement, {
      get(target, key) {
        if (key !== 'run' || target.source !== failNext) return native(target, key);
        return () => {
          failNext = null;
          throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
        };
      },
    });

  beforeEach(async () => {
    lines = [];
    failNext = null;
    database = openSqliteDatabase({ filename: join(dir, `${unique('db')}.sqlite`) });
    const prepare = database.prepare.bind(database);
    const faulty = new Proxy(database, {
      get(target, key) {
        if (key !== 'prepare') return native(target, key);
        return (sql: string) => faultyStatement(prepare(sql));
      },
    });
    store = sqliteStoreOn(faulty, {
      logger: recordingLogger(lines),
      incidentTiming: { probeEveryMs: 50, quietMs: 300, summaryEveryMs: 60_000, now: () => Date.now() },
    });
    await store.migrate();
  });
  afterEach(() => store.close());

  const create = (name = unique('t')) => store.tenants.create({ name, spec: specOf(), actor: 'test' });
  const loud = () => lines.filter((l) => l.level === 'warn' || l.level === 'error');

  test('a full database: writes fail as StoreUnavailableError, nothing acknowledged is lost, then it recovers', async () => {
    const acknowledged = [(await create()).id];
    database.pragma(`max_page_count = ${database.pragma('page_count', { simple: true }) as number}`);
    let refused = 0;
    for (let i = 0; i < 200 && refused < 20; i++) {
      try {
        acknowledged.push((await create()).id);
      } catch (error) {
        assert.ok(error instanceof StoreUnavailableError, `a ${String(error)}`);
        assert.equal(error.code, 'STORE_UNAVAILABLE');
        assert.equal((error.cause as { code?: string }).code, 'SQLITE_FULL');
        refused++;
      }
    }
    assert.equal(refused, 20, 'the database filled up');
    await assert.rejects(
      Promise.all(Array.from({ length: 5 }, () => create())),
      StoreUnavailableError,
      'a batch of concurrent writes fails alike',
    );
    for (const id of acknowledged) assert.ok(await store.tenants.get(id), `acknowledged ${id} is kept`);
    assert.equal(await liveTenantCount(store), acknowledged.length, 'no refused write was kept');
    assert.deepEqual(loud(), [lines.find((l) => l.level === 'error')], 'one error line for the incident');

    database.pragma('max_page_count = 1073741823');
    await store.probeWrite().then(
      () => assert.fail('ready at once after a failure'),
      (error: unknown) => assert.ok(error instanceof StoreUnavailableError, String(error)),
    );
    await eventually('the write probe to pass after a quiet period', () =>
      lines.some((l) => l.level === 'info' && l.msg === 'store available again'),
    );
    await store.probeWrite();
    acknowledged.push((await create()).id);
    assert.equal(await liveTenantCount(store), acknowledged.length);
  });

  test('a read-only database: the write probe fails until writes work again; the store notices alone', async () => {
    await create();
    database.pragma('query_only = 1');
    await assert.rejects(store.probeWrite(), StoreUnavailableError);
    await assert.rejects(create(), (error: unknown) => {
      assert.ok(error instanceof StoreUnavailableError);
      assert.equal((error.cause as { code?: string }).code, 'SQLITE_READONLY');
      return true;
    });
    assert.equal(await liveTenantCount(store), 1, 'reads still work');
    database.pragma('query_only = 0');
    await eventually('the incident ends without a caller probing', () =>
      lines.some((l) => l.msg === 'store available again'),
    );
    await store.probeWrite();
    assert.equal(loud().length, 1, `one loud line: ${JSON.stringify(lines)}`);
  });

  test('a COMMIT that fails reaches the caller as StoreUnavailableError, and the next write works', async () => {
    failNext = 'commit';
    await assert.rejects(create('lost'), StoreUnavailableError);
    assert.equal(await store.tenants.get('lost'), undefined, 'the refused write was not kept');
    await create('next');
    assert.ok(await store.tenants.get('next'));
  });
});
