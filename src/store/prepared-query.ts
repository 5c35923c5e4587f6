/**
 * Queries compiled once and re-run with new values, for statements on hot paths. Kysely rebuilds a
 * query's operation tree and compiles it to SQL on every call — a large share of a point lookup's
 * CPU. A prepared query calls `build` once per database with stand-in arguments, compiles it with
 * that database's own compiler, records where each stand-in landed in the parameter list, and from
 * then on sends the cached SQL text with the call's values in those places. The parameter order is
 * the compiler's, so `?` (SQLite) and `$1…$n` (PostgreSQL) are right by construction.
 *
 * Rules for `build`:
 * - Pass each argument to Kysely only as a value (`where(col, '=', args.x)`, `.values({ col:
 *   args.x })`, `.set(…)`, `.limit(args.n)`); never branch on it, read its fields or spread it — at
 *   build time it is a stand-in, not the value. SQL that depends on a call's values (which columns
 *   a patch sets, how long an `in` list is) belongs in the shape of a `preparedQueryFamily`.
 * - Every argument read must end up as a bound parameter; one that does not (inlined, dropped)
 *   makes the first call throw rather than run different SQL than written.
 * - At run time an argument may be null but not undefined: Kysely would leave an undefined column
 *   out of the statement, which a compiled statement cannot do.
 * The compiled form is cached per Kysely instance (its dialect adapter, shared by its
 * transactions); instances with plugins are refused, since a re-run skips `transformQuery`.
 */
import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { Executor, ReadNow } from './context.js';
import type { SqlDialect } from './dialect.js';

/** Where a prepared query runs: a database handle or an open transaction, and its dialect. */
export interface QueryTarget {
  readonly db: Executor;
  readonly dialect: SqlDialect;
  /**
   * For a read on the database handle (never a transaction's): tried first (`StoreContext.readNow`);
   * when it answers undefined the query runs on `db`.
   */
  readonly readNow?: ReadNow | undefined;
}

type Args = object;

/** Stands in for the argument `name` while the query is built. */
class Placeholder {
  constructor(readonly name: string) {}
}

interface Template<R> {
  readonly compiled: CompiledQuery<R>;
  /** For each parameter: the argument it takes, or the constant the query was built with. */
  readonly slots: readonly (Placeholder | { readonly constant: unknown })[];
}

function compileTemplate<A extends Args, R>(
  target: QueryTarget,
  build: (db: Executor, args: A, dialect: SqlDialect) => Compilable<R>,
): Template<R> {
  const placeholders = new Map<string, Placeholder>();
  const args = new Proxy({} as A, {
    get(_target, key) {
      if (typeof key !== 'string') return undefined;
      let placeholder = placeholders.get(key);
      if (!placeholder) placeholders.set(key, (placeholder = new Placeholder(key)));
      return placeholder;
    },
  });
  const compiled = build(target.db, args, target.dialect).compile();
  const slots = compiled.parameters.map((value) =>
    value instanceof Placeholder ? value : { constant: value },
  );
  for (const name of placeholders.keys()) {
    if (!slots.some((slot) => slot instanceof Placeholder && slot.name === name)) {
      throw new Error(`prepared query: argument '${name}' is not a bound parameter of: ${compiled.sql}`);
    }
  }
  return { compiled, slots };
}

function bind<R>(template: Template<R>, args: Args): CompiledQuery<R> {
  const values = args as Readonly<Record<string, unknown>>;
  const parameters = template.slots.map((slot) => {
    if (!(slot instanceof Placeholder)) return slot.constant;
    const value = values[slot.name];
    if (value === undefined) throw new TypeError(`prepared query: argument '${slot.name}' is undefined`);
    return value;
  });
  return { ...template.compiled, parameters };
}

/** One database's compiled templates, by shape key. */
type TemplateCache<R> = WeakMap<object, Map<string, Template<R>>>;

/** More shapes than this per database are compiled on every call instead of cached. */
const MAX_SHAPES = 64;

function templateFor<A extends Args, R>(
  cache: TemplateCache<R>,
  target: QueryTarget,
  key: string,
  build: (db: Executor, args: A, dialect: SqlDialect) => Compilable<R>,
): Template<R> {
  const executor = target.db.getExecutor();
  if (executor.plugins.length > 0)
    throw new Error('prepared queries cannot run on a Kysely instance with plugins');
  // The adapter is created once per Kysely instance and shared by its transactions.
  const database = executor.adapter;
  let templates = cache.get(database);
  if (!templates) cache.set(database, (templates = new Map<string, Template<R>>()));
  let template = templates.get(key);
  if (!template) {
    template = compileTemplate(target, build);
    if (templates.size < MAX_SHAPES) {
      templates.set(key, template);
      nameStatement(template.compiled.sql);
    }
  }
  return template;
}

/**
 * Names for the SQL texts of cached templates, for a database that keeps a parsed (and planned)
 * statement per connection under a name (PostgreSQL: `preparedStatementName`). Only cached
 * templates get one, so the set of names is bounded (MAX_SHAPES per family and dialect) and every
 * text keeps its name for the life of the process.
 */
const statementNames = new Map<string, string>();

function nameStatement(sql: string): void {
  if (!statementNames.has(sql)) statementNames.set(sql, `lessor_${statementNames.size + 1}`);
}

/** The name under which `sql`, a prepared query's text, may be kept by the server; else undefined. */
export function preparedStatementName(sql: string): string | undefined {
  return statementNames.get(sql);
}

export interface PreparedQuery<A extends Args, R> {
  /** The rows it returns (a select, or a write with RETURNING). */
  rows(target: QueryTarget, args: A): Promise<R[]>;
  /** The first row it returns, if any. */
  first(target: QueryTarget, args: A): Promise<R | undefined>;
  /** How many rows it inserted, updated or deleted (a write without RETURNING). */
  affected(target: QueryTarget, args: A): Promise<number>;
}

export interface PreparedQueryFamily<S, A extends Args, R> {
  rows(target: QueryTarget, shape: S, args: A): Promise<R[]>;
  first(target: QueryTarget, shape: S, args: A): Promise<R | undefined>;
  affected(target: QueryTarget, shape: S, args: A): Promise<number>;
}

/**
 * Prepared queries whose SQL depends on a shape — which columns a patch sets, how many rows an
 * insert writes — compiled once per shape (`keyOf(shape)` must tell apart every shape that
 * `build` turns into different SQL). `build` may read the shape freely, but not the arguments.
 */
export function preparedQueryFamily<S, A extends Args, R>(
  keyOf: (shape: S) => string,
  build: (db: Executor, args: A, shape: S, dialect: SqlDialect) => Compilable<R>,
): PreparedQueryFamily<S, A, R> {
  const cache: TemplateCache<R> = new WeakMap();
  const compile = (target: QueryTarget, shape: S, args: A): CompiledQuery<R> => {
    const template = templateFor<A, R>(cache, target, keyOf(shape), (db, a, dialect) =>
      build(db, a, shape, dialect),
    );
    return bind(template, args);
  };
  const execute = (target: QueryTarget, shape: S, args: A): Promise<QueryResult<R>> =>
    target.db.executeQuery(compile(target, shape, args));
  const read = async (target: QueryTarget, shape: S, args: A): Promise<R[]> => {
    const query = compile(target, shape, args);
    return target.readNow?.(query) ?? (await target.db.executeQuery(query)).rows;
  };
  /**
   * With `readNow`, not async: rows it answers at once settle the promise there and then, without
   * the turns of an async function awaiting another's (a tenant GET's lookup is such a read); when
   * it answers undefined, the compiled query goes through Kysely. A throw is a rejection either way
   * (the executor's). Without `readNow`, exactly `read`'s first row.
   */
  const first = (target: QueryTarget, shape: S, args: A): Promise<R | undefined> => {
    const readNow = target.readNow;
    if (!readNow) return (async () => (await read(target, shape, args))[0])();
    return new Promise((resolve) => {
      const query = compile(target, shape, args);
      const rows = readNow(query);
      resolve(rows ? rows[0] : target.db.executeQuery(query).then((result) => result.rows[0]));
    });
  };
  return {
    rows: read,
    first,
    affected: async (target, shape, args) =>
      Number((await execute(target, shape, args)).numAffectedRows ?? 0),
  };
}

/** A prepared query of one fixed shape (see the file comment for what `build` may do). */
export function preparedQuery<A extends Args, R>(
  build: (db: Executor, args: A, dialect: SqlDialect) => Compilable<R>,
): PreparedQuery<A, R> {
  const family = preparedQueryFamily<null, A, R>(
    () => '',
    (db, args, _shape, dialect) => build(db, args, dialect),
  );
  return {
    rows: (target, args) => family.rows(target, null, args),
    first: (target, args) => family.first(target, null, args),
    affected: (target, args) => family.affected(target, null, args),
  };
}
