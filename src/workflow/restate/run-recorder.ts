/**
 * Every write the `restate` engine makes to Lessor's tables — the run row (`workflow_runs`, the
 * source of truth the API reads), the step journal kept as an audit trail (`workflow_steps`) and
 * the `RunStateChanged` events — with the same shapes as the embedded engine.
 *
 * Each write is idempotent, because Restate runs it at least once (inside a `ctx.run`, or a step's
 * closure): run-row updates are guarded by the active states, so a cancelled or finished run is
 * never brought back, and journal entries are write-once per (runId, seq). A guard that fails is
 * reported (`false`/`undefined`), never thrown: the workflow then stops as cancelled.
 */
import type { Logger } from '../../domain/logger.js';
import type { TenantEventDraft } from '../../domain/tenant-event.js';
import type { RunState } from '../../domain/tenant.js';
import { ACTIVE_RUN_STATES, type WorkflowRun, type WorkflowStep } from '../../domain/workflow-run.js';
import type { WorkflowRunPatch } from '../../store/store.js';
import type { StepRunState } from '../context.js';
import { waitStartedEntry, type DurableCall } from '../journal.js';
import type { SerializedError } from '../step-error.js';
import type { RestateStore } from './options.js';

export type RunOutcome =
  | { readonly state: 'succeeded'; readonly output: unknown }
  | { readonly state: 'failed' | 'cancelled'; readonly error: SerializedError };

/** How a wait (sleep or promise) ended, for its journal entry. */
export interface WaitEnd {
  readonly result: unknown;
  readonly finishedAt: string;
  readonly durationMs: number;
}

export class RunRecorder {
  constructor(
    private readonly store: RestateStore,
    private readonly log: Logger,
  ) {}

  /** The run executes (first start, or back from a wait). False when it is no longer active. */
  async running(runId: string): Promise<boolean> {
    return (await this.update(runId, { state: 'running', wakeAt: null })) !== undefined;
  }

  /**
   * The run sleeps or waits until `until`: its state, and the wait's `started` journal entry. Entering
   * `backing-off` appends an event — once, even when Restate runs this write again (a crash before
   * the write was journaled), because the run then already shows `backing-off`.
   */
  async waiting(
    runId: string,
    call: DurableCall,
    state: StepRunState,
    until: number,
    startedAt: string,
  ): Promise<boolean> {
    const previous = state === 'backing-off' ? (await this.store.runs.get(runId))?.state : undefined;
    const run = await this.update(runId, { state, wakeAt: null });
    if (run === undefined) return false;
    await this.store.steps.record(waitStartedEntry(runId, call, until, startedAt));
    if (state === 'backing-off' && previous !== 'backing-off') await this.event(run, state);
    return true;
  }

  /** The wait ended: the run is `running` again and the wait's entry is completed. */
  async resumed(runId: string, call: DurableCall, end: WaitEnd): Promise<boolean> {
    if (!(await this.running(runId))) return false;
    await this.store.steps.finish(runId, call.seq, { status: 'completed', ...end });
    return true;
  }

  /** Journals a finished step for the audit trail; best effort (Restate's journal is authoritative). */
  async recordStep(entry: WorkflowStep): Promise<void> {
    try {
      await this.store.steps.record(entry);
    } catch (error) {
      this.log.warn(
        { err: error, runId: entry.runId, step: entry.name, seq: entry.seq },
        'could not record the step in the audit journal',
      );
    }
  }

  /** Ends the run; false when it was no longer active (cancelled meanwhile: the outcome is dropped). */
  async finish(runId: string, outcome: RunOutcome): Promise<boolean> {
    const patch: WorkflowRunPatch = {
      state: outcome.state,
      ...(outcome.state === 'succeeded' ? { output: outcome.output } : { error: outcome.error }),
      finishedAt: new Date().toISOString(),
      wakeAt: null,
    };
    const run = await this.update(runId, patch);
    if (run) await this.event(run, outcome.state);
    return run !== undefined;
  }

  /** Marks an active run cancelled; undefined when it had finished already (or does not exist). */
  async cancel(runId: string, reason: string): Promise<WorkflowRun | undefined> {
    const patch: WorkflowRunPatch = {
      state: 'cancelled',
      error: { name: 'RunCancelledError', message: reason, details: null },
      finishedAt: new Date().toISOString(),
      wakeAt: null,
    };
    const run = await this.update(runId, patch);
    if (run) await this.event(run, 'cancelled');
    return run;
  }

  private update(runId: string, patch: WorkflowRunPatch): Promise<WorkflowRun | undefined> {
    return this.store.runs.update(runId, patch, { expectedStates: ACTIVE_RUN_STATES });
  }

  /** Events are what subscribers read; losing one must not undo (or repeat) the state change. */
  private async event(run: WorkflowRun, state: RunState): Promise<void> {
    try {
      await this.store.appendEvent(run.tenantId, runStateEvent(run, state));
    } catch (error) {
      this.log.warn({ err: error, runId: run.runId, state }, 'could not append the RunStateChanged event');
    }
  }
}

/** The `RunStateChanged` event, shaped as the embedded engine writes it. */
export function runStateEvent(run: WorkflowRun, state: RunState): TenantEventDraft {
  const reason = `Run${state
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('')}`;
  return {
    type: 'RunStateChanged',
    actor: `workflow:${run.runId}`,
    reason,
    message: `${run.action} run ${run.runId} is ${state}`,
    fromPhase: null,
    toPhase: null,
    generation: run.generation,
    runId: run.runId,
    executionId: null,
    data: { runId: run.runId, action: run.action, state, attempt: run.attempt },
  };
}
