/**
 * The SQLite binding: a better-sqlite3 database (WAL, foreign keys on, synchronous=NORMAL) behind
 * Kysely, through the group-commit driver (group-commit-driver.ts). Rules that make one file safe
 * to share between processes — and between several stores in one process (tests that play "a
 * second Lessor"):
 * - Writes run in transactions started with `BEGIN IMMEDIATE`, so a transaction that reads and
 *   then writes holds the write lock from its first statement: no read-then-upgrade deadlocks, and
 *   the store's "load, decide, write" transactions are serialised as PostgreSQL's row locks would do.
 * - Waiting for another connection's lock happens asynchronously. better-sqlite3 is synchronous,
 *   so SQLite's own busy handler would block the event loop — and with it the very transaction
 *   being waited for, when it belongs to this process. Instead `busy_timeout` is 0 and a statement
 *   that gets SQLITE_BUSY is retried after a short timer, for up to `busyTimeoutMs` in total.
 * - Statements yield to the event loop now and then. A synchronous query resolves in a microtask,
 *   so under load chains of store calls ran back to back for seconds without the process reading
 *   a socket: some API requests then waited for the whole burst (create p99 ≈ the bench window)
 *   while others were served in milliseconds, and health checks would have timed out alike.
 */
import BetterSqlite3 from 'better-sqlite3';
import {
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type Dialect,
} from 'kysely';
import type { ReadNow } from '../context.js';
import { silentLogger, type Logger } from '../../domain/logger.js';
import type { StoreMetrics } from '../../domain/metrics.js';
import { sqliteDialect } from '../dialect.js';
import { createKyselyStore } from '../kysely-store.js';
import { queryMetricsLog } from '../query-metrics.js';
import type { Database } from '../schema.js';
import type { SecretsAtRest } from '../sealed-specs.js';
import type { Store } from '../store.js';
import { StoreIncidents, type StoreIncidentTiming } from '../store-incidents.js';
import { withUnavailableMapping } from '../unavailable-dialect.js';
import { secureDatabaseFile } from './file-modes.js';
import { GroupCommitDriver, type SqliteDatabase } from './group-commit-driver.js';

export interface SqliteStoreOptions {
  /** A file path, or `:memory:`. The file (mode 0600) and its directory (0700) are created when missing. */
  readonly filename: string;
  /** How long a statement waits for another connection's lock before failing (ms, default 5000). */
  readonly busyTimeoutMs?: number;
  /**
   * Where storage incidents are reported (store-incidents.ts), and told when an existing database
   * file's modes were looser than 0600 and had to be tightened.
   */
  readonly logger?: Logger;
  readonly secrets?: SecretsAtRest | undefined;
  readonly metrics?: StoreMetrics | undefined;
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

/** Prepared statements kept per SQL text; Kysely would otherwise prepare every query afresh. */
export const STATEMENT_CACHE_SIZE = 500;

interface CachedStatement {
  readonly statement: BetterSqlite3.Statement;
  /** Run since the eviction walk last passed it (second chance). */
  used: boolean;
}

/**
 * better-sqlite3 statements are reusable, and preparing one costs about as much as running it: a
 * small cache of prepared statements takes that off every query. Least recently used out first,
 * approximately ("second chance"): a hit only marks its statement used, and when a new one needs
 * room, the walk from the oldest moves a used one to the newest end, unmarked, and drops the first
 * unused. Not an exact LRU that deletes and re-inserts its key on every hit: V8 keeps a deleted
 * entry in its hash bucket's chain until the table is rebuilt, so a statement run over and over (a
 * GET's lookup) is found behind more and more dead copies of itself: 0.07 µs per run with 20
 * statements cached, 0.9 µs with 300, 6 µs with 3 000 (microbench).
 */
export function withStatementCache(database: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, CachedStatement>();
  return {
    close: () => database.close(),
    get inTransaction() {
      return database.inTransaction;
    },
    prepare(sql: string) {
      const cached = cache.get(sql);
      if (cached) {
        cached.used = true;
        return cached.statement;
      }
      const statement = database.prepare(sql);
      if (cache.size >= STATEMENT_CACHE_SIZE) evictOne(cache);
      cache.set(sql, { statement, used: false });
      return statement;
    },
  };
}

/** Drops the oldest statement not used since the walk last passed it (every one is, after a lap). */
function evictOne(cache: Map<string, CachedStatement>): void {
  for (const [sql, cached] of cache) {
    cache.delete(sql);
    if (!cached.used) return;
    cached.used = false;
    cache.set(sql, cached);
  }
}

/** The better-sqlite3 database a store runs on, set up as the rules above need. */
export function openSqliteDatabase(options: SqliteStoreOptions): BetterSqlite3.Database {
  const memory = options.filename === ':memory:';
  if (!memory) warnTightened(options, secureDatabaseFile(options.filename));
  const database = new BetterSqlite3(options.filename);
  // Switching a new file to WAL needs a moment of exclusive access: wait for it synchronously
  // (nothing of ours is in flight yet); afterwards waits are asynchronous (BusyRetryConnection).
  database.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  if (!memory) database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 0');
  database.pragma('foreign_keys = ON');
  database.pragma('synchronous = NORMAL');
  // A statement that may fail midway (a view insert whose trigger writes several rows, a savepoint
  // inside a group commit's batch) keeps the pages it changes in a statement journal; past 64 KiB
  // SQLite spills it to a temporary file, created and unlinked for every such statement (an
  // execution's move touches ~17 pages: ~60 µs of file calls each). In memory it never spills;
  // the journal lives only as long as its statement or savepoint.
  database.pragma('temp_store = MEMORY');
  return database;
}

export function openSqliteStore(options: SqliteStoreOptions): Store {
  return sqliteStoreOn(openSqliteDatabase(options), options);
}

/**
 * The store on an open database (from `openSqliteDatabase`); it owns the database from now on.
 * Tests use it to reach the connection: `PRAGMA max_page_count` or `query_only` make SQLite itself
 * raise a genuine SQLITE_FULL or SQLITE_READONLY.
 */
export function sqliteStoreOn(
  database: BetterSqlite3.Database,
  options: Pick<SqliteStoreOptions, 'busyTimeoutMs' | 'logger' | 'secrets' | 'metrics'> & {
    incidentTiming?: StoreIncidentTiming;
  } = {},
): Store {
  const incidents = new StoreIncidents(options.logger ?? silentLogger, options.incidentTiming);
  const metrics = options.metrics;
  let driver: GroupCommitDriver | undefined;
  const dialect: Dialect = {
    createAdapter: () => new TransactionalDdlSqliteAdapter(),
    createDriver: () =>
      (driver = new GroupCommitDriver(withStatementCache(database), {
        busyTimeoutMs: Math.max(0, options.busyTimeoutMs ?? 5000),
        ...(metrics && { onCommit: (units: number) => metrics.groupCommitBatchSize.observe({}, units) }),
      })),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
  const db = new Kysely<Database>({
    dialect: withUnavailableMapping(dialect, sqliteDialect, incidents, metrics),
    ...(metrics && { log: queryMetricsLog(metrics, 'sqlite') }),
  });
  // Timed into the same histogram as Kysely's query log times every other statement.
  const readNow: ReadNow = <R>(query: CompiledQuery<R>) => {
    const startedAt = performance.now();
    const rows = driver?.readNow<R>(query);
    if (rows && metrics) {
      metrics.queryDuration.observe(
        { dialect: 'sqlite', kind: 'select' },
        (performance.now() - startedAt) / 1000,
      );
    }
    return rows;
  };
  return createKyselyStore({ db, dialect: sqliteDialect, incidents, secrets: options.secrets, readNow });
}

function warnTightened(options: SqliteStoreOptions, paths: readonly string[]): void {
  if (paths.length === 0) return;
  (options.logger ?? silentLogger).warn(
    { paths },
    'database files were readable by others: set to mode 0600',
  );
}
