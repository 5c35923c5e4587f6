/**
 * Every write the `restate` engine makes to Lessor's tables — the run row (`workflow_runs`, the
 * source of truth the API reads, through the shared `RunRecords`) and the step journal kept as an
 * audit trail (`workflow_steps`) — with the same shapes as the embedded engine.
 *
 * Each write is idempotent, because Restate runs it at least once (inside a `ctx.run`, or a step's
 * closure): run-row updates are guarded by the active states, so a cancelled or finished run is
 * never brought back, and journal entries are write-once per (runId, seq). Entering a state is
 * guarded by the other active states, so the observer hears of it once even when Restate runs the
 * write again (a crash before the write was journaled): the run then already shows that state. A
 * guard that fails is reported (`false`/`undefined`), never thrown: the workflow then stops as
 * cancelled.
 */
import type { Logger } from '../../domain/logger.js';
import type { RunState } from '../../domain/operations.js';
import { ACTIVE_RUN_STATES, type WorkflowRun, type WorkflowStep } from '../../domain/workflow-run.js';
import type { WorkflowStepRepository } from '../../store/store.js';
import type { StepRunState } from '../context.js';
import { stepEntry, waitStartedEntry, type DurableCall } from '../journal.js';
import type { RunRecords } from '../run-records.js';
import type { RunOutcome } from '../run-outcome.js';

/** How a wait (sleep or promise) ended, for its journal entry. */
export interface WaitEnd {
  readonly result: unknown;
  readonly finishedAt: string;
  readonly durationMs: number;
}

/** How many runs' last written rows `RunRecorder` keeps (see `written`). */
const REMEMBERED_RUNS = 1000;

export class RunRecorder {
  /**
   * The row this process last wrote (or found) for each run it executes, most recent last: the
   * run it ends, as far as `RunRecords.end` needs it (`known`: the workflow, tags and attempt the
   * end's events are built from; a Restate run keeps attempt 1). A run whose invocation went on in
   * another process stays here until pushed out; one not here (a replay elsewhere) ends without.
   */
  private readonly written = new Map<string, WorkflowRun>();

  constructor(
    private readonly records: RunRecords,
    private readonly steps: WorkflowStepRepository,
    private readonly log: Logger,
  ) {}

  /** The run executes (first start, or back from a wait). False when it is no longer active. */
  running(runId: string): Promise<boolean> {
    return this.enter(runId, 'running');
  }

  /**
   * The run sleeps or waits until `until`: the wait's `started` journal entry, with the step entries
   * `held` before it (held-audit.ts) in one insert, then the run's state — so a reader that sees the
   * state finds the entries. False when the run is no longer active (the wait did begin: its entry
   * stands).
   */
  async waiting(
    runId: string,
    call: DurableCall,
    state: StepRunState,
    until: number,
    startedAt: string,
    held: readonly WorkflowStep[] = [],
  ): Promise<boolean> {
    await this.journal(held, waitStartedEntry(runId, call, until, startedAt));
    return this.enter(runId, state);
  }

  /**
   * A finished step that enters the wait following it (restate-context.ts, layout 3): the step's
   * journal entry, then the run's state for the wait. False when the run is no longer active.
   */
  async stepThenWait(entry: WorkflowStep, state: StepRunState): Promise<boolean> {
    await this.recordStep(entry);
    return this.enter(entry.runId, state);
  }

  /** The `started` journal entry of a wait a step entered (write-once: a repeat changes nothing). */
  async waitStarted(runId: string, call: DurableCall, until: number, startedAt: string): Promise<void> {
    await this.steps.record(waitStartedEntry(runId, call, until, startedAt));
  }

  /** The wait ended: the run is `running` again and the wait's entry is completed. */
  async resumed(runId: string, call: DurableCall, end: WaitEnd): Promise<boolean> {
    if (!(await this.running(runId))) return false;
    await this.steps.finish(runId, call.seq, { status: 'completed', ...end });
    return true;
  }

  /**
   * A wait that was not shown (late-wait.ts) ended: its completed journal entry, the run left
   * `running`. When an earlier attempt did show it (its `started` entry is stored: the run shows the
   * wait's state), the run goes back to `running` and the entry is finished, as by `resumed`.
   * The step entries `held` before the wait (held-audit.ts) go in the same insert. False when the
   * run is no longer active.
   */
  async unshownWaitEnded(
    runId: string,
    call: DurableCall,
    startedAt: string,
    end: WaitEnd,
    held: readonly WorkflowStep[] = [],
  ): Promise<boolean> {
    const { result, finishedAt, durationMs } = end;
    const entry = stepEntry(runId, call, { ok: true, value: result }, { startedAt, finishedAt, durationMs });
    const stored = await this.journal(held, entry);
    return stored.status === 'started' ? this.resumed(runId, call, end) : true;
  }

  /** Journals a finished step for the audit trail; best effort (Restate's journal is authoritative). */
  recordStep(entry: WorkflowStep): Promise<void> {
    return this.recordSteps([entry]);
  }

  /** Journals finished steps for the audit trail, in one insert; best effort, as `recordStep`. */
  async recordSteps(entries: readonly WorkflowStep[]): Promise<void> {
    if (entries.length === 0) return;
    try {
      await this.steps.recordAll(entries);
    } catch (error) {
      const first = entries[0]!;
      this.log.warn(
        { err: error, runId: first.runId, step: first.name, seq: first.seq, entries: entries.length },
        'could not record the step in the audit journal',
      );
    }
  }

  /**
   * Ends the run, with the step entries still `held` (held-audit.ts) in the same write
   * (`RunRecords.end`); false when it was no longer active (cancelled meanwhile: the outcome is
   * dropped). The entries are written whatever the end's guard decides — the steps ran — and an
   * entry found stored (an earlier attempt wrote it before the replay that held it again) sends
   * them to an insert of their own, the end after it.
   */
  async finish(runId: string, outcome: RunOutcome, held: readonly WorkflowStep[] = []): Promise<boolean> {
    const known = this.written.get(runId);
    this.written.delete(runId);
    const options = known ? { known } : {};
    const end = await this.records.end(runId, outcome, { ...options, steps: held });
    if (end.journaled) {
      // The end inserts no entry when its guard refuses it (on both databases).
      if (end.run === undefined) await this.recordSteps(held);
      return end.run !== undefined;
    }
    await this.recordSteps(held);
    return (await this.records.end(runId, outcome, options)).run !== undefined;
  }

  /** Marks an active run cancelled; undefined when it had finished already (or does not exist). */
  cancel(runId: string, reason: string): Promise<WorkflowRun | undefined> {
    return this.records.cancel(runId, reason);
  }

  /** `entry` with the entries `held` before it, in one insert; the stored `entry` (write-once). */
  private async journal(held: readonly WorkflowStep[], entry: WorkflowStep): Promise<WorkflowStep> {
    if (held.length === 0) return this.steps.record(entry);
    const stored = await this.steps.recordAll([...held, entry]);
    return stored[stored.length - 1]!;
  }

  /** Moves an active run to `state`; true also when it shows `state` already (a repeated write). */
  private async enter(runId: string, state: RunState): Promise<boolean> {
    const others = ACTIVE_RUN_STATES.filter((active) => active !== state);
    const moved = await this.records.write(runId, { state, wakeAt: null }, { expectedStates: others }, null);
    const run = moved ?? (await this.records.get(runId));
    if (run?.state !== state) return false;
    this.remember(run);
    return true;
  }

  private remember(run: WorkflowRun): void {
    this.written.delete(run.runId);
    this.written.set(run.runId, run);
    if (this.written.size > REMEMBERED_RUNS) this.written.delete(this.written.keys().next().value!);
  }
}
