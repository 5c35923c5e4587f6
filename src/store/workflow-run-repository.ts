/**
 * Workflow runs: idempotent creation on the deterministic run id, guarded updates, and the embedded
 * engine's leases. Generic rows: the definition name, the tags as JSON and the `subject` tag in a
 * column of its own, indexed with the creation time (`listBySubject`, retention). `claimDue` is one `UPDATE … WHERE run_id IN (SELECT … LIMIT n)
 * RETURNING *` on both engines; PostgreSQL adds `FOR UPDATE SKIP LOCKED` to the inner select so
 * concurrent claimers (replicas) never get the same run, SQLite's single writer gives the same.
 */
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { RunState } from '../domain/tenant.js';
import { ACTIVE_RUN_STATES, SUBJECT_TAG, type RunTags, type WorkflowRun } from '../domain/workflow-run.js';
import { fromJson, nowIso, toJson } from './codec.js';
import type { StoreContext } from './context.js';
import { preparedQuery, preparedQueryFamily } from './prepared-query.js';
import type { WorkflowRunsTable } from './schema.js';
import type {
  NewWorkflowRun,
  RunEndEvents,
  RunEndResult,
  RunEndWrite,
  WorkflowRunPatch,
  WorkflowRunRepository,
} from './store.js';
import { foldedRunEnd } from './folded-run-end.js';
import { sqliteRunEnd } from './folded-writes-sqlite.js';

export function toRun(row: Selectable<WorkflowRunsTable>): WorkflowRun {
  const num = (v: number | null) => (v === null ? null : Number(v));
  return {
    runId: row.run_id,
    workflow: row.workflow,
    tags: fromJson<RunTags>(row.tags, {}),
    engine: row.engine as WorkflowRun['engine'],
    state: row.state as RunState,
    attempt: Number(row.attempt),
    input: fromJson<unknown>(row.input, null),
    output: fromJson<unknown>(row.output, null),
    error: fromJson<unknown>(row.error, null),
    wakeAt: num(row.wake_at),
    leaseOwner: row.lease_owner,
    leaseExpiresAt: num(row.lease_expires_at),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}

/** A subject's newest `limit` runs, newest first (`listBySubject`). */
export async function runsBySubject(
  ctx: StoreContext,
  subject: string,
  limit: number,
): Promise<WorkflowRun[]> {
  const rows = await runQueries.bySubject.rows(ctx, { subject, limit });
  return rows.map(toRun);
}

export function patchValues(patch: WorkflowRunPatch): Updateable<WorkflowRunsTable> {
  const values: Updateable<WorkflowRunsTable> = { updated_at: nowIso() };
  if (patch.state !== undefined) values.state = patch.state;
  if (patch.attempt !== undefined) values.attempt = patch.attempt;
  if (patch.output !== undefined) values.output = toJson(patch.output);
  if (patch.error !== undefined) values.error = toJson(patch.error);
  if (patch.wakeAt !== undefined) values.wake_at = patch.wakeAt;
  if (patch.leaseOwner !== undefined) values.lease_owner = patch.leaseOwner;
  if (patch.leaseExpiresAt !== undefined) values.lease_expires_at = patch.leaseExpiresAt;
  if (patch.finishedAt !== undefined) values.finished_at = patch.finishedAt;
  return values;
}

type RunValues = Updateable<WorkflowRunsTable>;

/** The columns `createOrGet` writes. */
type NewRunRow = Required<
  Pick<
    Insertable<WorkflowRunsTable>,
    | 'run_id'
    | 'workflow'
    | 'subject'
    | 'tags'
    | 'engine'
    | 'state'
    | 'attempt'
    | 'input'
    | 'wake_at'
    | 'lease_owner'
    | 'lease_expires_at'
    | 'created_at'
    | 'updated_at'
  >
>;

interface RunUpdateShape {
  /** Columns the patch sets, in order. */
  readonly columns: readonly (keyof RunValues)[];
  readonly leaseGuard: boolean;
  /** How many states `expectedStates` lists (0: no state guard). */
  readonly states: number;
}

/** Run statements of every step of the embedded engine, compiled once (per patch shape). */
const runQueries = {
  /** Insert unless the run id exists. */
  insert: preparedQuery((db, a: NewRunRow) =>
    db
      .insertInto('workflow_runs')
      .values({
        run_id: a.run_id,
        workflow: a.workflow,
        subject: a.subject,
        tags: a.tags,
        engine: a.engine,
        state: a.state,
        attempt: a.attempt,
        input: a.input,
        wake_at: a.wake_at,
        lease_owner: a.lease_owner,
        lease_expires_at: a.lease_expires_at,
        created_at: a.created_at,
        updated_at: a.updated_at,
      })
      .onConflict((oc) => oc.column('run_id').doNothing())
      .returningAll(),
  ),
  /** A subject's runs, newest first. */
  bySubject: preparedQuery((db, a: { subject: string; limit: number }) =>
    db
      .selectFrom('workflow_runs')
      .selectAll()
      .where('subject', '=', a.subject)
      .orderBy('created_at', 'desc')
      .orderBy('run_id', 'desc')
      .limit(a.limit),
  ),
  get: preparedQuery((db, a: { runId: string }) =>
    db.selectFrom('workflow_runs').selectAll().where('run_id', '=', a.runId),
  ),
  /** The claim loop's poll (once a second per process, even when idle). */
  claimDue: preparedQuery(
    (db, a: { owner: string; now: number; leaseUntil: number; limit: number }, dialect) => {
      const due = db
        .selectFrom('workflow_runs')
        .select('run_id')
        .where('state', 'in', ACTIVE_RUN_STATES)
        // Unheld runs when due; held runs as soon as the holder's lease expired, whatever `wake_at`
        // says: a holder waits in memory with `wake_at` = its deadline, and if it died its wake-up
        // (a resolved promise, a cancel) died with it — the taker re-reads the journal.
        .where((eb) =>
          eb.or([
            eb.and([eb('lease_owner', 'is', null), eb('wake_at', '<=', a.now)]),
            eb('lease_expires_at', '<', a.now),
          ]),
        )
        .orderBy('wake_at')
        .limit(a.limit);
      return db
        .updateTable('workflow_runs')
        .set({ lease_owner: a.owner, lease_expires_at: a.leaseUntil })
        .where('run_id', 'in', dialect.skipLocked(due))
        .returningAll();
    },
  ),
  nextWakeAt: preparedQuery((db, _a: Record<string, never>) =>
    db
      .selectFrom('workflow_runs')
      .select((eb) => eb.fn.min('wake_at').as('next'))
      .where('state', 'in', ACTIVE_RUN_STATES)
      .where('lease_owner', 'is', null),
  ),
  update: preparedQueryFamily(
    (shape: RunUpdateShape) => `${shape.columns.join()}|${shape.leaseGuard}|${shape.states}`,
    (db, a: Readonly<Record<string, unknown>>, shape) => {
      const set = Object.fromEntries(shape.columns.map((c) => [c, a[`set_${c}`]])) as RunValues;
      let query = db
        .updateTable('workflow_runs')
        .set(set)
        .where('run_id', '=', a.runId as string);
      if (shape.leaseGuard) query = query.where('lease_owner', '=', a.leaseOwner as string);
      if (shape.states > 0) {
        const states = Array.from({ length: shape.states }, (_, i) => a[`state_${i}`] as string);
        query = query.where('state', 'in', states);
      }
      return query.returningAll();
    },
  ),
};

export class KyselyWorkflowRunRepository implements WorkflowRunRepository {
  constructor(private readonly ctx: StoreContext) {}

  /**
   * A new run starts `pending`, attempt 1, due at once (`wakeAt` = now) and unleased — or leased to
   * `run.lease` (its creator executes it). An existing run id returns the stored run untouched.
   */
  async createOrGet(run: NewWorkflowRun): Promise<{ run: WorkflowRun; created: boolean }> {
    const now = nowIso();
    const values: NewRunRow = {
      run_id: run.runId,
      workflow: run.workflow,
      subject: run.tags[SUBJECT_TAG] ?? null,
      tags: toJson(run.tags) ?? '{}',
      engine: run.engine,
      state: 'pending',
      attempt: 1,
      input: toJson(run.input),
      wake_at: Date.parse(now),
      lease_owner: run.lease?.owner ?? null,
      lease_expires_at: run.lease?.expiresAt ?? null,
      created_at: now,
      updated_at: now,
    };
    const inserted = await runQueries.insert.first(this.ctx, values);
    if (inserted) return { run: toRun(inserted), created: true };
    const existing = await this.get(run.runId);
    if (!existing) throw new Error(`workflow run ${run.runId} vanished after a conflicting insert`);
    return { run: existing, created: false };
  }

  async get(runId: string): Promise<WorkflowRun | undefined> {
    const row = await runQueries.get.first(this.ctx, { runId });
    return row && toRun(row);
  }

  /** Newest first. */
  listBySubject(subject: string, limit: number): Promise<readonly WorkflowRun[]> {
    return runsBySubject(this.ctx, subject, limit);
  }

  async update(
    runId: string,
    patch: WorkflowRunPatch,
    guard: { leaseOwner?: string; expectedStates?: readonly RunState[] } = {},
  ): Promise<WorkflowRun | undefined> {
    const states = guard.expectedStates ?? [];
    if (guard.expectedStates !== undefined && states.length === 0) return undefined;
    const values = patchValues(patch);
    const columns = Object.keys(values) as (keyof RunValues)[];
    const args: Record<string, unknown> = { runId };
    for (const column of columns) args[`set_${column}`] = values[column];
    if (guard.leaseOwner !== undefined) args.leaseOwner = guard.leaseOwner;
    states.forEach((state, i) => (args[`state_${i}`] = state));
    const shape = { columns, leaseGuard: guard.leaseOwner !== undefined, states: states.length };
    const row = await runQueries.update.first(this.ctx, shape, args);
    return row && toRun(row);
  }

  /**
   * One statement on both databases: PostgreSQL's data-modifying CTEs (folded-run-end.ts), SQLite's
   * insert into a view whose trigger writes the same rows under the same guard (migration
   * 0019-sqlite-shown-and-run-end, folded-writes-sqlite.ts).
   */
  async recordEnd(runId: string, end: RunEndWrite): Promise<RunEndResult> {
    const { patch, guard, steps, events } = end;
    const states = guard.expectedStates ?? [];
    if (guard.expectedStates !== undefined && states.length === 0) {
      return { run: undefined, journaled: true, eventsWritten: false };
    }
    const statesGuard = { states, ...(guard.leaseOwner !== undefined && { leaseOwner: guard.leaseOwner }) };
    if (this.ctx.dialect.name === 'postgres') {
      const folded = await foldedRunEnd(this.ctx, runId, patchValues(patch), statesGuard, steps, events);
      const run = folded.row && toRun(folded.row);
      return { run, journaled: folded.journaled, eventsWritten: folded.eventsWritten };
    }
    const ended = await sqliteRunEnd(this.ctx, runId, patchValues(patch), statesGuard, steps, events);
    // A guard that failed wrote no entry and met none.
    if (ended === 'guarded') return { run: undefined, journaled: true, eventsWritten: false };
    if (ended === 'journaled') return { run: undefined, journaled: false, eventsWritten: false };
    const run = toRun(ended);
    // The trigger appended the events under this same condition, on the row as written.
    const eventsWritten = !!events && events.drafts.length > 0 && isExpected(ended, events.expected);
    if (eventsWritten) this.ctx.changes.notify(['events']);
    return { run, journaled: true, eventsWritten };
  }

  /** Due runs, earliest `wakeAt` first. A run whose lease expired is due again (taken over). */
  async claimDue(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
  ): Promise<readonly WorkflowRun[]> {
    const rows = await runQueries.claimDue.rows(this.ctx, { owner, now, leaseUntil: now + leaseMs, limit });
    return rows.map(toRun).sort((a, b) => (a.wakeAt ?? 0) - (b.wakeAt ?? 0));
  }

  async renewLease(runId: string, owner: string, until: number): Promise<boolean> {
    const result = await this.ctx.db
      .updateTable('workflow_runs')
      .set({ lease_expires_at: until })
      .where('run_id', '=', runId)
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Earliest `wakeAt` among active runs nobody holds a lease on (expired leases: found by polling). */
  async nextWakeAt(): Promise<number | null> {
    const row = await runQueries.nextWakeAt.first(this.ctx, {});
    return row?.next == null ? null : Number(row.next);
  }
}

/**
 * Whether the ended row has the columns the events were built from (`RunEndEvents.expected`): the
 * comparison migration 0019's trigger makes (the stored `tags` text against the expected tags'
 * JSON text), as PostgreSQL's statement makes it.
 */
function isExpected(row: Selectable<WorkflowRunsTable>, expected: RunEndEvents['expected']): boolean {
  return (
    row.workflow === expected.workflow &&
    Number(row.attempt) === expected.attempt &&
    row.tags === JSON.stringify(expected.tags)
  );
}
