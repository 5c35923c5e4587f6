/**
 * Wraps a Kysely dialect so that "the database cannot serve right now" surfaces as the domain's
 * `StoreUnavailableError` (→ 503 STORE_UNAVAILABLE + Retry-After) from every driver call, whatever
 * the driver: lost connections, refused connects, server shutting down, SQLite busy, a full disk, a
 * read-only file, I/O errors — including those raised while committing, which a group-committing
 * driver reports from `releaseConnection`. Each mapped error is reported to the store's incident
 * log. Constraint violations and SQL errors pass through untouched, so repositories still see the
 * driver's structured codes. It also guards every connection's transaction against a callback that
 * waits for anything but its own SQL (transaction-scope.ts).
 */
import type {
  CompiledQuery,
  DatabaseConnection,
  Dialect,
  Driver,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import { StoreUnavailableError, UnavailableError } from '../domain/errors.js';
import type { StoreMetrics } from '../domain/metrics.js';
import type { SqlDialect } from './dialect.js';
import { TransactionGuard } from './transaction-scope.js';

/** Where mapped errors are reported (the store's incident log). */
export interface UnavailableSink {
  failed(error: StoreUnavailableError): void;
}

interface Mapping {
  readonly sqlDialect: SqlDialect;
  readonly sink: UnavailableSink;
  readonly metrics: StoreMetrics | undefined;
}

function mapError({ sqlDialect, sink }: Mapping, error: unknown): unknown {
  if (error instanceof UnavailableError || !sqlDialect.isUnavailable(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  const mapped = new StoreUnavailableError(`database unavailable: ${reason}`, { cause: error });
  sink.failed(mapped);
  return mapped;
}

class UnavailableMappingConnection implements DatabaseConnection {
  readonly guard: TransactionGuard;

  constructor(
    readonly inner: DatabaseConnection,
    private readonly mapping: Mapping,
    abort: (connection: DatabaseConnection) => Promise<void>,
  ) {
    this.guard = new TransactionGuard(() => abort(inner));
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return await this.guard.run(() => this.inner.executeQuery<R>(query));
    } catch (error) {
      throw mapError(this.mapping, error);
    }
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    this.guard.enter();
    try {
      yield* this.inner.streamQuery<R>(query, chunkSize);
    } finally {
      this.guard.leave();
    }
  }
}

function asGuarded(c: DatabaseConnection): UnavailableMappingConnection {
  if (!(c instanceof UnavailableMappingConnection)) throw new Error('not a connection of this driver');
  return c;
}

class UnavailableMappingDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly mapping: Mapping,
  ) {}

  init(): Promise<void> {
    return this.guard(() => this.inner.init());
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.guard(() => this.inner.acquireConnection());
    return new UnavailableMappingConnection(connection, this.mapping, (inner) => this.abort(inner));
  }
  async beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const connection = asGuarded(c);
    await connection.guard.run(() =>
      this.guard(() => this.inner.beginTransaction(connection.inner, settings)),
    );
    connection.guard.opened();
    this.mapping.metrics?.transactions.inc({ dialect: this.mapping.sqlDialect.name });
  }
  commitTransaction(c: DatabaseConnection): Promise<void> {
    const connection = asGuarded(c);
    connection.guard.closing();
    return this.guard(() => this.inner.commitTransaction(connection.inner));
  }
  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    const connection = asGuarded(c);
    const aborted = connection.guard.ended();
    if (aborted) return aborted;
    return this.guard(() => this.inner.rollbackTransaction(connection.inner));
  }
  async savepoint(
    c: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    const connection = asGuarded(c);
    await connection.guard.run(() =>
      this.guard(() => this.inner.savepoint!(connection.inner, name, compile)),
    );
  }
  async rollbackToSavepoint(
    c: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    const connection = asGuarded(c);
    await connection.guard.run(() =>
      this.guard(() => this.inner.rollbackToSavepoint!(connection.inner, name, compile)),
    );
  }
  async releaseSavepoint(
    c: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    const connection = asGuarded(c);
    await connection.guard.run(() =>
      this.guard(() => this.inner.releaseSavepoint!(connection.inner, name, compile)),
    );
  }
  async releaseConnection(c: DatabaseConnection): Promise<void> {
    const connection = asGuarded(c);
    const aborted = connection.guard.ended();
    if (aborted) return aborted;
    return this.guard(() => this.inner.releaseConnection(connection.inner));
  }
  destroy(): Promise<void> {
    return this.inner.destroy();
  }

  /**
   * Rolls back a transaction whose callback waits for something else (transaction-scope.ts) and
   * hands its connection on, so that what the callback waits for (on SQLite, the one connection)
   * can proceed; the callback then fails with TransactionMisuseError.
   */
  private async abort(inner: DatabaseConnection): Promise<void> {
    try {
      await this.inner.rollbackTransaction(inner);
    } finally {
      await this.inner.releaseConnection(inner);
    }
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw mapError(this.mapping, error);
    }
  }
}

/**
 * `dialect` with its driver's "unavailable" errors mapped to StoreUnavailableError and reported to
 * `sink`, its transactions guarded, and (with `metrics`) its transactions counted.
 */
export function withUnavailableMapping(
  dialect: Dialect,
  sqlDialect: SqlDialect,
  sink: UnavailableSink,
  metrics?: StoreMetrics,
): Dialect {
  const mapping: Mapping = { sqlDialect, sink, metrics };
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new UnavailableMappingDriver(dialect.createDriver(), mapping),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}
