/**
 * PostgreSQL: a run's end, its last journal entries and the events of its state change in one
 * statement (`WorkflowRunRepository.recordEnd`), with data-modifying CTEs as folded-writes.ts does for
 * tenant writes — one round trip and one WAL flush where three autocommit statements took three
 * (docs/architecture.md, "The write path in statements"):
 *
 * - `guard` locks the run row when the end's guard holds (lease owner, active state);
 * - `journal` inserts the entries only then, each unless its (run_id, seq) is stored already;
 * - `written` ends the run under the same guard, and only when every entry was new: an entry found
 *   stored (another owner's, or a `started` one to finish) leaves the run as it was, and the caller
 *   records the entries itself and decides (`RunEndResult.journaled`);
 * - `appended` appends the events once the run is written, behind the stream's append gate, and
 *   only when the row as written has the workflow, tags and attempt the drafts were built from.
 *
 * The events go in as `Store.appendEvent` appends them: no webhook outbox rows (a run's state
 * change is no webhook event type; src/domain/webhook.ts). SQLite writes the same rows under the
 * same guard with a trigger (migration 0019-sqlite-shown-and-run-end, `sqliteRunEnd`).
 */
import { sql, type RawBuilder, type Selectable } from 'kysely';
import type { WorkflowStep } from '../domain/workflow-run.js';
import { nowIso } from './codec.js';
import type { StoreContext } from './context.js';
import { eventArgs, eventValuesInsert } from './event-repository.js';
import { STEP_TYPES } from './folded-journal.js';
import { preparedQueryFamily } from './prepared-query.js';
import type { WorkflowRunsTable } from './schema.js';
import type { RunEndEvents } from './store.js';
import { STEP_COLUMNS, toRow } from './workflow-step-repository.js';

type Args = Readonly<Record<string, unknown>>;

interface EndShape {
  /** Columns the end sets, in order. */
  readonly columns: readonly string[];
  readonly leaseGuard: boolean;
  /** How many states the guard lists. */
  readonly states: number;
  /** How many journal entries go first. */
  readonly steps: number;
  /** How many events follow. */
  readonly events: number;
}

const shapeKey = (s: EndShape): string =>
  `${s.columns.join()}|${s.leaseGuard}|${s.states}|${s.steps}|${s.events}`;

/** The counts, and the ended row's columns (all null when nothing was ended). */
type EndRow = Selectable<WorkflowRunsTable> & {
  readonly guarded: number | string;
  readonly journaled: number | string;
  readonly appended: number | string;
};

const runEnd = preparedQueryFamily(shapeKey, (db, a: Args, shape: EndShape, dialect) => {
  const states = sql.join(Array.from({ length: shape.states }, (_, i) => sql`${a[`state_${i}`]}`));
  const guard = sql.join(
    [
      sql`run_id = ${a['runId']}`,
      ...(shape.leaseGuard ? [sql`lease_owner = ${a['leaseOwner']}`] : []),
      ...(shape.states > 0 ? [sql`state in (${states})`] : []),
    ],
    sql` and `,
  );
  const ctes: RawBuilder<unknown>[] = [];
  let guardedCount = sql`1`;
  let journaledCount = sql`0`;
  let allJournaled = sql`true`;
  if (shape.steps > 0) {
    const columns = sql.join(STEP_COLUMNS.map((c) => sql.id(c)));
    const tuples = Array.from(
      { length: shape.steps },
      (_, i) =>
        sql`(${sql.join(STEP_COLUMNS.map((c) => sql`cast(${a[`${c}_${i}`]} as ${sql.raw(STEP_TYPES[c])})`))})`,
    );
    ctes.push(sql`guarded as (select run_id from workflow_runs where ${guard} for update)`);
    ctes.push(sql`journal as (insert into workflow_steps (${columns})
        select * from (values ${sql.join(tuples)}) as v (${columns}) where exists (select 1 from guarded)
        on conflict (run_id, seq) do nothing returning seq)`);
    guardedCount = sql`(select count(*) from guarded)`;
    journaledCount = sql`(select count(*) from journal)`;
    allJournaled = sql`${journaledCount} = ${shape.steps}`;
  }
  const set = sql.join(shape.columns.map((c) => sql`${sql.id(c)} = ${a[`set_${c}`]}`));
  ctes.push(sql`written as (update workflow_runs set ${set} where ${guard} and ${allJournaled} returning *)`);
  let appendedCount = sql`0`;
  if (shape.events > 0) {
    const expected = sql`exists (select 1 from written w where w.workflow = cast(${a['x_workflow']} as text)
        and w.tags = cast(${a['x_tags']} as text) and w.attempt = cast(${a['x_attempt']} as integer))`;
    const condition = sql<boolean>`${expected} and ${dialect.eventAppendGate ?? sql`true`}`;
    ctes.push(sql`appended as (${eventValuesInsert(a, shape.events, condition)} returning seq)`);
    appendedCount = sql`(select count(*) from appended)`;
  }
  const statement = sql<EndRow>`with ${sql.join(ctes)}
    select ${guardedCount} as guarded, ${journaledCount} as journaled, ${appendedCount} as appended, w.*
    from (select 1) as one left join written w on true`;
  return { compile: () => statement.compile(db) };
});

export interface FoldedEnd {
  /** The ended row; undefined when nothing was ended. */
  readonly row: Selectable<WorkflowRunsTable> | undefined;
  readonly journaled: boolean;
  readonly eventsWritten: boolean;
}

/**
 * Runs the end: `values` the columns it sets (`patchValues`), `guard` the run's, `steps` first and
 * `events` after, in one statement (see the file comment).
 */
export async function foldedRunEnd(
  ctx: StoreContext,
  runId: string,
  values: Readonly<Record<string, unknown>>,
  guard: { readonly leaseOwner?: string | undefined; readonly states: readonly string[] },
  steps: readonly WorkflowStep[],
  events: RunEndEvents | undefined,
): Promise<FoldedEnd> {
  const drafts = events?.drafts ?? [];
  const args: Record<string, unknown> = {
    runId,
    ...eventArgs(events?.tenantId ?? null, drafts, nowIso(), []),
  };
  const columns = Object.keys(values);
  for (const column of columns) args[`set_${column}`] = values[column];
  if (guard.leaseOwner !== undefined) args['leaseOwner'] = guard.leaseOwner;
  guard.states.forEach((state, i) => (args[`state_${i}`] = state));
  steps.forEach((step, i) => {
    const row = toRow(step);
    for (const column of STEP_COLUMNS) args[`${column}_${i}`] = row[column];
  });
  if (events) {
    args['x_workflow'] = events.expected.workflow;
    args['x_tags'] = JSON.stringify(events.expected.tags);
    args['x_attempt'] = events.expected.attempt;
  }
  const shape: EndShape = {
    columns,
    leaseGuard: guard.leaseOwner !== undefined,
    states: guard.states.length,
    steps: steps.length,
    events: drafts.length,
  };
  const result = await runEnd.first(ctx, shape, args);
  const eventsWritten = drafts.length > 0 && Number(result?.appended ?? 0) === drafts.length;
  if (eventsWritten) ctx.changes.notify(['events']);
  const { guarded, journaled, appended: _appended, ...row } = result ?? ({} as EndRow);
  return {
    row: row.run_id == null ? undefined : row,
    // A guard that failed wrote no entry and met none.
    journaled: Number(guarded ?? 0) === 0 || Number(journaled ?? 0) === steps.length,
    eventsWritten,
  };
}
