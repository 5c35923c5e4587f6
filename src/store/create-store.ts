/**
 * Opens the store a database URL names:
 * - `sqlite:lessor.db`, `sqlite:/abs/path.db`, `sqlite:///abs/path.db` — a file (relative
 *   paths resolve against `dataDir` when given, else the working directory);
 * - `sqlite::memory:` — a private in-memory database (tests);
 * - `postgres://user@host:5432/db` (or `postgresql://`).
 * The engine binding is loaded lazily, so a PostgreSQL deployment never loads the SQLite addon.
 * Does not migrate: call `store.migrate()` (idempotent) before use.
 */
import { isAbsolute, resolve } from 'node:path';
import { ValidationError } from '../domain/errors.js';
import { silentLogger, type Logger } from '../domain/logger.js';
import type { StoreMetrics } from '../domain/metrics.js';
import type { SecretsAtRest } from './sealed-specs.js';
import type { Store } from './store.js';

export interface CreateStoreOptions {
  readonly url: string;
  readonly dataDir?: string;
  readonly logger?: Logger;
  /** PostgreSQL pool size (`database.poolSize`); the driver's default when absent (tests). */
  readonly poolSize?: number;
  /** Secret values at rest (see sealed-specs.ts); absent, specs are stored as given. */
  readonly secrets?: SecretsAtRest;
  /** Query latency, group-commit batch sizes; nothing is recorded when absent. */
  readonly metrics?: StoreMetrics;
}

export type DatabaseTarget =
  | { readonly kind: 'sqlite'; readonly filename: string }
  | { readonly kind: 'postgres'; readonly url: string };

export function parseDatabaseUrl(url: string, dataDir?: string): DatabaseTarget {
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url };
  if (url.startsWith('sqlite:')) {
    let path = url.slice('sqlite:'.length);
    if (path === ':memory:') return { kind: 'sqlite', filename: ':memory:' };
    if (path.startsWith('//')) path = path.slice(2);
    if (path !== '')
      return { kind: 'sqlite', filename: isAbsolute(path) ? path : resolve(dataDir ?? '.', path) };
  }
  throw new ValidationError(`unsupported database url '${url.replace(/:[^:@/]*@/, ':***@')}'`, [
    { path: 'database.url', message: 'expected sqlite:<path>, sqlite::memory: or postgres://…' },
  ]);
}

export async function createStore(options: CreateStoreOptions): Promise<Store> {
  const target = parseDatabaseUrl(options.url, options.dataDir);
  const logger = (options.logger ?? silentLogger).child({ component: 'store', dialect: target.kind });
  if (target.kind === 'sqlite') {
    const { openSqliteStore } = await import('./sqlite/sqlite-binding.js');
    return openSqliteStore({
      filename: target.filename,
      logger,
      secrets: options.secrets,
      metrics: options.metrics,
    });
  }
  const { openPostgresStore } = await import('./postgres/postgres-binding.js');
  return openPostgresStore({
    url: target.url,
    logger,
    secrets: options.secrets,
    metrics: options.metrics,
    ...(options.poolSize !== undefined && { poolSize: options.poolSize }),
  });
}
