/**
 * The embedded engine's journal: one row per step (keyed by run and seq) and durable promises.
 * Both are write-once at the key: a replayed `start` or `record` returns what was stored first, and a promise
 * keeps its first resolution (`INSERT … ON CONFLICT DO NOTHING`).
 */
import type { Insertable, Selectable } from 'kysely';
import type { StepKind, StepStatus, WorkflowStep } from '../domain/workflow-run.js';
import { fromJson, toJson } from './codec.js';
import type { StoreContext } from './context.js';
import type { WorkflowStepsTable } from './schema.js';
import type { WorkflowStepRepository } from './store.js';

function toStep(row: Selectable<WorkflowStepsTable>): WorkflowStep {
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

export class KyselyWorkflowStepRepository implements WorkflowStepRepository {
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
    return this.insertOrGet({
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
    });
  }

  async start(step: {
    runId: string;
    seq: number;
    name: string;
    kind: StepKind;
    startedAt: string;
  }): Promise<WorkflowStep> {
    return this.insertOrGet({
      run_id: step.runId,
      seq: step.seq,
      name: step.name,
      kind: step.kind,
      status: 'started',
      started_at: step.startedAt,
    });
  }

  async finish(
    runId: string,
    seq: number,
    outcome: {
      status: 'completed' | 'failed';
      result?: unknown;
      error?: unknown;
      finishedAt: string;
      durationMs: number;
    },
  ): Promise<void> {
    await this.ctx.db
      .updateTable('workflow_steps')
      .set({
        status: outcome.status,
        result: toJson(outcome.result),
        error: toJson(outcome.error),
        finished_at: outcome.finishedAt,
        duration_ms: outcome.durationMs,
      })
      .where('run_id', '=', runId)
      .where('seq', '=', seq)
      .execute();
  }

  async resolvePromise(runId: string, key: string, value: unknown, at: string): Promise<boolean> {
    const inserted = await this.ctx.db
      .insertInto('workflow_promises')
      .values({ run_id: runId, key, value: toJson(value), resolved_at: at })
      .onConflict((oc) => oc.columns(['run_id', 'key']).doNothing())
      .returning('key')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  async getPromise(runId: string, key: string): Promise<{ value: unknown; resolvedAt: string } | undefined> {
    const row = await this.ctx.db
      .selectFrom('workflow_promises')
      .select(['value', 'resolved_at'])
      .where('run_id', '=', runId)
      .where('key', '=', key)
      .executeTakeFirst();
    return row && { value: fromJson<unknown>(row.value, null), resolvedAt: row.resolved_at };
  }

  /** Inserts the journal entry unless (run_id, seq) exists; either way returns the stored entry. */
  private async insertOrGet(row: Insertable<WorkflowStepsTable>): Promise<WorkflowStep> {
    const inserted = await this.ctx.db
      .insertInto('workflow_steps')
      .values(row)
      .onConflict((oc) => oc.columns(['run_id', 'seq']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return toStep(inserted);
    const stored = await this.ctx.db
      .selectFrom('workflow_steps')
      .selectAll()
      .where('run_id', '=', row.run_id)
      .where('seq', '=', row.seq)
      .executeTakeFirstOrThrow();
    return toStep(stored);
  }
}
