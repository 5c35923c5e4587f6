/**
 * Wraps a Kysely dialect so that "the database is not there right now" surfaces as the domain's
 * `UnavailableError` (→ 503 + retry) from every query, whatever the driver: lost connections,
 * refused connects, server shutting down, SQLite busy. Constraint violations and SQL errors pass
 * through untouched, so repositories still see the driver's structured codes.
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
import { UnavailableError } from '../domain/errors.js';
import type { SqlDialect } from './dialect.js';

function mapError(sqlDialect: SqlDialect, error: unknown): unknown {
  if (error instanceof UnavailableError || !sqlDialect.isUnavailable(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new UnavailableError(`database unavailable: ${reason}`, { cause: error });
}

class UnavailableMappingConnection implements DatabaseConnection {
  constructor(
    readonly inner: DatabaseConnection,
    private readonly sqlDialect: SqlDialect,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return await this.inner.executeQuery<R>(query);
    } catch (error) {
      throw mapError(this.sqlDialect, error);
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
    private readonly sqlDialect: SqlDialect,
  ) {}

  init(): Promise<void> {
    return this.guard(() => this.inner.init());
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.guard(() => this.inner.acquireConnection());
    return new UnavailableMappingConnection(connection, this.sqlDialect);
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
    return this.inner.releaseConnection(unwrap(c));
  }
  destroy(): Promise<void> {
    return this.inner.destroy();
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw mapError(this.sqlDialect, error);
    }
  }
}

/** `dialect` with its driver's "unavailable" errors mapped to UnavailableError. */
export function withUnavailableMapping(dialect: Dialect, sqlDialect: SqlDialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new UnavailableMappingDriver(dialect.createDriver(), sqlDialect),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}
