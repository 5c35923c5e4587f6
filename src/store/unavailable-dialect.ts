/**
 * Wraps a Kysely dialect so that "the database cannot serve right now" surfaces as the domain's
 * `StoreUnavailableError` (→ 503 STORE_UNAVAILABLE + Retry-After) from every driver call, whatever
 * the driver: lost connections, refused connects, server shutting down, SQLite busy, a full disk, a
 * read-only file, I/O errors — including those raised while committing, which a group-committing
 * driver reports from `releaseConnection`. Each mapped error is reported to the store's incident
 * log. Constraint violations and SQL errors pass through untouched, so repositories still see the
 * driver's structured codes. It also refuses a connection to a transaction callback's stray store
 * call (transaction-scope.ts).
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
import type { SqlDialect } from './dialect.js';
import { assertOutsideTransaction } from './transaction-scope.js';

/** Where mapped errors are reported (the store's incident log). */
export interface UnavailableSink {
  failed(error: StoreUnavailableError): void;
}

interface Mapping {
  readonly sqlDialect: SqlDialect;
  readonly sink: UnavailableSink;
}

function mapError({ sqlDialect, sink }: Mapping, error: unknown): unknown {
  if (error instanceof UnavailableError || !sqlDialect.isUnavailable(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  const mapped = new StoreUnavailableError(`database unavailable: ${reason}`, { cause: error });
  sink.failed(mapped);
  return mapped;
}

class UnavailableMappingConnection implements DatabaseConnection {
  constructor(
    readonly inner: DatabaseConnection,
    private readonly mapping: Mapping,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return await this.inner.executeQuery<R>(query);
    } catch (error) {
      throw mapError(this.mapping, error);
    }
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

const unwrap = (c: DatabaseConnection): DatabaseConnection =>
  c instanceof UnavailableMappingConnection ? c.inner : c;

class UnavailableMappingDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly mapping: Mapping,
  ) {}

  init(): Promise<void> {
    return this.guard(() => this.inner.init());
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    // Every binding's driver sits behind this wrapper: the one place to refuse a store call made
    // from inside a transaction callback (transaction-scope.ts).
    assertOutsideTransaction();
    const connection = await this.guard(() => this.inner.acquireConnection());
    return new UnavailableMappingConnection(connection, this.mapping);
  }
  beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.guard(() => this.inner.beginTransaction(unwrap(c), settings));
  }
  commitTransaction(c: DatabaseConnection): Promise<void> {
    return this.guard(() => this.inner.commitTransaction(unwrap(c)));
  }
  rollbackTransaction(c: DatabaseConnection): Promise<void> {
    return this.guard(() => this.inner.rollbackTransaction(unwrap(c)));
  }
  async savepoint(
    c: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.guard(() => this.inner.savepoint!(unwrap(c), name, compile));
  }
  async rollbackToSavepoint(
    c: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.guard(() => this.inner.rollbackToSavepoint!(unwrap(c), name, compile));
  }
  async releaseSavepoint(
    c: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.guard(() => this.inner.releaseSavepoint!(unwrap(c), name, compile));
  }
  releaseConnection(c: DatabaseConnection): Promise<void> {
    return this.guard(() => this.inner.releaseConnection(unwrap(c)));
  }
  destroy(): Promise<void> {
    return this.inner.destroy();
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw mapError(this.mapping, error);
    }
  }
}

/** `dialect` with its driver's "unavailable" errors mapped to StoreUnavailableError and reported to `sink`. */
export function withUnavailableMapping(
  dialect: Dialect,
  sqlDialect: SqlDialect,
  sink: UnavailableSink,
): Dialect {
  const mapping: Mapping = { sqlDialect, sink };
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new UnavailableMappingDriver(dialect.createDriver(), mapping),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}
