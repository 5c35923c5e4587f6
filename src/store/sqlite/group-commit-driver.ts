/**
 * The Kysely driver for a store's one better-sqlite3 connection, with group commit.
 *
 * Every store call is a unit (one statement, or one transaction) that holds the connection alone,
 * as Kysely's own SQLite driver has it. What differs is the commit: a unit that writes joins a
 * batch — one SQLite transaction opened with `BEGIN IMMEDIATE` — and when it releases the
 * connection while other units wait for it, the batch stays open for them; it commits when no unit
 * waits (or it is `MAX_BATCH_UNITS` units or `MAX_BATCH_MS` old). A lone writer therefore commits
 * at once, and a burst of N concurrent writers shares a handful of commits instead of N: each
 * SQLite commit writes every page it touched to the WAL, which is most of what a small write
 * costs (an insert: 35–180 µs in autocommit, 3–10 µs inside a transaction, on the bench machine).
 *
 * Contract kept from autocommit: **no unit's result is delivered before its batch commits.**
 * `releaseConnection` waits for the commit, and Kysely hands a query's or transaction's result to
 * the caller only after the release, so a caller never acts on a write that a crash could undo.
 * Reads that run while a batch is open see its uncommitted writes, so they join it and wait for its
 * commit too; reads outside a batch run in autocommit and return at once (GETs pay nothing).
 * When the batch cannot commit — or SQLite rolls the whole transaction back after an error (a full
 * disk, an I/O error) — every unit in it fails with that error, and none has been acknowledged.
 * Whatever fails (COMMIT, then even the ROLLBACK after it), the batch is settled and the connection
 * handed on: a transaction a failed ROLLBACK left open is rolled back before the next statement
 * runs, which fails (and the next one tries again) for as long as that ROLLBACK does, so no
 * statement ever runs on top of writes that were never acknowledged.
 *
 * A transaction inside a batch is a savepoint, so its rollback undoes it alone; the unit that
 * opens a batch with a transaction needs none (rolling back the batch undoes only it).
 *
 * One rule for callers follows: a transaction's callback runs SQL only. It must not wait for another
 * store call's result, which may be waiting for the commit that this transaction's release triggers.
 * The store enforces it: such a call fails at once (transaction-scope.ts).
 *
 * Busy and yield rules (see sqlite-binding.ts): a statement that gets SQLITE_BUSY from another
 * connection's lock is retried on a timer for up to `busyTimeoutMs`; statements yield to the event
 * loop every `YIELD_EVERY_MS` so a long run of store calls does not starve socket reads.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { CompiledQuery, DatabaseConnection, Driver, QueryResult, TransactionSettings } from 'kysely';

/** The statement source: better-sqlite3's database, possibly with a statement cache in front. */
export interface SqliteDatabase {
  prepare(sql: string): BetterSqlite3.Statement;
  readonly inTransaction: boolean;
  close(): void;
}

export interface GroupCommitOptions {
  readonly busyTimeoutMs: number;
  /** Told the number of units each committed batch held (metrics); must not throw. */
  readonly onCommit?: (units: number) => void;
}

/** Longest run of statements without a turn of the event loop (ms). */
const YIELD_EVERY_MS = 5;
/** A batch commits when it reaches this many units, even if more wait … */
const MAX_BATCH_UNITS = 256;
/** … or when it is this old (ms): bounds how long the first unit of a busy batch waits. */
const MAX_BATCH_MS = 20;
const SAVEPOINT = 'lessor_unit';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function isBusy(error: unknown): boolean {
  return sqliteCode(error)?.startsWith('SQLITE_BUSY') ?? false;
}

/** A unit's batch was lost to an earlier error; carries that error's SQLite code, so it maps alike. */
class BatchLostError extends Error {
  readonly code: string | undefined;

  constructor(cause: unknown) {
    super('the SQLite transaction this unit ran in was rolled back by an earlier error', { cause });
    this.code = sqliteCode(cause);
  }
}

/** One open SQLite transaction shared by consecutive units; settles when it commits or is lost. */
class Batch {
  readonly openedAt = performance.now();
  units = 0;
  /** Why the batch was lost; undefined while open or once committed. */
  failure: unknown;
  readonly settled: Promise<void>;
  private finish!: (error: unknown) => void;

  constructor() {
    this.settled = new Promise<void>((resolve, reject) => {
      this.finish = (error) => {
        if (error === undefined) resolve();
        else reject(error instanceof Error ? error : new Error('SQLite failed', { cause: error }));
      };
    });
    // A batch may settle with an error before any unit awaits it.
    this.settled.catch(() => {});
  }

  settle(error?: unknown): void {
    this.failure = error;
    this.finish(error);
  }
}

type UnitTransaction = 'none' | 'owns-batch' | 'savepoint';

/** What Kysely holds between acquire and release: one unit's view of the connection. */
class UnitConnection implements DatabaseConnection {
  batch: Batch | null = null;
  transaction: UnitTransaction = 'none';

  constructor(private readonly driver: GroupCommitDriver) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.driver.execute<R>(this, query);
  }

  /**
   * Refused: a cursor would hold the connection across the caller's awaits, while a batch must not
   * interleave with it, and reading the whole result into memory instead would hide an unbounded
   * buffer behind a streaming API. The store pages with keyset queries instead.
   */
  // eslint-disable-next-line require-yield -- it throws before yielding anything, by design.
  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    throw new Error(
      `the SQLite store does not stream query results (page with keyset queries): ${query.sql}`,
    );
  }
}

export class GroupCommitDriver implements Driver {
  private readonly waiters: (() => void)[] = [];
  private held = false;
  private batch: Batch | null = null;
  private lastTurn = performance.now();

  constructor(
    private readonly db: SqliteDatabase,
    private readonly options: GroupCommitOptions,
  ) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    // The connection passes from a releasing unit straight to the next waiter (`held` stays true).
    if (this.held) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.held = true;
    return new UnitConnection(this);
  }

  async beginTransaction(connection: DatabaseConnection, _settings: TransactionSettings): Promise<void> {
    const unit = asUnit(connection);
    const opened = await this.join(unit);
    if (opened) {
      unit.transaction = 'owns-batch';
    } else {
      this.run(`savepoint ${SAVEPOINT}`);
      unit.transaction = 'savepoint';
    }
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const unit = asUnit(connection);
    const kind = unit.transaction;
    unit.transaction = 'none';
    this.assertBatchAlive(unit);
    if (kind === 'savepoint') this.inBatch(unit.batch, () => this.run(`release ${SAVEPOINT}`));
    // 'owns-batch': the batch's COMMIT (at release, or after the units that join it) commits it.
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const unit = asUnit(connection);
    const kind = unit.transaction;
    unit.transaction = 'none';
    const batch = unit.batch;
    if (!batch || batch !== this.batch || !this.db.inTransaction) return;
    if (kind === 'savepoint') {
      this.inBatch(batch, () => {
        this.run(`rollback to ${SAVEPOINT}`);
        this.run(`release ${SAVEPOINT}`);
      });
    } else if (kind === 'owns-batch') {
      // Nothing else joined yet (units run one at a time): the batch holds this unit's work alone.
      // Settled first, so a failing ROLLBACK leaves no batch behind to commit its writes.
      this.batch = null;
      batch.settle();
      this.run('rollback');
    }
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const unit = asUnit(connection);
    const batch = unit.batch;
    try {
      if (batch && batch === this.batch && this.shouldCommit(batch)) this.commit(batch);
    } finally {
      this.handOver();
    }
    if (batch) await batch.settled;
  }

  async destroy(): Promise<void> {
    if (this.batch) this.commit(this.batch);
    this.db.close();
  }

  /**
   * A read-only statement run at once, outside any unit, when `execute` would run it in autocommit
   * without waiting: no unit holds the connection and no batch (nor a leftover transaction) is
   * open. Saves a point read the unit's acquire, release and their promises. Undefined when it
   * cannot, or when the statement fails: the caller then goes through Kysely as usual, which waits,
   * retries a busy database and reports the failure. The yield rule (`YIELD_EVERY_MS`) is for runs
   * of store calls in one task; a caller of `readNow` runs one statement per task it serves.
   */
  readNow<R>(query: CompiledQuery): R[] | undefined {
    if (this.held || this.batch) return undefined;
    try {
      if (this.db.inTransaction) return undefined;
      const statement = this.db.prepare(query.sql);
      if (!statement.readonly || !statement.reader) return undefined;
      return statement.all(query.parameters) as R[];
    } catch {
      return undefined;
    }
  }

  /** Runs one statement of `unit`, joining the batch when it writes or a batch is open. */
  async execute<R>(unit: UnitConnection, query: CompiledQuery): Promise<QueryResult<R>> {
    if (performance.now() - this.lastTurn > YIELD_EVERY_MS) {
      await nextTurn();
      this.lastTurn = performance.now();
    }
    try {
      const statement = this.db.prepare(query.sql);
      this.endLeftoverTransaction();
      if (!statement.readonly || this.batch) await this.join(unit);
      this.assertBatchAlive(unit);
      return await this.retryBusy(() => runStatement<R>(statement, query.parameters));
    } catch (error) {
      // Some errors (SQLITE_FULL, SQLITE_IOERR …) make SQLite roll the whole transaction back.
      if (this.batch && !this.db.inTransaction) this.lose(this.batch, error);
      throw error;
    }
  }

  /** Puts `unit` in the open batch, opening one if needed; true when this call opened it. */
  private async join(unit: UnitConnection): Promise<boolean> {
    if (unit.batch) return false;
    let opened = false;
    if (!this.batch) {
      this.endLeftoverTransaction();
      await this.retryBusy(async () => this.run('begin immediate'));
      this.batch = new Batch();
      opened = true;
    }
    this.batch.units++;
    unit.batch = this.batch;
    return opened;
  }

  private shouldCommit(batch: Batch): boolean {
    return (
      this.waiters.length === 0 ||
      batch.units >= MAX_BATCH_UNITS ||
      performance.now() - batch.openedAt >= MAX_BATCH_MS
    );
  }

  /** Passes the connection to the next waiting unit, or frees it. */
  private handOver(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.held = false;
  }

  /** Commits `batch` and settles it, whatever fails: never throws, so the release always hands over. */
  private commit(batch: Batch): void {
    this.batch = null;
    try {
      this.run('commit');
      batch.settle();
      this.options.onCommit?.(batch.units);
    } catch (error) {
      batch.settle(error);
      this.tryRollback();
    }
  }

  /**
   * Runs `work` (a savepoint statement) in `batch`; when it fails, the savepoint's writes may still
   * be in the batch, so the whole batch is lost rather than committed with them.
   */
  private inBatch(batch: Batch | null, work: () => void): void {
    try {
      work();
    } catch (error) {
      if (batch) this.lose(batch, error);
      this.tryRollback();
      throw error;
    }
  }

  /** The batch's transaction is gone: its units fail with `error`, and the next write opens anew. */
  private lose(batch: Batch, error: unknown): void {
    if (this.batch === batch) this.batch = null;
    batch.settle(error);
  }

  /** Rolls back what a failure left open; when that fails too, `endLeftoverTransaction` tries again. */
  private tryRollback(): void {
    if (!this.db.inTransaction) return;
    try {
      this.run('rollback');
    } catch {
      // The transaction stays open without a batch: the next statement rolls it back first.
    }
  }

  /** A transaction open without a batch is one a failed ROLLBACK left: end it (or fail) first. */
  private endLeftoverTransaction(): void {
    if (!this.batch && this.db.inTransaction) this.run('rollback');
  }

  private assertBatchAlive(unit: UnitConnection): void {
    if (unit.batch && unit.batch !== this.batch) throw new BatchLostError(unit.batch.failure);
  }

  private run(sql: string): void {
    this.db.prepare(sql).run();
  }

  private async retryBusy<T>(work: () => Promise<T> | T): Promise<T> {
    const deadline = Date.now() + this.options.busyTimeoutMs;
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      try {
        return await work();
      } catch (error) {
        if (!isBusy(error) || Date.now() >= deadline) throw error;
        await sleep(delay);
      }
    }
  }
}

function asUnit(connection: DatabaseConnection): UnitConnection {
  if (!(connection instanceof UnitConnection)) throw new Error('not a connection of this driver');
  return connection;
}

function runStatement<R>(statement: BetterSqlite3.Statement, parameters: readonly unknown[]): QueryResult<R> {
  if (statement.reader) return { rows: statement.all(parameters) as R[] };
  const { changes, lastInsertRowid } = statement.run(parameters);
  return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
}
