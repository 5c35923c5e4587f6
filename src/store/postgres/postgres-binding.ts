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
  /** Row descriptions by statement name, as this connection's results last saw them. */
  const described = new Map<string, RowDescription>();
  /**
   * A named query handed to the client as a ready `pg.Query`: given a plain `{ name, text, values }`
   * the client would copy it property descriptor by property descriptor on every call. Its result
   * reuses the statement's row description as this connection last saw it (`DescribedResult`).
   */
  const namedQuery = (name: string, text: string, values: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const submitted = new pg.Query(text, values as unknown[], (error, result) =>
        error ? reject(error) : resolve(result),
      ) as pg.Query & QueryResultSlots & { name?: string };
      submitted.name = name;
      submitted._result = submitted._results = new DescribedResult(described, name);
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

/**
 * pg's `Result` (not in @types/pg), as far as this file uses it: its `addFields` turns a row
 * description into `fields`, one parser per column (`_parsers`) and the empty row each parsed row
 * is spread from (`_prebuiltEmptyResultObject`); `parseRow` reads all three.
 */
interface PgResult {
  fields: readonly pg.FieldDef[];
  _parsers: unknown[] | undefined;
  _prebuiltEmptyResultObject: object | null;
  addFields(fields: readonly pg.FieldDef[]): void;
}
const PgResultClass = (pg as unknown as { Result: new () => PgResult }).Result;

/** The slots of pg's `Query` that hold its result; the client answers `_results`. */
interface QueryResultSlots {
  _result: PgResult;
  _results: PgResult;
}

/** What pg's `addFields` made of one statement's row description, kept by statement name. */
interface RowDescription {
  readonly fields: readonly pg.FieldDef[];
  readonly parsers: unknown[] | undefined;
  readonly emptyRow: object | null;
}

/**
 * A named statement's result that reuses what pg made of the statement's last row description.
 * pg asks the server to describe the portal on every execution, and from each description builds
 * the result's row template (a dictionary object, then a copy) and looks up a parser per column:
 * 57 µs per create→ready on a fast machine, 140–180 µs on a slow one (docs/decisions.md,
 * "PostgreSQL: a named statement's row description is made into parsers once"). The description
 * of one statement on one connection repeats, so the first is kept and reused while a new one
 * matches it column for column (name, type, format). Another description is built afresh by pg
 * and kept instead; a guard only, as a schema change that alters a named statement's columns fails
 * it first (`CACHED_PLAN_CHANGED` below). The parsers and the template are only read (`parseRow`
 * spreads the template into each new row), so results share them safely. This writes pg's own
 * `Result` fields as its `addFields` does; named-statements.test.ts pins them against the pg this
 * repository locks.
 */
class DescribedResult extends PgResultClass {
  constructor(
    private readonly known: Map<string, RowDescription>,
    private readonly statement: string,
  ) {
    super();
  }

  override addFields(fields: readonly pg.FieldDef[]): void {
    const known = this.known.get(this.statement);
    if (known !== undefined && sameColumns(known.fields, fields)) {
      this.fields = fields;
      this._parsers = known.parsers;
      this._prebuiltEmptyResultObject = known.emptyRow;
      return;
    }
    super.addFields(fields);
    this.known.set(this.statement, {
      fields,
      parsers: this._parsers,
      emptyRow: this._prebuiltEmptyResultObject,
    });
  }
}

/** The columns a row description gives, as far as pg's parsing depends on them. */
function sameColumns(a: readonly pg.FieldDef[], b: readonly pg.FieldDef[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name || x.dataTypeID !== y.dataTypeID || x.format !== y.format) return false;
  }
  return true;
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
