/**
 * The PostgreSQL binding: a pg Pool behind Kysely. int8 and numeric come back as JavaScript
 * numbers (epoch ms, counts and sequences all fit in 2^53). The pool survives a restart of the
 * server: broken clients are dropped (an error listener on the pool and on every client keeps an
 * idle socket's failure from crashing the process) and the next query connects afresh.
 */
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { Logger } from '../../domain/logger.js';
import type { StoreMetrics } from '../../domain/metrics.js';
import { postgresDialect } from '../dialect.js';
import { preparedStatementName } from '../prepared-query.js';
import { createKyselyStore } from '../kysely-store.js';
import { queryMetricsLog } from '../query-metrics.js';
import type { Database } from '../schema.js';
import type { SecretsAtRest } from '../sealed-specs.js';
import type { Store } from '../store.js';
import { StoreIncidents } from '../store-incidents.js';
import { withUnavailableMapping } from '../unavailable-dialect.js';

export interface PostgresStoreOptions {
  readonly url: string;
  readonly logger: Logger;
  /** Maximum pooled connections (`database.poolSize`); pg's own default when absent (tests). */
  readonly poolSize?: number;
  readonly secrets?: SecretsAtRest | undefined;
  readonly metrics?: StoreMetrics | undefined;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;
type Parser = (value: string) => unknown;

const toNumber: Parser = (value) => Number(value);

/**
 * Type parsers for this pool only; the process-wide pg defaults stay untouched. pg asks for a
 * column's parser on every result (its row description comes with each execution), so the
 * answer is one shared function, not a new one per column per query.
 */
const numericTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): Parser => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return toNumber;
    return pg.types.getTypeParser(oid, format ?? 'text') as Parser;
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export function createPool(url: string, logger: Logger, poolSize?: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    ...(poolSize !== undefined && { max: poolSize }),
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    types: numericTypes,
  });
  const onError = (error: Error) =>
    logger.warn({ err: error }, 'postgres connection lost; the pool reconnects on demand');
  pool.on('error', onError);
  pool.on('connect', (client) => {
    client.on('error', onError);
    nameHotStatements(client);
  });
  return pool;
}

/**
 * Sends the text of a prepared query (src/store/prepared-query.ts) as a named statement: the
 * server parses and analyses it once per connection and may keep its plan, where an unnamed
 * statement is parsed, analysed and planned on every execution — a large share of a short
 * statement's server time, and of the folded writes' (docs/architecture.md, "PostgreSQL: prepared
 * queries are named statements"). Other SQL (ad-hoc queries, migrations) goes as before.
 *
 * A kept statement whose result columns a schema change altered (another process migrated the
 * database under this one) fails with `cached plan must not change result type`: the connection
 * then sends everything unnamed, and the statement runs once more that way — which succeeds
 * outside a transaction; inside one, the transaction has failed and the first error is thrown.
 */
function nameHotStatements(client: pg.PoolClient): void {
  // The class's method, looked up per call: a test may wrap it to watch what is sent.
  const query = (config: unknown, values?: unknown): Promise<unknown> =>
    (Object.getPrototypeOf(client) as { query: (c: unknown, v?: unknown) => Promise<unknown> }).query.call(
      client,
      config,
      values,
    );
  /**
   * A named query handed to the client as a ready `pg.Query`: given a plain `{ name, text, values }`
   * the client would copy it property descriptor by property descriptor on every call.
   */
  const namedQuery = (name: string, text: string, values: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const submitted = new pg.Query(text, values as unknown[], (error, result) =>
        error ? reject(error) : resolve(result),
      ) as pg.Query & { name?: string };
      submitted.name = name;
      void query(submitted);
    });
  let naming = true;
  const named = (config: unknown, values?: unknown): unknown => {
    const name = naming && typeof config === 'string' ? preparedStatementName(config) : undefined;
    if (name === undefined || typeof values === 'function') return query(config, values);
    return (async () => {
      try {
        return await namedQuery(name, config as string, values);
      } catch (error) {
        if ((error as { code?: unknown }).code !== CACHED_PLAN_CHANGED) throw error;
        naming = false;
        try {
          return await query(config, values);
        } catch {
          throw error;
        }
      }
    })();
  };
  client.query = named as typeof client.query;
}

/** SQLSTATE of `cached plan must not change result type` (feature_not_supported). */
const CACHED_PLAN_CHANGED = '0A000';

export function openPostgresStore(options: PostgresStoreOptions): Store {
  const pool = createPool(options.url, options.logger, options.poolSize);
  const incidents = new StoreIncidents(options.logger);
  const db = new Kysely<Database>({
    dialect: withUnavailableMapping(
      new PostgresDialect({ pool }),
      postgresDialect,
      incidents,
      options.metrics,
    ),
    ...(options.metrics && { log: queryMetricsLog(options.metrics, 'postgres') }),
  });
  const poolStats = () => ({
    total: pool.totalCount,
    idle: pool.idleCount,
    waiting: pool.waitingCount,
    max: pool.options.max,
  });
  return createKyselyStore({ db, dialect: postgresDialect, incidents, secrets: options.secrets, poolStats });
}
