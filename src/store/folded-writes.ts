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
 * writes the same rows under the same guards (folded-writes-sqlite.ts). An execution's move from
 * `running` to `succeeded` (`foldedExecutionTransition`) stays PostgreSQL's only: it returns the
 * updated row, which a trigger cannot.
 */
import { sql, type RawBuilder, type Selectable } from 'kysely';
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
import { sqliteCreation, sqliteExecutionInsert, sqliteStatusChange } from './folded-writes-sqlite.js';
import { preparedQueryFamily } from './prepared-query.js';
import type { ComputeExecutionsTable } from './schema.js';

/** The shape of a folded write: how many events, subscriber patterns and labels it carries. */
interface FoldShape {
  readonly events: number;
  readonly subscribers: number;
  readonly labels: number;
}

const shapeKey = (s: FoldShape): string => `${s.events}:${s.subscribers}:${s.labels}`;

type Args = Readonly<Record<string, unknown>>;

/** What a folded write did: wrote everything, found the guard failed, or left it to the transaction. */
export type FoldOutcome = 'written' | 'stale' | 'subscribed';

interface FoldRow {
  readonly written: number | string;
  readonly subscribers: number | string;
}

/**
 * The statement around `write` (a CTE named `written` that returns the tenant's id when it wrote
 * the row): `subscribers` counts the matching webhooks (the write is guarded by there being none),
 * `appended` inserts the events once `written` has a row, behind the stream's append gate.
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
  const condition = sql<boolean>`exists (select 1 from written) and ${gate ?? sql`true`}`;
  return sql<FoldRow>`with subscribers as (select ${count} as n),
    written as (${write(unsubscribed)}),
    appended as (${eventValuesInsert(a, shape.events, condition)})${extra}
    select (select count(*) from written) as written, (select n from subscribers) as subscribers`;
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
 * Writes a tenant's status columns (`status`: phase, observed_generation, status, version,
 * updated_at, with `id` and `expectedVersion`) and appends `drafts`, in one statement.
 */
export async function foldedStatusChange(
  ctx: StoreContext,
  status: Args,
  drafts: readonly TenantEventDraft[],
  at: string,
  subscribers: readonly string[],
): Promise<FoldOutcome> {
  let result: FoldOutcome;
  if (ctx.dialect.name === 'sqlite') {
    result = await sqliteStatusChange(ctx, status, drafts, at, subscribers);
  } else {
    const args = { ...eventArgs(status['id'] as string, drafts, at, subscribers), ...status };
    const shape = { events: drafts.length, subscribers: subscribers.length, labels: 0 };
    result = outcome(await statusChange.first(ctx, shape, args));
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
  const shape = { events: drafts.length, subscribers: subscribers.length, labels: entries.length };
  const result = outcome(await creation.first(ctx, shape, args));
  if (result === 'written') ctx.changes.notify(['events']);
  return result;
}

/** The shape of a folded execution insert: how many events, and whether it is inserted moved to `running`. */
interface InsertShape {
  readonly events: number;
  /** Inserted as it is after its move to `running`: two history rows. */
  readonly running: boolean;
  /** A callback row (arguments `cb_<column>`) is queued with it. */
  readonly callback: boolean;
}

/**
 * A new compute execution unless its id exists, its history and its events. The history row is
 * numbered as `appendHistory` numbers it, after the execution's last; an execution inserted
 * `running` gets the two rows its insert and its move would have written (`pending` at its
 * creation, `running` at `at` with `details`) and the move's callback row.
 */
const executionInsert = preparedQueryFamily(
  (s: InsertShape) => `${s.events}|${s.running}|${s.callback}`,
  (db, a: Args, shape: InsertShape, dialect) => {
    const columns = sql.join(EXECUTION_COLUMNS.map((c) => sql.id(c)));
    const values = sql.join(EXECUTION_COLUMNS.map((c) => sql`${a[`x_${c}`]}`));
    const condition = sql<boolean>`exists (select 1 from written) and ${dialect.eventAppendGate ?? sql`true`}`;
    const history = shape.running
      ? sql`select w.execution_id, 1, 'pending', w.attempt, w.created_at, '{}' from written w
          union all select w.execution_id, 2, 'running', w.attempt, cast(${a['at']} as text),
            cast(${a['details']} as text) from written w`
      : sql`select w.execution_id,
          coalesce((select max(h.seq) from compute_execution_history h where h.execution_id = w.execution_id), 0) + 1,
          w.status, w.attempt, w.created_at, ${a['details']} from written w`;
    const callback = shape.callback ? queuedCallback(a) : sql``;
    const statement = sql<Selectable<ComputeExecutionsTable>>`with written as (
        insert into compute_executions (${columns}) values (${values})
        on conflict (execution_id) do nothing returning *),
      history as (insert into compute_execution_history (execution_id, seq, status, attempt, at, details)
        ${history})${callback},
      appended as (${eventValuesInsert(a, shape.events, condition)})
      select * from written`;
    return { compile: () => statement.compile(db) };
  },
);

/**
 * Inserts `row` unless its execution id exists, with its first history row (details: none) and
 * `drafts`, in one statement; the stored row when it was inserted, undefined when it existed.
 * With `running`, `row` is the execution as it is after its move to `running` (at `running.at`,
 * with `running.details` and `running.callback`), and the history holds both rows; `drafts` are
 * then dated `running.at`, as the SQLite transaction dates them.
 */
export async function foldedExecutionInsert(
  ctx: StoreContext,
  row: ExecutionRow,
  drafts: readonly TenantEventDraft[],
  running?: {
    readonly at: string;
    readonly details: string;
    readonly callback: CallbackColumns | null;
  },
): Promise<Selectable<ComputeExecutionsTable> | undefined> {
  if (ctx.dialect.name === 'sqlite') {
    // The trigger inserts `row` as given: it is the stored row.
    const inserted = await sqliteExecutionInsert(ctx, row, drafts, running);
    if (inserted) ctx.changes.notify(['events']);
    return inserted ? row : undefined;
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
  }
  const shape = { events: drafts.length, running: !!running, callback: !!running?.callback };
  const inserted = await executionInsert.first(ctx, shape, args);
  if (inserted) ctx.changes.notify(['events']);
  return inserted;
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
 * move from) with its history row, callback row and event, in one statement. The stored row
 * when it moved, undefined when the compare-and-set failed. `callback` is handed to the change
 * signal's listeners, as a transaction's `handOff` would, once the statement has succeeded.
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
