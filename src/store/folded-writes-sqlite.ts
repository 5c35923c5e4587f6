/**
 * SQLite's folded writes: the same writes as folded-writes.ts builds for PostgreSQL, each one
 * `insert into <view>` whose INSTEAD OF trigger (migration 0017-sqlite-folded-writes) writes the
 * rows — one statement without BEGIN/COMMIT where the transaction took four to six
 * (docs/architecture.md, "The write path in statements"). The guards are the same: the tenant's
 * version compare-and-set, the unique name, the execution id unless taken, no enabled webhook
 * that may want the events. A guard that fails raises inside the trigger, which undoes the
 * statement as a whole; here that becomes the outcome the PostgreSQL fold returns.
 *
 * A status change and a new execution also carry a run's held journal entries (migration
 * 0018-sqlite-held-journal, as folded-journal.ts on PostgreSQL): written first in the same
 * statement, only while the run is held by its lease owner and active and only when every entry is
 * new. When they cannot be (`lessor-fold:held`, `lessor-fold:journaled`), nothing is written and
 * the outcome is 'held': the caller flushes them on their own and makes the write again without.
 *
 * Migration 0019-sqlite-shown-and-run-end adds two more: a new execution's insert also shows it on
 * its tenant (`t_*` columns, the compare-and-set of `changeFrom`; stale: the trigger's last act is
 * `raise(ignore)`, which keeps what it wrote and drops the RETURNING row), and a run's end with its
 * last journal entries and events (`workflow_run_end_writes`), whose RETURNING reads the ended row
 * back after the trigger. An insert into a view returns its RETURNING row once the trigger has run,
 * with subqueries that see what the trigger wrote; `raise(ignore)` drops that row. Migration
 * 0020-sqlite-execution-transition makes an execution's status change one such insert too: its
 * compare-and-set is a `raise(ignore)`, its RETURNING the moved row.
 */
import { sql, type RawBuilder, type Selectable } from 'kysely';
import type { HeldJournal } from '../domain/held-journal.js';
import type { TenantEventDraft } from '../domain/tenant-event.js';
import type { WorkflowStep } from '../domain/workflow-run.js';
import { nowIso } from './codec.js';
import type { StoreContext } from './context.js';
import { eventRow } from './event-repository.js';
import {
  CALLBACK_COLUMNS,
  EXECUTION_COLUMNS,
  TENANT_COLUMNS,
  type CallbackColumns,
  type ExecutionRow,
} from './folded-columns.js';
import { preparedQuery } from './prepared-query.js';
import type { ComputeExecutionsTable, WorkflowRunsTable } from './schema.js';
import type { RunEndEvents } from './store.js';
import { toRow } from './workflow-step-repository.js';

type Args = Readonly<Record<string, unknown>>;

type Raised = 'stale' | 'subscribed' | 'exists' | 'held';

/** What a trigger's guard raised, if `error` is one of them ('held' for both held-entry guards). */
function raisedGuard(error: unknown): Raised | undefined {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== 'SQLITE_CONSTRAINT_TRIGGER' || typeof message !== 'string') return undefined;
  const match = /^lessor-fold:(stale|subscribed|exists|held|journaled)$/.exec(message);
  if (!match) return undefined;
  return match[1] === 'journaled' ? 'held' : (match[1] as Raised);
}

/** The columns that carry held journal entries (migration 0018): null without any. */
const HELD_COLUMNS = ['held', 'held_run_id', 'held_lease_owner'];

function heldArgs(journal: HeldJournal | undefined): Record<string, unknown> {
  if (!journal || journal.entries.length === 0)
    return { held: null, held_run_id: null, held_lease_owner: null };
  return {
    held: JSON.stringify(journal.entries.map(toRow)),
    held_run_id: journal.runId,
    held_lease_owner: journal.leaseOwner,
  };
}

/**
 * `insert into <view> (<columns>) values (<arguments of the same names>)`, compiled once; with
 * `returning`, that RETURNING clause, whose row a trigger's `raise(ignore)` drops.
 */
/**
 * A view insert's RETURNING list that reads `columns` of the `table` row whose `key` the insert
 * named, one primary-key subquery per column: RETURNING subqueries see what the trigger wrote, so
 * this is the row as the statement left it.
 */
function rowReadBack<R>(view: string, table: string, key: string, columns: readonly string[]): RawBuilder<R> {
  return sql<R>`${sql.join(
    columns.map(
      (c) =>
        sql`(select t.${sql.id(c)} from ${sql.table(table)} t where t.${sql.id(key)} = ${sql.table(view)}.${sql.id(key)}) as ${sql.id(c)}`,
    ),
  )}`;
}

function viewInsert<R = never>(view: string, columns: readonly string[], returning?: RawBuilder<R>) {
  return preparedQuery((db, a: Args) => {
    const statement = sql<R>`insert into ${sql.table(view)} (${sql.join(columns.map((c) => sql.id(c)))})
      values (${sql.join(columns.map((c) => sql`${a[c]}`))})${returning ? sql` returning ${returning}` : sql``}`;
    return { compile: () => statement.compile(db) };
  });
}

/** The events of a write as the triggers read them: a JSON array of event columns, in order. */
function eventsJson(drafts: readonly TenantEventDraft[]): string {
  return JSON.stringify(drafts.map(eventRow));
}

const statusChange = viewInsert('tenant_status_writes', [
  'id',
  'expected_version',
  'phase',
  'observed_generation',
  'status',
  'version',
  'updated_at',
  'at',
  'events',
  'subscribers',
  ...HELD_COLUMNS,
]);

/**
 * `foldedStatusChange` on SQLite, carrying `journal`'s held entries: 'written' (entries too),
 * 'stale', 'subscribed' or 'held' (nothing written).
 */
export async function sqliteStatusChange(
  ctx: StoreContext,
  status: Args,
  drafts: readonly TenantEventDraft[],
  at: string,
  subscribers: readonly string[],
  journal?: HeldJournal,
): Promise<'written' | 'stale' | 'subscribed' | 'held'> {
  const args = {
    id: status['id'],
    expected_version: status['expectedVersion'],
    phase: status['phase'],
    observed_generation: status['observed_generation'],
    status: status['status'],
    version: status['version'],
    updated_at: status['updated_at'],
    at,
    events: eventsJson(drafts),
    subscribers: JSON.stringify(subscribers),
    ...heldArgs(journal),
  };
  try {
    await statusChange.affected(ctx, args);
  } catch (error) {
    const raised = raisedGuard(error);
    if (raised === 'stale' || raised === 'subscribed' || raised === 'held') return raised;
    throw error;
  }
  return 'written';
}

const creation = viewInsert('tenant_creation_writes', [
  ...TENANT_COLUMNS.map((c) => `t_${c}`),
  'labels',
  'actor',
  'events',
  'subscribers',
]);

/** `foldedCreation` on SQLite: 'written' or 'subscribed'; a taken name throws the unique violation. */
export async function sqliteCreation(
  ctx: StoreContext,
  row: Readonly<Record<(typeof TENANT_COLUMNS)[number], unknown>>,
  labels: Readonly<Record<string, string>>,
  actor: string,
  drafts: readonly TenantEventDraft[],
  subscribers: readonly string[],
): Promise<'written' | 'subscribed'> {
  const args: Record<string, unknown> = {
    labels: JSON.stringify(labels),
    actor,
    events: eventsJson(drafts),
    subscribers: JSON.stringify(subscribers),
  };
  for (const c of TENANT_COLUMNS) args[`t_${c}`] = row[c];
  try {
    await creation.affected(ctx, args);
  } catch (error) {
    if (raisedGuard(error) === 'subscribed') return 'subscribed';
    throw error;
  }
  return 'written';
}

/** The tenant change an execution insert makes (migration 0019): `tenantStatusArgs`' names. */
const TENANT_SHOW_COLUMNS = [
  't_id',
  't_expected',
  't_phase',
  't_observed_generation',
  't_status',
  't_version',
  't_updated_at',
];

const executionInsert = viewInsert(
  'compute_execution_writes',
  [
    ...EXECUTION_COLUMNS.map((c) => `x_${c}`),
    'running',
    'at',
    'details',
    ...CALLBACK_COLUMNS.map(([c]) => `cb_${c}`),
    'events',
    ...HELD_COLUMNS,
    ...TENANT_SHOW_COLUMNS,
  ],
  sql<{ shown: number }>`1 as shown`,
);

/**
 * `foldedExecutionInsert` on SQLite, carrying `journal`'s held entries: 'inserted' when `row` was
 * (it is then stored as given, the entries with it, and `tenant`'s change made), 'inserted-stale'
 * when it was but `tenant`'s compare-and-set found another version (the tenant left as it was:
 * the trigger's `raise(ignore)`, migration 0019), 'exists' when its execution id was taken, 'held'
 * when the entries could not be carried (nothing written either way).
 */
export async function sqliteExecutionInsert(
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
): Promise<'inserted' | 'inserted-stale' | 'exists' | 'held'> {
  const args: Record<string, unknown> = {
    running: running ? 1 : 0,
    at: running?.at ?? row.created_at,
    details: running?.details ?? JSON.stringify({}),
    events: eventsJson(drafts),
    ...heldArgs(journal),
  };
  for (const c of EXECUTION_COLUMNS) args[`x_${c}`] = row[c];
  for (const [c] of CALLBACK_COLUMNS) args[`cb_${c}`] = running?.callback?.[c] ?? null;
  for (const c of TENANT_SHOW_COLUMNS) args[c] = running?.tenant?.[c] ?? null;
  try {
    const shown = await executionInsert.rows(ctx, args);
    return shown.length === 1 ? 'inserted' : 'inserted-stale';
  } catch (error) {
    const raised = raisedGuard(error);
    if (raised === 'exists' || raised === 'held') return raised;
    throw error;
  }
}

/** Every column of `workflow_runs`, which a run's end returns as written. */
const RUN_COLUMNS = Object.keys({
  run_id: true,
  workflow: true,
  subject: true,
  tags: true,
  engine: true,
  state: true,
  attempt: true,
  input: true,
  output: true,
  error: true,
  wake_at: true,
  lease_owner: true,
  lease_expires_at: true,
  created_at: true,
  updated_at: true,
  finished_at: true,
} satisfies Record<keyof WorkflowRunsTable, true>);

const runEnd = viewInsert(
  'workflow_run_end_writes',
  [
    'run_id',
    'guard_lease_owner',
    'guard_states',
    'patch',
    'held',
    'events',
    'events_tenant_id',
    'events_at',
    'x_workflow',
    'x_tags',
    'x_attempt',
  ],
  rowReadBack<Selectable<WorkflowRunsTable>>(
    'workflow_run_end_writes',
    'workflow_runs',
    'run_id',
    RUN_COLUMNS,
  ),
);

/**
 * `foldedRunEnd` on SQLite (migration 0019): `steps` inserted, the run updated with `values` and
 * `events` appended in one statement, only while `guard` holds. The ended row; 'guarded' when the
 * guard failed (nothing written), 'journaled' when an entry was stored already (nothing written:
 * the caller records the entries itself, as PostgreSQL's caller does).
 */
export async function sqliteRunEnd(
  ctx: StoreContext,
  runId: string,
  values: Readonly<Record<string, unknown>>,
  guard: { readonly leaseOwner?: string | undefined; readonly states: readonly string[] },
  steps: readonly WorkflowStep[],
  events: RunEndEvents | undefined,
): Promise<Selectable<WorkflowRunsTable> | 'guarded' | 'journaled'> {
  const drafts = events?.drafts ?? [];
  const args = {
    run_id: runId,
    guard_lease_owner: guard.leaseOwner ?? null,
    guard_states: guard.states.length === 0 ? null : JSON.stringify(guard.states),
    patch: JSON.stringify(values),
    held: steps.length === 0 ? null : JSON.stringify(steps.map(toRow)),
    events: drafts.length === 0 ? null : eventsJson(drafts),
    events_tenant_id: events?.tenantId ?? null,
    events_at: nowIso(),
    x_workflow: events?.expected.workflow ?? null,
    x_tags: events ? JSON.stringify(events.expected.tags) : null,
    x_attempt: events?.expected.attempt ?? null,
  };
  try {
    const [row] = await runEnd.rows(ctx, args);
    return row ?? 'guarded';
  } catch (error) {
    if (raisedGuard(error) === 'held') return 'journaled';
    throw error;
  }
}

const executionTransition = viewInsert(
  'compute_execution_transition_writes',
  [
    'execution_id',
    'from_statuses',
    'patch',
    'at',
    'details',
    'event_type',
    'event_actor',
    'event_reason',
    ...CALLBACK_COLUMNS.map(([c]) => `cb_${c}`),
  ],
  // Every column of the execution, as the move wrote it.
  rowReadBack<Selectable<ComputeExecutionsTable>>(
    'compute_execution_transition_writes',
    'compute_executions',
    'execution_id',
    EXECUTION_COLUMNS,
  ),
);

/**
 * `foldedExecutionTransition` on SQLite (migration 0020-sqlite-execution-transition): the update
 * of `set` as a compare-and-set on `from`, its history row, its callback row and its event, in one
 * statement. The row as updated; undefined when the compare-and-set failed (the trigger's
 * `raise(ignore)`: nothing written, no row back).
 */
export async function sqliteExecutionTransition(
  ctx: StoreContext,
  executionId: string,
  set: Readonly<Record<string, unknown>>,
  from: readonly string[],
  event: { readonly type: string; readonly actor: string; readonly reason: string },
  at: string,
  details: string,
  callback: CallbackColumns | null,
): Promise<Selectable<ComputeExecutionsTable> | undefined> {
  const args: Record<string, unknown> = {
    execution_id: executionId,
    from_statuses: JSON.stringify(from),
    patch: JSON.stringify(set),
    at,
    details,
    event_type: event.type,
    event_actor: event.actor,
    event_reason: event.reason,
  };
  for (const [c] of CALLBACK_COLUMNS) args[`cb_${c}`] = callback?.[c] ?? null;
  const [row] = await executionTransition.rows(ctx, args);
  return row;
}
