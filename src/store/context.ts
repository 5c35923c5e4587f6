/** What every repository is built from: the Kysely instance, its dialect, secrets at rest, and the change signal. */
import type { CallbackRecord } from '../domain/compute-callback.js';
import { currentTraceparent, type TraceContext } from '../domain/tracing.js';
import type { CompiledQuery, Kysely } from 'kysely';
import type { ChangeSignal, StoreChange } from './change-signal.js';
import type { SqlDialect } from './dialect.js';
import type { Database } from './schema.js';
import type { SecretsAtRest, SpecCodec } from './sealed-specs.js';

export interface StoreContext {
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialect;
  /** The `tenants.spec` column's codec: seals secret values on write, opens them on read. */
  readonly specs: SpecCodec;
  /** The same for plan revisions' specs, bound to the plan's name (`plan:<name>`). */
  readonly planSpecs: SpecCodec;
  /** Absent: nothing is sealed (tests and tools that hold no secrets). */
  readonly secrets: SecretsAtRest | undefined;
  /** Told by `transaction` what each committed transaction changed. */
  readonly changes: ChangeSignal;
  /**
   * SQLite: runs a read-only statement on the spot when the connection is free (the group-commit
   * driver's `readNow`), else undefined — then run it through `db`. Only for hot point reads on `db`
   * itself, never inside a transaction.
   */
  readonly readNow?: ReadNow | undefined;
}

/** Rows of a compiled read run at once, or undefined when it must go through Kysely. */
export type ReadNow = <R>(query: CompiledQuery<R>) => R[] | undefined;

/** A database handle or an open transaction: helpers that take one work inside either. */
export type Executor = Kysely<Database>;

/** An open transaction as its callback sees it: where its SQL runs, and what it changed. */
export interface Transaction {
  readonly db: Executor;
  readonly dialect: SqlDialect;
  /** Marks `change` for the change signal, which is told once the transaction has committed. */
  changed(change: StoreChange): void;
  /** Hands `callback` (a row written here) to the change signal's callback listeners after the commit. */
  handOff(callback: CallbackRecord): void;
  /** The W3C traceparent of the writer's trace, for the webhook events queued in the transaction. */
  readonly traceparent?: string | undefined;
}

/**
 * Runs `work` in one transaction. `work` runs SQL on `trx` (= `tx.db`) only: a transaction whose
 * callback waits for anything else (another store call, a timer, I/O) is rolled back and fails with
 * TransactionMisuseError (transaction-scope.ts). After the
 * commit — never after a rollback — `ctx.changes` is told what `work` marked with `tx.changed`
 * and handed what it passed to `tx.handOff`.
 */
export async function transaction<T>(
  ctx: StoreContext,
  work: (trx: Executor, tx: Transaction) => Promise<T>,
  trace?: TraceContext,
): Promise<T> {
  const changed = new Set<StoreChange>();
  const callbacks: CallbackRecord[] = [];
  // Read now: the active context is only the synchronous one (src/domain/tracing.ts).
  const traceparent = currentTraceparent(trace);
  const result = await ctx.db.transaction().execute((trx) =>
    work(trx, {
      db: trx,
      dialect: ctx.dialect,
      changed: (change) => void changed.add(change),
      handOff: (callback) => void callbacks.push(callback),
      ...(traceparent !== undefined && { traceparent }),
    }),
  );
  if (callbacks.length > 0) ctx.changes.handOff(callbacks);
  if (changed.size > 0) ctx.changes.notify(changed);
  return result;
}

/**
 * Runs `work`, which issues exactly one statement, without a transaction around it: a statement
 * is atomic on its own, and BEGIN and COMMIT would cost two more round trips on PostgreSQL
 * (docs/architecture.md, "The write path in statements"). Only for work that is one statement by
 * construction (one prepared query, no branch that adds another). `ctx.changes` is told what it
 * marked, and handed what it passed to `tx.handOff`, once the statement has succeeded.
 */
export async function singleStatement<T>(
  ctx: StoreContext,
  work: (tx: Transaction) => Promise<T>,
): Promise<T> {
  const changed = new Set<StoreChange>();
  const callbacks: CallbackRecord[] = [];
  const result = await work({
    db: ctx.db,
    dialect: ctx.dialect,
    changed: (change) => void changed.add(change),
    handOff: (callback) => void callbacks.push(callback),
  });
  if (callbacks.length > 0) ctx.changes.handOff(callbacks);
  if (changed.size > 0) ctx.changes.notify(changed);
  return result;
}
