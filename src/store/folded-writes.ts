/**
 * A tenant write and the events it appends in one statement. PostgreSQL: data-modifying
 * CTEs (`with written as (insert/update … returning id), appended as (insert into tenant_events …
 * where exists (select 1 from written)) select …`). One statement is atomic on its own, so it runs
 * without BEGIN/COMMIT: a round trip where the transaction took four or five
 * (docs/architecture.md, "The write path in statements"). The tenant write keeps its guard — the
 * update's version compare-and-set, the insert's unique name — and the events are appended only
 * when that write wrote its row, so a lost compare-and-set changes nothing.
 *
 * The webhook outbox row of an event carries the tenant as it is after the change, which costs a
 * snapshot to build; these statements do not write it. Instead they count the enabled webhooks
 * that could want the events, in the same snapshot, and write nothing at all when there are some:
 * the caller then takes the transaction that writes the outbox rows too (`SubscriberHint` tells
 * it to go there first while such webhooks exist).
 *
 * SQLite has no data-modifying CTEs: there each fold is one insert into a view whose trigger
 * writes the same rows under the same guards (folded-writes-sqlite.ts). An execution's status
 * change (`foldedExecutionTransition`) returns the updated row: on SQLite through the view
 * insert's RETURNING subqueries, which read the row back once the trigger has run.
 */
import { sql, type RawBuilder, type Selectable } from 'kysely';
import { flushHeld, type HeldJournal } from '../domain/held-journal.js';
import type { TenantStatusWrite } from '../domain/tenant-change.js';
import type { TenantEventDraft } from '../domain/tenant-event.js';
import type { StoreContext } from './context.js';
import { eventArgs, eventValuesInsert, subscriberCount } from './event-repository.js';
import {
  CALLBACK_COLUMNS,
  EXECUTION_COLUMNS,
  TENANT_COLUMNS,
  type CallbackColumns,
  type ExecutionRow,
} from './folded-columns.js';
import {
  addHeldJournalArgs,
  heldJournalCtes,
  journaledAll,
  journaledCount,
  settleHeld,
} from './folded-journal.js';
import {
  sqliteCreation,
  sqliteExecutionInsert,
  sqliteExecutionTransition,
  sqliteStatusChange,
} from './folded-writes-sqlite.js';
import { preparedQueryFamily } from './prepared-query.js';
import type { ComputeExecutionsTable } from './schema.js';

/**
 * The shape of a folded write: how many events, subscriber patterns, labels and held journal
 * entries (folded-journal.ts) it carries.
 */
interface FoldShape {
  readonly events: number;
  readonly subscribers: number;
  readonly labels: number;
  readonly steps: number;
}

const shapeKey = (s: FoldShape): string => `${s.events}:${s.subscribers}:${s.labels}:${s.steps}`;

type Args = Readonly<Record<string, unknown>>;

/** What a folded write did: wrote everything, found the guard failed, or left it to the transaction. */
export type FoldOutcome = 'written' | 'stale' | 'subscribed';

interface FoldRow {
  readonly written: number | string;
  readonly subscribers: number | string;
  readonly journaled: number | string;
}

/**
 * The statement around `write` (a CTE named `written` that returns the tenant's id when it wrote
 * the row): `subscribers` counts the matching webhooks (the write is guarded by there being none,
 * and by every held journal entry having been written first: folded-journal.ts), `appended` inserts
 * the events once `written` has a row, behind the stream's append gate.
 */
function fold(
  a: Args,
  shape: FoldShape,
  gate: RawBuilder<boolean> | null,
  write: (unsubscribed: RawBuilder<boolean>) => RawBuilder<unknown>,
  extra: RawBuilder<unknown> = sql``,
): RawBuilder<FoldRow> {
  const count = shape.subscribers === 0 ? sql<number>`0` : subscriberCount(a, shape.subscribers);
  const unsubscribed = sql<boolean>`(select n from subscribers) = 0`;
  const held = shape.steps > 0 ? heldJournalCtes(a, shape.steps) : sql``;
  const allowed =
    shape.steps > 0 ? sql<boolean>`${unsubscribed} and ${journaledAll(shape.steps)}` : unsubscribed;
  const condition = sql<boolean>`exists (select 1 from written) and ${gate ?? sql`true`}`;
  return sql<FoldRow>`with subscribers as (select ${count} as n), ${held}
    written as (${write(allowed)}),
    appended as (${eventValuesInsert(a, shape.events, condition)})${extra}
    select (select count(*) from written) as written, (select n from subscribers) as subscribers,
      ${journaledCount(shape.steps)} as journaled`;
}

/** A change of a tenant's status columns at `expectedVersion`, with its events. */
const statusChange = preparedQueryFamily(shapeKey, (db, a: Args, shape: FoldShape, dialect) => {
  const update = (unsubscribed: RawBuilder<boolean>) =>
    sql`update tenants set phase = ${a['phase']}, observed_generation = ${a['observed_generation']},
      status = ${a['status']}, version = ${a['version']}, updated_at = ${a['updated_at']}
      where id = ${a['id']} and version = ${a['expectedVersion']} and ${unsubscribed} returning id`;
  const statement = fold(a, shape, dialect.eventAppendGate, update);
  return { compile: () => statement.compile(db) };
});

/** Casts for the columns of a new tenant whose select-list parameters PostgreSQL would type as text. */
const NUMERIC = new Set<string>(['generation', 'observed_generation', 'paused', 'version', 'archived']);

/** A new tenant: its row, its labels, its first revision and its events. */
const creation = preparedQueryFamily(shapeKey, (db, a: Args, shape: FoldShape, dialect) => {
  const value = (c: string) =>
    NUMERIC.has(c) ? sql`cast(${a[`t_${c}`]} as bigint)` : sql`cast(${a[`t_${c}`]} as text)`;
  const insert = (unsubscribed: RawBuilder<boolean>) =>
    sql`insert into tenants (${sql.join(TENANT_COLUMNS.map((c) => sql.id(c)))})
      select ${sql.join(TENANT_COLUMNS.map(value))} where ${unsubscribed} returning id`;
  const labels = Array.from(
    { length: shape.labels },
    (_, i) => sql`(cast(${a[`label_key_${i}`]} as text), cast(${a[`label_value_${i}`]} as text))`,
  );
  const labelInsert =
    shape.labels === 0
      ? sql``
      : sql`, labelled as (insert into tenant_labels (tenant_id, key, value)
          select written.id, v.key, v.value from written, (values ${sql.join(labels)}) as v (key, value))`;
  const revision = sql`, revised as (insert into tenant_revisions (tenant_id, generation, spec, actor, created_at)
      select id, 1, ${a['t_spec']}, ${a['actor']}, ${a['t_created_at']} from written)`;
  const statement = fold(a, shape, dialect.eventAppendGate, insert, sql`${labelInsert}${revision}`);
  return { compile: () => statement.compile(db) };
});

function outcome(row: FoldRow | undefined): FoldOutcome {
  if (Number(row?.subscribers ?? 0) > 0) return 'subscribed';
  return Number(row?.written ?? 0) === 1 ? 'written' : 'stale';
}

/**
 * A SQLite fold (`write`) carrying `journal`'s held entries (migration 0018-sqlite-held-journal).
 * When they could not be carried ('held') they are flushed on their own and the write is made
 * again without them; when the write's own guard raised (`wrote` false) the raise undid them too,
 * and they are flushed on their own, as PostgreSQL's statement would have written them.
 */
async function carriedOnSqlite<R extends string>(
  journal: HeldJournal | undefined,
  write: (held: HeldJournal | undefined) => Promise<R | 'held'>,
  wrote: (outcome: R) => boolean,
): Promise<R> {
  const steps = journal?.entries.length ?? 0;
  const outcome = await write(journal);
  if (outcome === 'held') {
    await journal!.flush();
    return (await write(undefined)) as R;
  }
  if (wrote(outcome)) settleHeld(journal, steps, steps);
  else await flushHeld(journal);
  return outcome;
}

/**
 * Writes a tenant's status columns (`status`: phase, observed_generation, status, version,
 * updated_at, with `id` and `expectedVersion`) and appends `drafts`, in one statement. The
 * statement carries `journal`'s held entries (PostgreSQL: folded-journal.ts; SQLite: migration
 * 0018-sqlite-held-journal); when it could not, they are flushed on their own and the change is
 * made again without them.
 */
export async function foldedStatusChange(
  ctx: StoreContext,
  status: Args,
  drafts: readonly TenantEventDraft[],
  at: string,
  subscribers: readonly string[],
  journal?: HeldJournal,
): Promise<FoldOutcome> {
  let result: FoldOutcome;
  const steps = journal?.entries.length ?? 0;
  if (ctx.dialect.name === 'sqlite') {
    result = await carriedOnSqlite(
      journal,
      (held) => sqliteStatusChange(ctx, status, drafts, at, subscribers, held),
      (outcome) => outcome === 'written',
    );
  } else {
    const args = eventArgs(status['id'] as string, drafts, at, subscribers);
    for (const key in status) args[key] = status[key];
    if (journal && steps > 0) addHeldJournalArgs(args, journal);
    const shape = { events: drafts.length, subscribers: subscribers.length, labels: 0, steps };
    const row = await statusChange.first(ctx, shape, args);
    if (!settleHeld(journal, steps, row?.journaled)) {
      await journal!.flush();
      return foldedStatusChange(ctx, status, drafts, at, subscribers);
    }
    result = outcome(row);
  }
  if (result === 'written') ctx.changes.notify(['events']);
  return result;
}

/**
 * Inserts a new tenant (`row`: every column of TENANT_COLUMNS), its labels, its first revision
 * (by `actor`) and `drafts`, in one statement; a taken name fails it with the unique violation.
 * 'stale' cannot happen.
 */
export async function foldedCreation(
  ctx: StoreContext,
  row: Readonly<Record<(typeof TENANT_COLUMNS)[number], unknown>>,
  labels: Readonly<Record<string, string>>,
  actor: string,
  drafts: readonly TenantEventDraft[],
  subscribers: readonly string[],
): Promise<FoldOutcome> {
  if (ctx.dialect.name === 'sqlite') {
    const result = await sqliteCreation(ctx, row, labels, actor, drafts, subscribers);
    if (result === 'written') ctx.changes.notify(['events']);
    return result;
  }
  const args: Record<string, unknown> = {
    ...eventArgs(row.id as string, drafts, row.created_at as string, subscribers),
    actor,
  };
  for (const c of TENANT_COLUMNS) args[`t_${c}`] = row[c];
  const entries = Object.entries(labels);
  entries.forEach(([key, value], i) => {
    args[`label_key_${i}`] = key;
    args[`label_value_${i}`] = value;
  });
  const shape = { events: drafts.length, subscribers: subscribers.length, labels: entries.length, steps: 0 };
  const result = outcome(await creation.first(ctx, shape, args));
  if (result === 'written') ctx.changes.notify(['events']);
  return result;
}

/**
 * The shape of a folded execution insert: how many events, whether it is inserted moved to
 * `running`, and how many held journal entries it carries (folded-journal.ts).
 */
interface InsertShape {
  readonly events: number;
  readonly steps: number;
  /** Inserted as it is after its move to `running`: two history rows. */
  readonly running: boolean;
  /** A callback row (arguments `cb_<column>`) is queued with it. */
  readonly callback: boolean;
  /** The tenant's status columns are changed with it (arguments `t_<column>`, `t_id`, `t_expected`). */
  readonly tenant: boolean;
}

/** The casts of a new execution's non-text columns in a select list (PostgreSQL would type them as text). */
const EXECUTION_TYPES: Partial<Record<(typeof EXECUTION_COLUMNS)[number], string>> = {
  attempt: 'integer',
  timeout_ms: 'bigint',
  generation: 'bigint',
  lease_expires_at: 'bigint',
};

/**
 * The inserted row's id (null when it was not inserted); with held entries, how many were written;
 * with a tenant change, how many tenant rows it wrote. Only the id of the row: the statement
 * inserts `row` as given, so the caller's `row` is the stored one (as on SQLite), and reading the
 * row back would decode every column of every insert for nothing.
 */
interface InsertRow {
  readonly execution_id: string | null;
  readonly held_journaled?: number | string;
  readonly tenant_shown?: number | string;
}

/** The status columns a tenant change writes (`changeFrom`'s one update), as the insert's arguments. */
const TENANT_STATUS_COLUMNS = ['phase', 'observed_generation', 'status', 'version', 'updated_at'] as const;

/**
 * The arguments of `write`'s compare-and-set, for a folded execution insert: the same columns and
 * guard as `changeFrom`'s update of the status columns (tenant-repository.ts).
 */
export function tenantStatusArgs(write: TenantStatusWrite): Args {
  const { before, after } = write;
  const values: Record<(typeof TENANT_STATUS_COLUMNS)[number], unknown> = {
    phase: after.status.phase,
    observed_generation: after.status.observedGeneration,
    status: JSON.stringify(after.status),
    version: after.version,
    updated_at: after.updatedAt,
  };
  const args: Record<string, unknown> = { t_id: before.id, t_expected: before.version };
  for (const c of TENANT_STATUS_COLUMNS) args[`t_${c}`] = values[c];
  return args;
}

/**
 * The CTE that changes the tenant's status columns as a compare-and-set on its version (arguments
 * of `tenantStatusArgs`), once `written` has a row.
 */
function shownOnTenant(a: Args): RawBuilder<unknown> {
  const set = sql.join(TENANT_STATUS_COLUMNS.map((c) => sql`${sql.id(c)} = ${a[`t_${c}`]}`));
  return sql`, shown as (update tenants set ${set}
      where id = ${a['t_id']} and version = ${a['t_expected']} and exists (select 1 from written) returning id)`;
}

/**
 * A new compute execution unless its id exists, its history and its events; with held journal
 * entries, only once they are all written (folded-journal.ts). The history row is
 * numbered as `appendHistory` numbers it, after the execution's last; an execution inserted
 * `running` gets the two rows its insert and its move would have written (`pending` at its
 * creation, `running` at `at` with `details`) and the move's callback row.
 */
const executionInsert = preparedQueryFamily(
  (s: InsertShape) => `${s.events}|${s.running}|${s.callback}|${s.steps}|${s.tenant}`,
  (db, a: Args, shape: InsertShape, dialect) => {
    const columns = sql.join(EXECUTION_COLUMNS.map((c) => sql.id(c)));
    const row =
      shape.steps === 0
        ? sql`values (${sql.join(EXECUTION_COLUMNS.map((c) => sql`${a[`x_${c}`]}`))})`
        : sql`select ${sql.join(EXECUTION_COLUMNS.map((c) => sql`cast(${a[`x_${c}`]} as ${sql.raw(EXECUTION_TYPES[c] ?? 'text')})`))}
            where ${journaledAll(shape.steps)}`;
    const condition = sql<boolean>`exists (select 1 from written) and ${dialect.eventAppendGate ?? sql`true`}`;
    const history = shape.running
      ? sql`select w.execution_id, 1, 'pending', w.attempt, w.created_at, '{}' from written w
          union all select w.execution_id, 2, 'running', w.attempt, cast(${a['at']} as text),
            cast(${a['details']} as text) from written w`
      : sql`select w.execution_id,
          coalesce((select max(h.seq) from compute_execution_history h where h.execution_id = w.execution_id), 0) + 1,
          w.status, w.attempt, w.created_at, ${a['details']} from written w`;
    const callback = shape.callback ? queuedCallback(a) : sql``;
    const held = shape.steps > 0 ? heldJournalCtes(a, shape.steps) : sql``;
    // The main query reads `shown`, so the tenant's row is written (and locked) before the events'
    // append gate is taken, the order every tenant change takes them in (its row, then its events).
    const shown = shape.tenant ? shownOnTenant(a) : sql``;
    const tenantShown = shape.tenant ? sql`(select count(*) from shown) as tenant_shown, ` : sql``;
    const result =
      shape.steps === 0
        ? sql`select ${tenantShown}w.execution_id from written w`
        : sql`select ${tenantShown}${journaledCount(shape.steps)} as held_journaled, w.execution_id
            from (select 1) as one left join written w on true`;
    const statement = sql<InsertRow>`with ${held} written as (
        insert into compute_executions (${columns}) ${row}
        on conflict (execution_id) do nothing returning execution_id, created_at, status, attempt)${shown},
      history as (insert into compute_execution_history (execution_id, seq, status, attempt, at, details)
        ${history})${callback},
      appended as (${eventValuesInsert(a, shape.events, condition)})
      ${result}`;
    return { compile: () => statement.compile(db) };
  },
);

/**
 * Inserts `row` unless its execution id exists, with its first history row (details: none) and
 * `drafts`, in one statement; the stored row when it was inserted, undefined when it existed.
 * With `running`, `row` is the execution as it is after its move to `running` (at `running.at`,
 * with `running.details` and `running.callback`), and the history holds both rows; `drafts` are
 * then dated `running.at`, as the SQLite transaction dates them. With `running.tenant`
 * (`tenantStatusArgs`), the statement also makes that tenant change once the row is inserted, a
 * compare-and-set whose failure holds nothing back (SQLite: migration 0019's `raise(ignore)`):
 * `shown` says whether it wrote the tenant. The statement carries
 * `journal`'s held entries (PostgreSQL: folded-journal.ts; SQLite: migration
 * 0018-sqlite-held-journal); when it could not, they are flushed on their own and the insert is
 * made again without them. On SQLite an execution id taken writes nothing: the entries are then
 * flushed on their own.
 */
export async function foldedExecutionInsert(
  ctx: StoreContext,
  row: ExecutionRow,
  drafts: readonly TenantEventDraft[],
  running?: {
    readonly at: string;
    readonly details: string;
    readonly callback: CallbackColumns | null;
    readonly tenant?: Args;
  },
  journal?: HeldJournal,
): Promise<{ readonly row: Selectable<ComputeExecutionsTable>; readonly shown?: boolean } | undefined> {
  const steps = journal?.entries.length ?? 0;
  if (ctx.dialect.name === 'sqlite') {
    const result = await carriedOnSqlite(
      journal,
      (held) => sqliteExecutionInsert(ctx, row, drafts, running, held),
      (outcome) => outcome !== 'exists',
    );
    if (result === 'exists') return undefined;
    // The trigger inserts `row` as given: it is the stored row.
    ctx.changes.notify(['events']);
    return { row, ...(running?.tenant && { shown: result === 'inserted' }) };
  }
  const args: Record<string, unknown> = {
    ...eventArgs(row.tenant_id, drafts, running?.at ?? row.created_at, []),
    details: running?.details ?? JSON.stringify({}),
  };
  for (const c of EXECUTION_COLUMNS) args[`x_${c}`] = row[c];
  if (running) {
    args['at'] = running.at;
    const { callback } = running;
    if (callback) for (const [c] of CALLBACK_COLUMNS) args[`cb_${c}`] = callback[c];
    if (running.tenant) Object.assign(args, running.tenant);
  }
  if (journal && steps > 0) addHeldJournalArgs(args, journal);
  const shape = {
    events: drafts.length,
    running: !!running,
    callback: !!running?.callback,
    steps,
    tenant: !!running?.tenant,
  };
  const result = await executionInsert.first(ctx, shape, args);
  if (!settleHeld(journal, steps, result?.held_journaled)) {
    await journal!.flush();
    return foldedExecutionInsert(ctx, row, drafts, running);
  }
  if (result?.execution_id == null) return undefined;
  ctx.changes.notify(['events']);
  // Inserted as given (every column of EXECUTION_COLUMNS): `row` is the stored row.
  return { row, ...(shape.tenant && { shown: Number(result.tenant_shown) === 1 }) };
}

/**
 * Which sets of subscriber patterns last had a matching webhook, so that the next write of those
 * events goes to the transaction that queues their outbox rows first. Only a guess: a folded
 * write that meets a subscriber writes nothing, and the transaction reads the webhooks itself.
 */
export class SubscriberHint {
  private readonly subscribed = new Set<string>();

  likely(patterns: readonly string[]): boolean {
    return patterns.length > 0 && this.subscribed.has(patterns.join('\n'));
  }

  saw(patterns: readonly string[], subscribed: boolean): void {
    if (patterns.length === 0) return;
    if (subscribed) this.subscribed.add(patterns.join('\n'));
    else this.subscribed.delete(patterns.join('\n'));
  }
}

/** The shape of a folded execution transition: the columns it sets, how many from-statuses, a callback or not. */
interface TransitionShape {
  readonly columns: readonly string[];
  readonly from: number;
  readonly callback: boolean;
}

/** The CTE that queues a callback row (arguments `cb_<column>`) once `written` has a row. */
function queuedCallback(a: Args): RawBuilder<unknown> {
  return sql`, queued as (insert into callbacks (${sql.join(CALLBACK_COLUMNS.map(([c]) => sql.id(c)))})
      select ${sql.join(CALLBACK_COLUMNS.map(([c, type]) => sql`cast(${a[`cb_${c}`]} as ${sql.raw(type)})`))}
      from written)`;
}

/**
 * A compute execution's status change as a compare-and-set on `status` (argument `from_<i>`),
 * with its history row, its callback outbox row (shape `callback`, argument `cb_<column>`) and its
 * `ExecutionStatusChanged` event — the one `executionEvent` builds, here from the updated row, so
 * that the columns the transition does not set (operation, attempt, generation, run) are the
 * stored ones. Only for a status that carries no error and no webhook event (running, succeeded).
 * One row always comes back: `written` null when the compare-and-set failed.
 */
const executionTransition = preparedQueryFamily(
  (s: TransitionShape) => `${s.columns.join()}|${s.from}|${s.callback}`,
  (db, a: Args, shape: TransitionShape, dialect) => {
    const set = sql.join(shape.columns.map((c) => sql`${sql.id(c)} = ${a[`set_${c}`]}`));
    const from = sql.join(Array.from({ length: shape.from }, (_, i) => sql`${a[`from_${i}`]}`));
    const callback = shape.callback ? queuedCallback(a) : sql``;
    const gate = dialect.eventAppendGate ?? sql<boolean>`true`;
    const data = sql`'{"operation":' || to_json(w.operation)::text || ',"status":' || to_json(w.status)::text
      || ',"attempt":' || w.attempt || '}'`;
    const statement = sql<Selectable<ComputeExecutionsTable> & { written: string | null }>`with written as (
        update compute_executions set ${set}
        where execution_id = ${a['executionId']} and status in (${from}) returning *),
      history as (insert into compute_execution_history (execution_id, seq, status, attempt, at, details)
        select w.execution_id,
          coalesce((select max(h.seq) from compute_execution_history h where h.execution_id = w.execution_id), 0) + 1,
          w.status, w.attempt, cast(${a['at']} as text), cast(${a['details']} as text) from written w)${callback},
      appended as (insert into tenant_events (tenant_id, type, actor, reason, message, from_phase, to_phase,
          generation, run_id, execution_id, data, at)
        select w.tenant_id, cast(${a['type']} as text), cast(${a['actor']} as text), cast(${a['reason']} as text),
          w.operation || ' ' || w.status || ' (attempt ' || w.attempt || ')', null, null,
          w.generation, w.workflow_run_id, w.execution_id, ${data}, cast(${a['at']} as text)
        from written w where ${gate})
      select w.execution_id as written, w.* from (select 1) as one left join written w on true`;
    return { compile: () => statement.compile(db) };
  },
);

/**
 * Runs an execution's status change (`set`: the columns it sets, `from`: the statuses it may
 * move from) with its history row, callback row and event, in one statement (SQLite: migration
 * 0020-sqlite-execution-transition). The stored row when it moved, undefined when the
 * compare-and-set failed.
 */
export async function foldedExecutionTransition(
  ctx: StoreContext,
  executionId: string,
  set: Readonly<Record<string, unknown>>,
  from: readonly string[],
  event: { readonly type: string; readonly actor: string; readonly reason: string },
  at: string,
  details: string,
  callback: CallbackColumns | null,
): Promise<Selectable<ComputeExecutionsTable> | undefined> {
  if (ctx.dialect.name === 'sqlite')
    return sqliteExecutionTransition(ctx, executionId, set, from, event, at, details, callback);
  const args: Record<string, unknown> = { executionId, at, details, ...event };
  const columns = Object.keys(set);
  for (const column of columns) args[`set_${column}`] = set[column];
  from.forEach((status, i) => (args[`from_${i}`] = status));
  if (callback) for (const [c] of CALLBACK_COLUMNS) args[`cb_${c}`] = callback[c];
  const shape = { columns, from: from.length, callback: callback !== null };
  const row = await executionTransition.first(ctx, shape, args);
  if (!row || row.written === null) return undefined;
  const { written: _written, ...stored } = row;
  return stored;
}
