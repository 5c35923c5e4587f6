/**
 * Every difference between SQLite and PostgreSQL that the store cares about, in one place: column
 * types used by migrations, row locking (`FOR NO KEY UPDATE`, `FOR UPDATE SKIP LOCKED`), the event
 * stream's commit-order lock, and how each driver reports constraint violations and lost
 * connections (by structured error code, never by message text).
 *
 * What is deliberately NOT here because both engines speak it the same way: `INSERT … ON CONFLICT
 * DO NOTHING`, `RETURNING`, partial indexes, JSON storage (text on both; only reading a path inside
 * a document differs: `jsonText`).
 */
import {
  sql,
  type RawBuilder,
  type ColumnDataType,
  type ColumnDefinitionBuilder,
  type Expression,
  type Kysely,
  type SelectQueryBuilder,
} from 'kysely';
import type { Database } from './schema.js';
import type { DialectName } from './store.js';

/** A column type as the schema builder takes it (Kysely does not export its own alias). */
export type ColumnType = ColumnDataType | Expression<unknown>;

export interface SqlDialect {
  readonly name: DialectName;
  /** Epoch-ms and counters: `bigint` on PostgreSQL (parsed to number by the binding), `integer` on SQLite. */
  readonly bigint: ColumnType;
  /** Text compared and ordered byte-wise (keyset cursors, name prefix ranges): `collate "C"` on PostgreSQL. */
  readonly keyText: ColumnType;
  /** Makes `column` an auto-incrementing primary key (event sequence). */
  serialPrimaryKey(column: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
  /**
   * Locks the selected rows against other writers until the transaction ends. PostgreSQL:
   * `FOR NO KEY UPDATE` (inserts referencing the row by foreign key are not blocked). SQLite:
   * nothing — its transactions start with `BEGIN IMMEDIATE` (see sqlite/): a writer is alone.
   */
  lockForUpdate<DB, TB extends keyof DB, O>(
    query: SelectQueryBuilder<DB, TB, O>,
  ): SelectQueryBuilder<DB, TB, O>;
  /** Like `lockForUpdate`, but rows locked by another transaction are skipped (work claiming). */
  skipLocked<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O>;
  /**
   * The event stream's commit-order guarantee (SSE resumes by `seq`, so a reader must never pass
   * a `seq` whose event commits later). `eventAppendGate` is a condition that the event insert
   * (a writing transaction's last write) evaluates once, before its rows take their seqs;
   * `readSettledEvents` runs a stream read so that it sees no seq below one still in flight.
   * PostgreSQL: the gate takes a shared advisory lock that the writer holds from its append to
   * commit — in the insert statement itself, no round trip of its own — and a stream read takes it
   * exclusively for the length of one query: writers never wait for each other, only briefly for
   * readers. SQLite: one writer at a time, so seqs commit in order already; no gate, and the read
   * is plain.
   */
  readonly eventAppendGate: RawBuilder<boolean> | null;
  readSettledEvents<T>(db: Kysely<Database>, read: (db: Kysely<Database>) => Promise<T>): Promise<T>;
  /**
   * Makes `table` append-only: from now on every UPDATE or DELETE of its rows (and, on PostgreSQL,
   * TRUNCATE) fails. `allowChangesTo` undoes it (a migration's `down`).
   */
  forbidChangesTo(db: Kysely<unknown>, table: string): Promise<void>;
  allowChangesTo(db: Kysely<unknown>, table: string): Promise<void>;
  /**
   * Serialises retention sweeps across replicas for the rest of the transaction, so two sweepers
   * never delete the same rows at once (no deadlocks, no duplicate work). PostgreSQL: a transaction
   * advisory lock; SQLite: nothing — one writer at a time already.
   */
  lockRetentionSweep(db: Kysely<Database>): Promise<void>;
  /**
   * The text at `path` (constant keys, never input) inside the JSON document stored as text in
   * `column`; null when absent. SQLite: `json_extract`; PostgreSQL: a cast to `json` and `#>>`.
   */
  jsonText(column: string, path: readonly string[]): RawBuilder<string | null>;
  /** A unique or primary-key constraint refused the write. */
  isUniqueViolation(error: unknown): boolean;
  /** A foreign key refused the write (the referenced row does not exist). */
  isForeignKeyViolation(error: unknown): boolean;
  /**
   * The database cannot serve now — unreachable, busy, out of disk, read-only, failing I/O — so the
   * operation may succeed later (StoreUnavailableError, 503 STORE_UNAVAILABLE).
   */
  isUnavailable(error: unknown): boolean;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = error.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * SQLite result codes (extended ones included: `SQLITE_IOERR_WRITE`, `SQLITE_READONLY_DBMOVED` …)
 * meaning "the file cannot serve now": locked past the busy timeout, disk full, read-only, I/O
 * failing, cannot be opened, out of memory. Corruption (`SQLITE_CORRUPT`, `SQLITE_NOTADB`) is not
 * among them: retrying will not repair a damaged file, so it stays a 500 that an operator must see.
 */
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|PROTOCOL|READONLY|NOMEM|PERM)/;

export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  bigint: 'integer',
  keyText: 'text',
  serialPrimaryKey: (column) => column.primaryKey().autoIncrement(),
  lockForUpdate: (query) => query,
  skipLocked: (query) => query,
  eventAppendGate: null,
  readSettledEvents: (db, read) => read(db),
  forbidChangesTo: async (db, table) => {
    for (const event of ['update', 'delete']) {
      await sql`create trigger ${sql.id(`${table}_no_${event}`)} before ${sql.raw(event)} on ${sql.table(table)}
        begin select raise(abort, ${sql.lit(`${table} is append-only`)}); end`.execute(db);
    }
  },
  allowChangesTo: async (db, table) => {
    for (const event of ['update', 'delete'])
      await sql`drop trigger if exists ${sql.id(`${table}_no_${event}`)}`.execute(db);
  },
  lockRetentionSweep: async () => {},
  jsonText: (column, path) =>
    sql<string | null>`json_extract(${sql.ref(column)}, ${sql.lit(`$.${path.join('.')}`)})`,
  isUniqueViolation: (error) => {
    const code = errorCode(error);
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  },
  isForeignKeyViolation: (error) => errorCode(error) === 'SQLITE_CONSTRAINT_FOREIGNKEY',
  isUnavailable: (error) => SQLITE_UNAVAILABLE.test(errorCode(error) ?? ''),
};

/**
 * SQLSTATE classes meaning "not now": 08 connection exception, 53 insufficient resources (53100
 * disk full, 53200 out of memory), 57 operator intervention (server shutting down / starting up),
 * 58 system error (58030 I/O error); and 25006, a read-only transaction (a standby, or
 * `default_transaction_read_only`). Node socket errors (`E…`) too. Data corruption (XX001, XX002)
 * is not: it stays a 500.
 */
const PG_UNAVAILABLE_CLASSES = ['08', '53', '57', '58'];
const PG_UNAVAILABLE_CODES = ['25006'];

function isPgUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = errorCode(error);
  // pg reports a dropped connection ("Connection terminated unexpectedly", "not queryable",
  // connect timeout) as a plain Error without code; every server-side error carries a SQLSTATE.
  if (code === undefined) return true;
  if (/^E[A-Z]+$/.test(code)) return true;
  if (PG_UNAVAILABLE_CODES.includes(code)) return true;
  return code.length === 5 && PG_UNAVAILABLE_CLASSES.includes(code.slice(0, 2));
}

/** Advisory lock key guarding event appends (any constant; it is per database). */
const EVENT_APPEND_LOCK = 7_411_001;
/** Advisory lock key held by a retention batch. */
const RETENTION_SWEEP_LOCK = 7_411_002;

export const postgresDialect: SqlDialect = {
  name: 'postgres',
  bigint: 'bigint',
  keyText: sql`text collate "C"`,
  serialPrimaryKey: (column) => column.primaryKey().generatedByDefaultAsIdentity(),
  lockForUpdate: (query) => query.forNoKeyUpdate(),
  skipLocked: (query) => query.forUpdate().skipLocked(),
  // An uncorrelated condition: evaluated once, before the first row is produced (and numbered).
  eventAppendGate: sql<boolean>`(select count(*) from (select pg_advisory_xact_lock_shared(${sql.lit(EVENT_APPEND_LOCK)})) as l) = 1`,
  readSettledEvents: (db, read) =>
    db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${EVENT_APPEND_LOCK})`.execute(trx);
      return read(trx);
    }),
  forbidChangesTo: async (db, table) => {
    await sql`create or replace function lessor_append_only() returns trigger language plpgsql as $$
      begin raise exception '% is append-only', tg_table_name using errcode = '42501'; end $$`.execute(db);
    await sql`create trigger ${sql.id(`${table}_append_only`)} before update or delete on ${sql.table(table)}
      for each row execute function lessor_append_only()`.execute(db);
    await sql`create trigger ${sql.id(`${table}_no_truncate`)} before truncate on ${sql.table(table)}
      for each statement execute function lessor_append_only()`.execute(db);
  },
  allowChangesTo: async (db, table) => {
    await sql`drop trigger if exists ${sql.id(`${table}_append_only`)} on ${sql.table(table)}`.execute(db);
    await sql`drop trigger if exists ${sql.id(`${table}_no_truncate`)} on ${sql.table(table)}`.execute(db);
  },
  lockRetentionSweep: async (db) => {
    await sql`select pg_advisory_xact_lock(${RETENTION_SWEEP_LOCK})`.execute(db);
  },
  jsonText: (column, path) =>
    sql<string | null>`(${sql.ref(column)}::json #>> ${sql.lit(`{${path.join(',')}}`)})`,
  isUniqueViolation: (error) => errorCode(error) === '23505',
  isForeignKeyViolation: (error) => errorCode(error) === '23503',
  isUnavailable: isPgUnavailable,
};
