/**
 * The SQLite binding: a better-sqlite3 database (WAL, foreign keys on, synchronous=NORMAL) behind
 * Kysely. Two rules make one file safe to share between processes — and between several stores in
 * one process (tests that play "a second Lessor"):
 * - Write transactions start with `BEGIN IMMEDIATE`, so a transaction that reads and then writes
 *   holds the write lock from its first statement: no read-then-upgrade deadlocks, and the store's
 *   "load, decide, write" transactions are serialised as PostgreSQL's row locks would do.
 * - Waiting for another connection's lock happens asynchronously. better-sqlite3 is synchronous,
 *   so SQLite's own busy handler would block the event loop — and with it the very transaction
 *   being waited for, when it belongs to this process. Instead `busy_timeout` is 0 and a statement
 *   that gets SQLITE_BUSY is retried after a short timer, for up to `busyTimeoutMs` in total.
 * - Statements yield to the event loop now and then. A synchronous query resolves in a microtask,
 *   so under load chains of store calls ran back to back for seconds without the process reading
 *   a socket: some API requests then waited for the whole burst (create p99 ≈ the bench window)
 *   while others were served in milliseconds, and health checks would have timed out alike.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteAdapter,
  SqliteDriver,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type QueryResult,
  type SqliteDialectConfig,
} from 'kysely';
import { sqliteDialect } from '../dialect.js';
import { createKyselyStore } from '../kysely-store.js';
import type { Database } from '../schema.js';
import type { Store } from '../store.js';
import { withUnavailableMapping } from '../unavailable-dialect.js';

export interface SqliteStoreOptions {
  /** A file path, or `:memory:`. The parent directory is created when missing. */
  readonly filename: string;
  /** How long a statement waits for another connection's lock before failing (ms, default 5000). */
  readonly busyTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Longest run of statements without a turn of the event loop (ms); see the file comment. */
const YIELD_EVERY_MS = 5;

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/** Retries SQLITE_BUSY statements on a timer and yields to I/O now and then (see the file comment). */
class BusyRetryConnection implements DatabaseConnection {
  private lastTurn = performance.now();

  constructor(
    private readonly inner: DatabaseConnection,
    private readonly busyTimeoutMs: number,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (performance.now() - this.lastTurn > YIELD_EVERY_MS) {
      await nextTurn();
      this.lastTurn = performance.now();
    }
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      try {
        return await this.inner.executeQuery<R>(query);
      } catch (error) {
        if (!isBusy(error) || Date.now() >= deadline) throw error;
        await sleep(delay);
      }
    }
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

/**
 * SQLite does run DDL inside transactions; Kysely's adapter just says it does not. Saying so makes
 * the migrator apply migrations in one `BEGIN IMMEDIATE` transaction: atomic, and serialised
 * between connections racing to migrate a fresh file.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  #connection: BusyRetryConnection | undefined;

  constructor(
    config: SqliteDialectConfig,
    private readonly busyTimeoutMs: number,
  ) {
    super(config);
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await super.acquireConnection();
    this.#connection ??= new BusyRetryConnection(connection, this.busyTimeoutMs);
    return this.#connection;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** Prepared statements kept per SQL text; Kysely would otherwise prepare every query afresh. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * better-sqlite3 statements are reusable, and preparing one costs about as much as running it: a
 * small LRU of prepared statements takes that off every query.
 */
function withStatementCache(database: BetterSqlite3.Database): SqliteDialectConfig['database'] {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (statement) {
        cache.delete(sql);
      } else {
        statement = database.prepare(sql);
        const oldest = cache.keys().next();
        if (cache.size >= STATEMENT_CACHE_SIZE && !oldest.done) cache.delete(oldest.value);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}

function openDatabase(options: SqliteStoreOptions): BetterSqlite3.Database {
  const memory = options.filename === ':memory:';
  if (!memory) mkdirSync(dirname(options.filename), { recursive: true });
  const database = new BetterSqlite3(options.filename);
  // Switching a new file to WAL needs a moment of exclusive access: wait for it synchronously
  // (nothing of ours is in flight yet); afterwards waits are asynchronous (BusyRetryConnection).
  database.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  if (!memory) database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 0');
  database.pragma('foreign_keys = ON');
  database.pragma('synchronous = NORMAL');
  return database;
}

export function openSqliteStore(options: SqliteStoreOptions): Store {
  const database = openDatabase(options);
  const dialect: Dialect = {
    createAdapter: () => new TransactionalDdlSqliteAdapter(),
    createDriver: () =>
      new ImmediateSqliteDriver(
        { database: withStatementCache(database) },
        Math.max(0, options.busyTimeoutMs ?? 5000),
      ),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
  const db = new Kysely<Database>({ dialect: withUnavailableMapping(dialect, sqliteDialect) });
  return createKyselyStore({ db, dialect: sqliteDialect });
}
