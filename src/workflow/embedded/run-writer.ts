/**
 * Every write the embedded engine makes to a run row, and the `RunStateChanged` events that go with
 * terminal and `backing-off` states. Writes by the executing process are guarded by its lease: when
 * the guard fails, the handle stops with `lease-lost` and nothing more is written.
 *
 * Row invariant kept here: an active run always has a `wakeAt`; while it executes, `wakeAt <= now`,
 * so a crash is followed by a takeover as soon as the lease expires.
 */
import type { Logger } from '../../domain/logger.js';
import type { TenantEventDraft } from '../../domain/tenant-event.js';
import type { RunState } from '../../domain/tenant.js';
import { ACTIVE_RUN_STATES, type WorkflowRun } from '../../domain/workflow-run.js';
import type { WorkflowRunPatch } from '../../store/store.js';
import type { StepRunState } from '../context.js';
import type { SerializedError } from '../step-error.js';
import type { EmbeddedStore } from './options.js';
import { ExecutionStopped, type RunHandle } from './run-handle.js';

export type RunOutcome =
  | { readonly state: 'succeeded'; readonly output: unknown }
  | { readonly state: 'failed' | 'cancelled'; readonly error: SerializedError };

export class RunWriter {
  constructor(
    private readonly store: EmbeddedStore,
    private readonly ownerId: string,
    private readonly now: () => number,
    private readonly log: Logger,
    /** How long a first execution may leave its row `pending` (a third of the lease). */
    private readonly lazyMs: number,
  ) {}

  /**
   * Before new work (a step, a wait) and after a wait: the row says `running` with this execution's
   * attempt and is due now (so a crash is followed by a prompt takeover). A first execution of a
   * `pending` run skips this write for its first third of a lease — short runs go from `pending`
   * straight to their end state, one write fewer (the row is due already, so takeover works as well).
   */
  async ensureRunning(handle: RunHandle): Promise<void> {
    if (!handle.needsRunningWrite && handle.dbState === 'running') return;
    if (handle.dbState === 'pending' && !handle.restarted && this.now() - handle.claimedAt < this.lazyMs)
      return;
    await this.write(handle, { state: 'running', attempt: handle.attempt, wakeAt: this.now() });
    handle.needsRunningWrite = false;
    handle.dbState = 'running';
  }

  /** The run waits in memory (lease kept) until `until` at the latest. */
  async markWaiting(handle: RunHandle, state: StepRunState, until: number): Promise<void> {
    await this.write(handle, { state, attempt: handle.attempt, wakeAt: until });
    await this.afterWaitState(handle, state);
  }

  /** Releases the run to wait in the database: it is claimed again when `wakeAt` is due. */
  async suspend(handle: RunHandle, state: StepRunState, until: number): Promise<void> {
    await this.write(handle, {
      state,
      attempt: handle.attempt,
      wakeAt: until,
      leaseOwner: null,
      leaseExpiresAt: null,
    });
    await this.afterWaitState(handle, state);
  }

  /**
   * Gives the lease up (shutdown) so another process or a restart resumes the run at once. A run
   * whose row still reads `pending` (a first execution's lazy start) is marked `running` with it:
   * a takeover this early would otherwise take the journal for empty (RunExecutor.surelyUnstarted
   * relies on takeovers coming a lease later) and run the finished steps again.
   */
  async release(handle: RunHandle): Promise<void> {
    const started =
      handle.dbState === 'pending' ? { state: 'running' as const, attempt: handle.attempt } : {};
    await this.store.runs.update(
      handle.runId,
      { ...started, leaseOwner: null, leaseExpiresAt: null },
      { leaseOwner: this.ownerId },
    );
  }

  /** Ends the run; false when it was no longer ours or no longer active (cancelled meanwhile). */
  async finish(handle: RunHandle, outcome: RunOutcome): Promise<boolean> {
    const patch: WorkflowRunPatch = {
      state: outcome.state,
      attempt: handle.attempt,
      ...(outcome.state === 'succeeded' ? { output: outcome.output } : { error: outcome.error }),
      finishedAt: new Date(this.now()).toISOString(),
      wakeAt: null,
      leaseOwner: null,
      leaseExpiresAt: null,
    };
    const run = await this.store.runs.update(handle.runId, patch, {
      leaseOwner: this.ownerId,
      expectedStates: ACTIVE_RUN_STATES,
    });
    if (run) await this.event(run, outcome.state);
    return run !== undefined;
  }

  /** Cancels an active run from any process; the holder notices through its lease or a notification. */
  async cancel(runId: string, reason: string): Promise<WorkflowRun | undefined> {
    const patch: WorkflowRunPatch = {
      state: 'cancelled',
      error: { name: 'RunCancelledError', message: reason, details: null },
      finishedAt: new Date(this.now()).toISOString(),
      wakeAt: null,
      leaseOwner: null,
      leaseExpiresAt: null,
    };
    const run = await this.store.runs.update(runId, patch, { expectedStates: ACTIVE_RUN_STATES });
    if (run) await this.event(run, 'cancelled');
    return run;
  }

  private async afterWaitState(handle: RunHandle, state: StepRunState): Promise<void> {
    const previous = handle.dbState;
    handle.dbState = state;
    if (state === 'backing-off' && previous !== 'backing-off')
      await this.event({ ...handle.run, attempt: handle.attempt }, state);
  }

  private async write(handle: RunHandle, patch: WorkflowRunPatch): Promise<void> {
    const run = await this.store.runs.update(handle.runId, patch, { leaseOwner: this.ownerId });
    if (run === undefined) {
      handle.stop('lease-lost');
      throw new ExecutionStopped('lease-lost');
    }
  }

  /** Events are the stream subscribers read; losing one must not undo the state change. */
  private async event(run: WorkflowRun, state: RunState): Promise<void> {
    try {
      await this.store.appendEvent(run.tenantId, runStateEvent(run, state));
    } catch (error) {
      this.log.warn({ err: error, runId: run.runId, state }, 'could not append the RunStateChanged event');
    }
  }
}

export function runStateEvent(run: WorkflowRun, state: RunState): TenantEventDraft {
  return {
    type: 'RunStateChanged',
    actor: `workflow:${run.runId}`,
    reason: `Run${state
      .split('-')
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join('')}`,
    message: `${run.action} run ${run.runId} is ${state}`,
    fromPhase: null,
    toPhase: null,
    generation: run.generation,
    runId: run.runId,
    executionId: null,
    data: { runId: run.runId, action: run.action, state, attempt: run.attempt },
  };
}
