/**
 * Lessor's `WorkflowContext` over a Restate workflow context, so that the definitions run
 * unchanged. Restate journals every durable call; this adapter adds Lessor's semantics on top:
 *
 * - `step` is one `ctx.run`. The step's own failure is caught inside the closure and journaled as
 *   a value (`StepOutcome`), so Restate never retries a step: like the embedded engine, the error is
 *   handed to workflow code at once — `StepFailedError` (or `TerminalWorkflowError`), rebuilt from
 *   the journaled form by `errorFromJournal`, on first execution and replay alike. The retry policy
 *   stays in workflow code (docs/architecture.md, "Workflows and the retry policy").
 * - `sleep` is `ctx.sleep`, `awaitPromise` a durable promise raced against a durable timer
 *   (`orTimeout`); Restate journals the wake time, so a crash does not restart either.
 * - Around each wait, a `ctx.run` writes the run state to Lessor's table (`waiting`/`backing-off`,
 *   then `running`) and the wait's journal entry. When such a guarded write finds the run no longer
 *   active (cancelled in Lessor's table), the call throws `RunCancelledError`, as does every later
 *   call; so does Restate's own cancellation (`CancelledError`).
 * - With `deferStateWrites` (runs submitted since it exists, see `RunPayload.layout`), a write that
 *   only moves the run back to `running` — at the start of the run, and at the end of each wait —
 *   gets no `ctx.run` of its own: it is owed, and made first inside the closure of the next
 *   `ctx.run` (or, when none follows, by the handler before its final write). Each `ctx.run` is a
 *   round trip through Restate's log, so that is one fewer per run and per wait. Journaled with the
 *   entry that made it, the write is never repeated by a replay; the closure may run again after a
 *   crash, and the write is idempotent (run-recorder.ts). An owed write that finds the run no longer
 *   active makes that next call throw `RunCancelledError` without running its step.
 * - With `enterDeclaredWaits` (layout 3), a step that declares the wait following it
 *   (`StepOptions.waitFollows`) moves the run to the wait's state inside its own closure, after the
 *   step's work, and the wait's start (when, and whether the run was still active) is journaled with
 *   the step's outcome. The wait then makes no `ctx.run` before it: one round trip fewer per
 *   declared wait. Its `started` audit entry is written by the wait itself, outside the journal:
 *   entries are write-once per seq, so a replay repeats that write harmlessly, and a declared wait
 *   the code does not make leaves no entry at a seq that another call takes. Such a next durable
 *   call owes the write back to `running` instead.
 * - With `showWaitsLate` (layout 5), that step no longer moves the run to the wait's state: the wait
 *   shows on the run row — its state and its `started` entry — only once it has lasted
 *   `SHOW_WAIT_AFTER_MS` (late-wait.ts). A wait that ends sooner owes one completed journal entry to
 *   the next durable call and no run-state write at all; a shown one owes the write back to
 *   `running`, as before. A run cancelled in Lessor's table during an unshown wait is then noticed at
 *   its next guarded write, or by Restate's own cancellation, which `cancel` sends too — as it is
 *   between two steps.
 * - With `holdStepEntries` (layout 6), a step's closure writes no audit entry: its journaled
 *   outcome carries the step's timing, and after the `ctx.run` — on a first execution and a replay
 *   alike — the entry is built from it and held (held-audit.ts) until a write the run makes anyway
 *   carries it: a wait's showing (its `started` entry, written before the wait's state so that a
 *   reader who sees the state finds the entries), an unshown wait's completed entry, or the run's
 *   end. A replay holds again every entry of the steps it replays; they are write-once per seq and
 *   the same whoever builds them, so what an ended attempt did not write is written then.
 * - `begunBefore` answers from the run's layout number: a change of the definitions' durable calls
 *   comes with a new layout (`JournalChange.restateLayout`), and a run submitted with an older one
 *   makes the former calls.
 * - Any other error the SDK throws (suspension, lost connection, journal mismatch) ends this
 *   attempt: it is kept in `fatal`, every later call rethrows it, and the handler rethrows it to
 *   Restate, which retries the invocation — it never concludes the run.
 * Durable calls are numbered as in the embedded engine (`seq` from 1), for the audit journal.
 */
import './promise-polyfill.js';
import {
  CancelledError,
  TerminalError,
  TimeoutError,
  type WorkflowContext as RestateWorkflowCtx,
} from '@restatedev/restate-sdk';
import type { Logger } from '../../domain/logger.js';
import type { Context, TraceContext } from '../../domain/tracing.js';
import type { WorkflowStep } from '../../domain/workflow-run.js';
import {
  RunCancelledError,
  type FollowingWait,
  type JournalChange,
  type PromiseOutcome,
  type StepOptions,
  type StepRunState,
  type WorkflowContext,
} from '../context.js';
import { outcomeValue, stepEntry, type DurableCall, type StepOutcome, type Timing } from '../journal.js';
import { errorFromJournal, readSerializedError } from '../step-error.js';
import { executeStep, timing } from '../step-runner.js';
import { HeldAuditEntries } from './held-audit.js';
import { LateWaitShow, type WaitShowing } from './late-wait.js';
import type { RunRecorder } from './run-recorder.js';
import type { StepTracker } from './step-tracker.js';

export interface ContextServices {
  readonly recorder: RunRecorder;
  readonly steps: StepTracker;
  /** True once the engine is closing: no new durable call starts (the attempt ends, Restate retries later). */
  readonly closing: () => boolean;
}

/** Ends an attempt because this process is shutting down; Restate retries the invocation elsewhere or later. */
export class EngineClosingError extends Error {
  constructor() {
    super('the restate engine of this process is closing');
    this.name = 'EngineClosingError';
  }
}

interface WaitStart {
  readonly active: boolean;
  readonly startedMs: number;
  /** A declared wait not shown on the run row yet (layout 5, late-wait.ts). */
  readonly late?: LateWaitShow;
}

/** A wait entered by the step before it (journaled with that step's outcome): its call and start. */
interface EnteredWait extends WaitStart {
  readonly seq: number;
  readonly kind: 'sleep' | 'promise';
  readonly name: string;
}

/**
 * What a step's `ctx.run` journals: its outcome (with the wait it entered, if it declared one, and
 * from layout 6 its timing, from which its audit entry is built), or that an owed write found the
 * run inactive.
 */
type JournaledStep =
  (StepOutcome & { readonly wait?: EnteredWait; readonly timing?: Timing }) | { readonly inactive: true };

/** How the context writes the run's state; from the run's journal layout (lessor-run-service.ts). */
export interface JournalLayout {
  /** The layout itself (1: submitted without one): tells a run begun before a `JournalChange`. */
  readonly number: number;
  /** Writes back to `running` ride on the next `ctx.run` (layout 2 and later). */
  readonly deferStateWrites: boolean;
  /** A step enters the wait it declares inside its own `ctx.run` (layout 3 and later). */
  readonly enterDeclaredWaits: boolean;
  /** A declared wait shows on the run row only once it lasts (layout 5 and later, late-wait.ts). */
  readonly showWaitsLate: boolean;
  /**
   * A step's audit entry is built from its journaled outcome and timing after its `ctx.run`, and
   * held until a later write carries it (layout 6 and later, held-audit.ts).
   */
  readonly holdStepEntries: boolean;
}

const FIRST_LAYOUT: JournalLayout = {
  number: 1,
  deferStateWrites: false,
  enterDeclaredWaits: false,
  showWaitsLate: false,
  holdStepEntries: false,
};

/** A guarded write of the run's state, owed to Lessor's table; false when the run is no longer active. */
type OwedWrite = () => Promise<boolean>;

export class RestateDurableContext implements WorkflowContext {
  private seq = 0;
  private cancelled = false;
  /** The non-terminal SDK error that ended this attempt, if any (see the file comment). */
  fatal: Error | null = null;
  /** The state write owed to Lessor's table (see the file comment); only with `deferStateWrites`. */
  private owed: OwedWrite | null = null;
  /** The wait the last step entered, until the next durable call (see the file comment). */
  private entered: EnteredWait | null = null;
  /** Finished steps' audit entries not written yet (layout 6, held-audit.ts). */
  private readonly held: HeldAuditEntries;

  constructor(
    private readonly rctx: RestateWorkflowCtx,
    readonly runId: string,
    private readonly services: ContextServices,
    readonly log: Logger,
    /** The run span's context: a step's span is its child however the SDK schedules the closure. */
    private readonly trace?: Context,
    /** How this run's journal is laid out (see the file comment). */
    private readonly layout: JournalLayout = FIRST_LAYOUT,
  ) {
    if (layout.deferStateWrites) this.owed = () => services.recorder.running(runId);
    const recordSteps = (entries: readonly WorkflowStep[]) => services.recorder.recordSteps(entries);
    this.held = new HeldAuditEntries(recordSteps, rctx.request().attemptCompletedSignal);
  }

  /**
   * The audit entries still held, for the handler's final write (`RunRecorder.finish`), which
   * writes them whatever its guard decides.
   */
  takeHeldEntries(): readonly WorkflowStep[] {
    return this.held.take();
  }

  /**
   * Told by the layout the run was submitted with: Restate cannot read a journal ahead of a call,
   * and a run keeps its layout across replays (lessor-run-service.ts).
   */
  begunBefore(change: JournalChange): boolean {
    return this.layout.number < change.restateLayout;
  }

  /**
   * Makes the owed write now, outside any `ctx.run`: for the handler, before its final write of a
   * run whose last durable call was a wait. False when the run is no longer active.
   */
  async settleOwed(): Promise<boolean> {
    const owed = this.owed;
    this.owed = null;
    return owed === null ? true : owed();
  }

  async step<T>(
    name: string,
    fn: (trace: TraceContext) => Promise<T>,
    options: StepOptions<T> = {},
  ): Promise<T> {
    const call = this.next(name, 'step');
    const follows = this.layout.enterDeclaredWaits ? options.waitFollows : undefined;
    const exit = this.services.steps.enter(this.rctx.request().attemptCompletedSignal);
    let outcome: JournaledStep;
    /** The entry of the step as it ran here, until its outcome is journaled (layout 6). */
    let ranHere: WorkflowStep | undefined;
    /** Restate gave up on the `ctx.run` before its closure finished (see the catch below). */
    let abandoned = false;
    try {
      outcome = await this.journaled(name, async (): Promise<JournaledStep> => {
        if (!(await this.payOwed())) return { inactive: true };
        const declared = follows as ((value: unknown) => FollowingWait | null) | undefined;
        const { journaled, entry } = await this.execute(call, fn, declared);
        if (!this.layout.holdStepEntries) return journaled;
        // Nothing will carry an entry the step finished after its `ctx.run` was given up on.
        if (abandoned) await this.services.recorder.recordSteps([entry]);
        else ranHere = entry;
        return journaled;
      });
    } catch (error) {
      // Restate journaled no outcome (it cancelled the run, or the attempt ended), but the step ran
      // or still runs: the audit keeps it, as when the closure wrote the entry itself (a replay
      // that runs the step again finds this one stored: write-once). One still running when Restate
      // gave up writes its own entry as it finishes, for no later write of the run carries it.
      if (ranHere) this.held.hold(ranHere);
      else abandoned = true;
      throw error;
    } finally {
      exit();
    }
    if ('inactive' in outcome) this.stopCancelled();
    // Built from the journal on a first execution and a replay alike (held-audit.ts).
    if (outcome.timing) this.held.hold(stepEntry(this.runId, call, outcome, outcome.timing));
    if (outcome.wait) this.entered = outcome.wait;
    if (outcome.ok) return outcome.value as T;
    // Journals of runs started before errors had a kind are read as such (readSerializedError).
    throw errorFromJournal(this.runId, name, readSerializedError(outcome.error));
  }

  async sleep(name: string, ms: number, options: { state?: StepRunState } = {}): Promise<void> {
    const call = this.next(name, 'sleep');
    const duration = Math.max(0, ms);
    const start = await this.enterWait(call, options.state ?? 'backing-off', duration);
    await this.during(start, this.durable(this.rctx.sleep(duration, name)));
    await this.leaveWait(call, start, { wakeAt: start.startedMs + duration });
  }

  async awaitPromise<T>(key: string, options: { timeoutMs: number }): Promise<PromiseOutcome<T>> {
    const call = this.next(key, 'promise');
    const timeoutMs = Math.max(0, options.timeoutMs);
    const start = await this.enterWait(call, 'waiting', timeoutMs);
    const outcome = await this.during(start, this.race<T>(key, timeoutMs));
    await this.leaveWait(call, start, outcomeValue(outcome));
    this.log.debug({ promise: key, seq: call.seq, resolved: outcome.resolved }, 'promise settled');
    return outcome;
  }

  /**
   * The step closure: the step's own failure is returned, so Restate journals the outcome instead
   * of retrying; a failure on Lessor's store is thrown (not journaled: Restate retries the step).
   */
  private async execute(
    call: DurableCall,
    fn: (trace: TraceContext) => Promise<unknown>,
    follows?: (value: unknown) => FollowingWait | null,
  ): Promise<{ readonly journaled: JournaledStep; readonly entry: WorkflowStep }> {
    const options = { now: Date.now, log: this.log, trace: this.trace };
    const { outcome: executed, entry, timing: timed } = await executeStep(this.runId, call, fn, options);
    // Layout 6: the entry is not written here but built from the journaled outcome and held.
    const hold = this.layout.holdStepEntries;
    const outcome: JournaledStep = hold ? { ...executed, timing: timed } : executed;
    const declared = executed.ok && follows ? follows(executed.value) : null;
    if (!declared) {
      if (!hold) await this.services.recorder.recordStep(entry);
      return { journaled: outcome, entry };
    }
    const startedMs = Date.now();
    const name = declared.kind === 'promise' ? declared.key : declared.name;
    const wait = { seq: call.seq + 1, kind: declared.kind, name, startedMs };
    if (this.layout.showWaitsLate) {
      // The wait shows on the run row only once it lasts (enterWait).
      if (!hold) await this.services.recorder.recordStep(entry);
      return { journaled: { ...outcome, wait: { ...wait, active: true } }, entry };
    }
    // The declared wait is the next durable call: the run enters its state here, after the step.
    const state = declared.kind === 'promise' ? 'waiting' : (declared.state ?? 'backing-off');
    const active = await this.services.recorder.stepThenWait(entry, state);
    return { journaled: { ...outcome, wait: { ...wait, active } }, entry };
  }

  private async race<T>(key: string, timeoutMs: number): Promise<PromiseOutcome<T>> {
    try {
      const value = await this.rctx.promise<T>(key).get().orTimeout(timeoutMs);
      return { resolved: true, value: (value ?? null) as T };
    } catch (error) {
      if (error instanceof TimeoutError) return { resolved: false };
      throw this.translate(error);
    }
  }

  private async enterWait(call: DurableCall, state: StepRunState, ms: number): Promise<WaitStart> {
    const entered = this.entered;
    this.entered = null;
    if (entered) {
      // Entered by the step before, which declared this very call (`next` checked it).
      if (!entered.active) this.stopCancelled();
      const until = entered.startedMs + ms;
      const startedAt = new Date(entered.startedMs).toISOString();
      if (this.layout.showWaitsLate) {
        const show = () =>
          this.carryingHeld((held) =>
            this.services.recorder.waiting(this.runId, call, state, until, startedAt, held),
          );
        const attempt = this.rctx.request().attemptCompletedSignal;
        return { ...entered, late: new LateWaitShow(entered.startedMs, Date.now(), show, attempt) };
      }
      try {
        await this.services.recorder.waitStarted(this.runId, call, until, startedAt);
      } catch (error) {
        // Lessor's store failed: this attempt ends, and Restate retries the invocation.
        throw (this.fatal ??= error instanceof Error ? error : new Error(String(error)));
      }
      return entered;
    }
    const start = await this.journaled(`lessor:${state}#${call.seq}`, async (): Promise<WaitStart> => {
      if (!(await this.payOwed())) return { active: false, startedMs: Date.now() };
      const startedMs = Date.now();
      const startedAt = new Date(startedMs).toISOString();
      const active = await this.carryingHeld((held) =>
        this.services.recorder.waiting(this.runId, call, state, startedMs + ms, startedAt, held),
      );
      return { active, startedMs };
    });
    if (!start.active) this.stopCancelled();
    return start;
  }

  /** The wait itself; an attempt that fails in it shows the wait no more. */
  private async during<T>(start: WaitStart, wait: Promise<T>): Promise<T> {
    try {
      return await wait;
    } catch (error) {
      start.late?.cancel();
      throw error;
    }
  }

  private async leaveWait(call: DurableCall, start: WaitStart, result: unknown): Promise<void> {
    const resumed = (endedMs: number) => {
      const { finishedAt, durationMs } = timing(start.startedMs, endedMs);
      return this.services.recorder.resumed(this.runId, call, { result, finishedAt, durationMs });
    };
    if (start.late) {
      const endedMs = Date.now();
      const showing = await this.settleShowing(start.late);
      if (showing === 'inactive') this.stopCancelled();
      if (showing === 'hidden') {
        // Never shown: the run stays `running`; the next durable call journals the wait's entry.
        const { startedAt, finishedAt, durationMs } = timing(start.startedMs, endedMs);
        const end = { result, finishedAt, durationMs };
        this.owed = () =>
          this.carryingHeld((held) =>
            this.services.recorder.unshownWaitEnded(this.runId, call, startedAt, end, held),
          );
        return;
      }
    }
    if (this.layout.deferStateWrites) {
      // Woken now; recorded with the next durable call (the wait's entry keeps this end time).
      const endedMs = Date.now();
      this.owed = () => resumed(endedMs);
      return;
    }
    const active = await this.durable(this.rctx.run(`lessor:running#${call.seq}`, () => resumed(Date.now())));
    if (!active) this.stopCancelled();
  }

  /** How the late showing of a wait ended; a store failure ends this attempt (Restate retries). */
  private async settleShowing(late: LateWaitShow): Promise<WaitShowing> {
    try {
      return await late.settle();
    } catch (error) {
      throw (this.fatal ??= error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * A write that carries the held audit entries (held-audit.ts), whatever it then finds the run's
   * state to be; they are held again when it fails, for a later write or the run's end.
   */
  private async carryingHeld<T>(write: (held: readonly WorkflowStep[]) => Promise<T>): Promise<T> {
    const held = this.held.take();
    try {
      return await write(held);
    } catch (error) {
      this.held.restore(held);
      throw error;
    }
  }

  /** One `ctx.run`; the owed write, made inside `fn`, is settled once the entry is journaled. */
  private async journaled<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const value = await this.durable(this.rctx.run(name, fn));
    this.owed = null;
    return value;
  }

  /** Makes the owed write (inside a `ctx.run` closure, which may run more than once). */
  private payOwed(): Promise<boolean> {
    return this.owed === null ? Promise.resolve(true) : this.owed();
  }

  private next(name: string, kind: DurableCall['kind']): DurableCall {
    if (this.fatal) throw this.fatal;
    if (this.cancelled) throw new RunCancelledError(this.runId);
    if (this.services.closing()) throw (this.fatal = new EngineClosingError());
    this.seq += 1;
    const call: DurableCall = { seq: this.seq, name, kind };
    const entered = this.entered;
    if (entered && (entered.seq !== call.seq || entered.kind !== kind || entered.name !== name)) {
      // Not the wait the step declared: the run, shown waiting, is owed its write back to `running`.
      this.entered = null;
      if (!entered.active) this.stopCancelled();
      this.owed = () => this.services.recorder.running(this.runId);
    }
    return call;
  }

  private async durable<T>(promise: Promise<T>): Promise<T> {
    try {
      return await promise;
    } catch (error) {
      throw this.translate(error);
    }
  }

  private translate(error: unknown): Error {
    if (error instanceof CancelledError) {
      this.cancelled = true;
      return new RunCancelledError(this.runId);
    }
    if (error instanceof TerminalError) return error;
    this.fatal ??= error instanceof Error ? error : new Error(String(error));
    return this.fatal;
  }

  private stopCancelled(): never {
    this.cancelled = true;
    throw new RunCancelledError(this.runId);
  }
}
