/**
 * Every write the embedded engine makes to a run row — create, claim, lease renewal, state changes,
 * release, end, cancel — and the one check of who owns a held run. State changes go through the
 * shared `RunRecords` (which tells the observer). Writes by the executing process are guarded by
 * its lease: when the guard fails, the handle stops with `lease-lost` and nothing more is written.
 *
 * Row invariant kept here: an active run always has a `wakeAt`; while it executes, `wakeAt <= now`,
 * so a crash is followed by a takeover as soon as the lease expires.
 */
import type { RunState } from '../../domain/operations.js';
import {
  isRunActive,
  ACTIVE_RUN_STATES,
  type WorkflowRun,
  type WorkflowStep,
} from '../../domain/workflow-run.js';
import type { WorkflowRunPatch, WorkflowRunRepository } from '../../store/store.js';
import type { StepRunState } from '../context.js';
import type { StartRunRequest } from '../engine.js';
import type { RunRecords } from '../run-records.js';
import type { RunOutcome } from '../run-outcome.js';
import type { ResolvedOptions } from './options.js';
import type { RunHandle } from './run-handle.js';

export type LeaseRows = Pick<WorkflowRunRepository, 'claimDue' | 'renewLease'>;

export class RunWriter {
  constructor(
    private readonly records: RunRecords,
    private readonly leases: LeaseRows,
    /** This process's lease owner id. */
    readonly ownerId: string,
    private readonly options: ResolvedOptions,
    /** Told after this process released a run to wait in the database until a later time. */
    private readonly onReleasedWake: () => void = () => {},
  ) {}

  /**
   * Creates the run (idempotent on its id); with `execute`, a new run is leased to this process at
   * once, so that it runs here without a claim (and without the look for the next wake-up after one).
   */
  create(request: StartRunRequest, execute: boolean): Promise<{ run: WorkflowRun; created: boolean }> {
    const { now, leaseMs } = this.options;
    const lease = execute ? { owner: this.ownerId, expiresAt: now() + leaseMs } : undefined;
    return this.records.create(request, 'embedded', lease);
  }

  /** Gives up the lease `create` took on a run that never started here (the engine closed meanwhile). */
  async unlease(runId: string): Promise<void> {
    await this.records.write(runId, UNLEASED, this.held(), null);
  }

  /** Leases up to `limit` due runs (and runs whose holder's lease expired) for this process. */
  claim(limit: number): Promise<readonly WorkflowRun[]> {
    const { now, leaseMs } = this.options;
    return this.leases.claimDue(this.ownerId, now(), leaseMs, limit);
  }

  /** Extends the handle's lease; a refusal means another process owns the run: the handle stops. */
  async renew(handle: RunHandle): Promise<boolean> {
    const until = this.options.now() + this.options.leaseMs;
    const renewed = await this.leases.renewLease(handle.runId, this.ownerId, until);
    if (renewed) handle.renewed(until);
    else handle.stop('lease-lost');
    return renewed;
  }

  /**
   * Before new work (a step, a wait) and after a wait: the row says `running` with this execution's
   * attempt and is due now (so a crash is followed by a prompt takeover). A first execution of a
   * `pending` run skips this write for its first third of a lease — short runs go from `pending`
   * straight to their end state, one write fewer (the row is due already, so takeover works as well).
   */
  async ensureRunning(handle: RunHandle): Promise<void> {
    if (!handle.needsRunningWrite) return;
    const lazy = handle.shownState === 'pending' && !handle.restarted;
    if (lazy && this.options.now() - handle.claimedAt < this.options.leaseMs / 3) return;
    await this.write(handle, { state: 'running', attempt: handle.attempt, wakeAt: this.options.now() });
  }

  /** The run waits in memory (lease kept) until `until` at the latest. */
  async markWaiting(handle: RunHandle, state: StepRunState, until: number): Promise<void> {
    await this.write(handle, { state, attempt: handle.attempt, wakeAt: until });
  }

  /** Releases the run to wait in the database: it is claimed again when `wakeAt` is due. */
  async suspend(handle: RunHandle, state: StepRunState, until: number): Promise<void> {
    await this.write(handle, { state, attempt: handle.attempt, wakeAt: until, ...UNLEASED });
    this.onReleasedWake();
  }

  /**
   * Gives the lease up (shutdown) so another process or a restart resumes the run at once. A run
   * whose row still reads `pending` (a first execution's lazy start) is marked `running` with it:
   * a takeover this early would otherwise take the journal for empty (RunExecutor.surelyUnstarted
   * relies on takeovers coming a lease later) and run the finished steps again.
   */
  async release(handle: RunHandle): Promise<void> {
    const started: WorkflowRunPatch =
      handle.shownState === 'pending' ? { state: 'running', attempt: handle.attempt } : {};
    await this.records.write(handle.runId, { ...started, ...UNLEASED }, this.held(), handle.shownState);
  }

  /** No definition for the run here (e.g. a replica of another version): leave it for a while. */
  async postpone(handle: RunHandle): Promise<void> {
    const wakeAt = this.options.now() + this.options.leaseMs;
    await this.records.write(handle.runId, { wakeAt, ...UNLEASED }, this.held(), handle.shownState);
    this.onReleasedWake();
  }

  /**
   * Ends the run with `steps`, its journal entries not written yet, in the same write (and the
   * observer's events: RunRecords.end). `ended` false when it was no longer ours or no longer
   * active (cancelled meanwhile); `journaled` false when an entry was found stored already, and
   * then nothing was ended.
   */
  async end(
    handle: RunHandle,
    outcome: RunOutcome,
    steps: readonly WorkflowStep[],
  ): Promise<{ ended: boolean; journaled: boolean }> {
    const options = { leaseOwner: this.ownerId, attempt: handle.attempt, known: handle.run, steps };
    const { run, journaled } = await this.records.end(handle.runId, outcome, options);
    return { ended: run !== undefined, journaled };
  }

  /** Cancels an active run from any process; the holder notices through its lease or a notification. */
  async cancel(runId: string, reason: string): Promise<boolean> {
    return (await this.records.cancel(runId, reason)) !== undefined;
  }

  /** Makes an active run due at once, so that whoever is free claims it (a resolution arrived). */
  async makeDue(runId: string): Promise<void> {
    await this.records.write(
      runId,
      { wakeAt: this.options.now() },
      { expectedStates: ACTIVE_RUN_STATES },
      null,
    );
  }

  /**
   * The one ownership check of a held run, after a wake-up that brought no resolution: cancelled
   * elsewhere, the handle is cancelled; ended, gone or leased by another process, it stops.
   */
  async confirmOwnership(handle: RunHandle): Promise<void> {
    const run = await this.records.get(handle.runId);
    if (run?.state === 'cancelled') handle.cancel();
    else if (!run || !isRunActive(run.state) || run.leaseOwner !== this.ownerId) handle.stop('lease-lost');
  }

  /** A state change by the holder; a lost lease stops the execution (thrown into workflow code). */
  private async write(handle: RunHandle, patch: WorkflowRunPatch & { state: RunState }): Promise<void> {
    const run = await this.records.write(handle.runId, patch, this.held(), handle.shownState);
    if (run === undefined) throw handle.interrupt('lease-lost');
    handle.wrote(patch.state);
  }

  private held(): { leaseOwner: string } {
    return { leaseOwner: this.ownerId };
  }
}

const UNLEASED = { leaseOwner: null, leaseExpiresAt: null } as const;
