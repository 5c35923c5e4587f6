/**
 * The embedded engine's journal: one row per step (keyed by run and seq) and durable promises.
 * Both are write-once at the key: a replayed `start` or `record` returns what was stored first, and a promise
 * keeps its first resolution (`INSERT … ON CONFLICT DO NOTHING`).
 */
import type { Insertable, Selectable } from 'kysely';
import type { StepKind, StepStatus, WorkflowStep } from '../domain/workflow-run.js';
import { fromJson, toJson } from './codec.js';
import type { StoreContext } from './context.js';
import { preparedQuery, preparedQueryFamily } from './prepared-query.js';
import type { WorkflowStepsTable } from './schema.js';
import type { StepOutcome, WorkflowStepRepository } from './store.js';

export function toStep(row: Selectable<WorkflowStepsTable>): WorkflowStep {
  return {
    runId: row.run_id,
    seq: Number(row.seq),
    name: row.name,
    kind: row.kind as StepKind,
    status: row.status as StepStatus,
    result: fromJson<unknown>(row.result, null),
    error: fromJson<unknown>(row.error, null),
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
  };
}

type StepRow = Insertable<WorkflowStepsTable>;

/** The columns a journal entry sets (`record`, `recordAll`). */
export const STEP_COLUMNS = [
  'run_id',
  'seq',
  'name',
  'kind',
  'status',
  'result',
  'error',
  'started_at',
  'finished_at',
  'duration_ms',
] as const satisfies readonly (keyof StepRow)[];

/** Journal statements run for every step of every run, compiled once. */
const stepQueries = {
  /** Insert unless (run_id, seq) exists; the shape is which columns the row sets (`start` sets fewer). */
  insert: preparedQueryFamily(
    (columns: readonly (keyof StepRow)[]) => columns.join(),
    (db, a: StepRow, columns) =>
      db
        .insertInto('workflow_steps')
        .values(Object.fromEntries(columns.map((c) => [c, a[c]])) as StepRow)
        .onConflict((oc) => oc.columns(['run_id', 'seq']).doNothing())
        .returningAll(),
  ),
  /** Several entries in one statement, each inserted unless its (run_id, seq) exists; shape: how many. */
  insertMany: preparedQueryFamily(
    (count: number) => String(count),
    (db, a: Readonly<Record<string, unknown>>, count) =>
      db
        .insertInto('workflow_steps')
        .values(
          Array.from(
            { length: count },
            (_, i) => Object.fromEntries(STEP_COLUMNS.map((c) => [c, a[`${c}_${i}`]])) as StepRow,
          ),
        )
        .onConflict((oc) => oc.columns(['run_id', 'seq']).doNothing())
        .returningAll(),
  ),
  get: preparedQuery((db, a: { runId: string; seq: number }) =>
    db.selectFrom('workflow_steps').selectAll().where('run_id', '=', a.runId).where('seq', '=', a.seq),
  ),
  finish: preparedQuery(
    (
      db,
      a: {
        runId: string;
        seq: number;
        status: string;
        result: string | null;
        error: string | null;
        finishedAt: string;
        durationMs: number;
      },
    ) =>
      db
        .updateTable('workflow_steps')
        .set({
          status: a.status,
          result: a.result,
          error: a.error,
          finished_at: a.finishedAt,
          duration_ms: a.durationMs,
        })
        .where('run_id', '=', a.runId)
        .where('seq', '=', a.seq),
  ),
  resolvePromise: preparedQuery(
    (db, a: { runId: string; key: string; value: string | null; resolvedAt: string }) =>
      db
        .insertInto('workflow_promises')
        .values({ run_id: a.runId, key: a.key, value: a.value, resolved_at: a.resolvedAt })
        .onConflict((oc) => oc.columns(['run_id', 'key']).doNothing())
        .returning('key'),
  ),
  getPromise: preparedQuery((db, a: { runId: string; key: string }) =>
    db
      .selectFrom('workflow_promises')
      .select(['value', 'resolved_at'])
      .where('run_id', '=', a.runId)
      .where('key', '=', a.key),
  ),
};

export class KyselyWorkflowStepRepository implements WorkflowStepRepository {
  /**
   * Both databases' folded writes carry them: PostgreSQL's statements (folded-journal.ts) and
   * SQLite's triggers (migration 0018-sqlite-held-journal).
   */
  readonly carriesHeldEntries = true;

  constructor(private readonly ctx: StoreContext) {}

  async list(runId: string): Promise<readonly WorkflowStep[]> {
    const rows = await this.ctx.db
      .selectFrom('workflow_steps')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('seq')
      .execute();
    return rows.map(toStep);
  }

  async record(step: WorkflowStep): Promise<WorkflowStep> {
    return this.insertOrGet(toRow(step));
  }

  async recordAll(steps: readonly WorkflowStep[]): Promise<readonly WorkflowStep[]> {
    if (steps.length <= 1) return Promise.all(steps.map((step) => this.record(step)));
    const args: Record<string, unknown> = {};
    steps.forEach((step, i) => {
      const row = toRow(step);
      for (const column of STEP_COLUMNS) args[`${column}_${i}`] = row[column];
    });
    const inserted = await stepQueries.insertMany.rows(this.ctx, steps.length, args);
    const bySeq = new Map(inserted.map((row) => [Number(row.seq), toStep(row)]));
    const stored: WorkflowStep[] = [];
    for (const step of steps) {
      const found = bySeq.get(step.seq) ?? (await this.stored(step.runId, step.seq));
      stored.push(found);
    }
    return stored;
  }

  async finish(runId: string, seq: number, outcome: StepOutcome): Promise<void> {
    await stepQueries.finish.affected(this.ctx, {
      runId,
      seq,
      status: outcome.status,
      result: toJson(outcome.result),
      error: toJson(outcome.error),
      finishedAt: outcome.finishedAt,
      durationMs: outcome.durationMs,
    });
  }

  async resolvePromise(runId: string, key: string, value: unknown, at: string): Promise<boolean> {
    const args = { runId, key, value: toJson(value), resolvedAt: at };
    return (await stepQueries.resolvePromise.first(this.ctx, args)) !== undefined;
  }

  async getPromise(runId: string, key: string): Promise<{ value: unknown; resolvedAt: string } | undefined> {
    const row = await stepQueries.getPromise.first(this.ctx, { runId, key });
    return row && { value: fromJson<unknown>(row.value, null), resolvedAt: row.resolved_at };
  }

  /** Inserts the journal entry unless (run_id, seq) exists; either way returns the stored entry. */
  private async insertOrGet(row: StepRow): Promise<WorkflowStep> {
    const columns = (Object.keys(row) as (keyof StepRow)[]).filter((c) => row[c] !== undefined);
    const inserted = await stepQueries.insert.first(this.ctx, columns, row);
    if (inserted) return toStep(inserted);
    return this.stored(row.run_id, row.seq);
  }

  /** The entry a conflicting insert met. */
  private async stored(runId: string, seq: number): Promise<WorkflowStep> {
    const stored = await stepQueries.get.first(this.ctx, { runId, seq });
    if (!stored) throw new Error(`workflow step ${runId}#${seq} vanished after a conflicting insert`);
    return toStep(stored);
  }
}

export function toRow(step: WorkflowStep): Required<Pick<StepRow, (typeof STEP_COLUMNS)[number]>> {
  return {
    run_id: step.runId,
    seq: step.seq,
    name: step.name,
    kind: step.kind,
    status: step.status,
    result: toJson(step.result),
    error: toJson(step.error),
    started_at: step.startedAt,
    finished_at: step.finishedAt,
    duration_ms: step.durationMs,
  };
}
