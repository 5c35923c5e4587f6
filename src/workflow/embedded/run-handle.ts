/**
 * The in-memory side of one run held (leased) by this process: what its row shows as far as this
 * execution wrote it, how the execution ends if it does not simply finish (its termination), and
 * the one wait its coroutine may be in. All methods are synchronous; the engine, the writer and
 * the durable context share the handle, and change it only through its methods.
 */
import type { RunState } from '../../domain/operations.js';
import type { WorkflowRun, WorkflowStep } from '../../domain/workflow-run.js';
import { RunCancelledError } from '../context.js';
import type { Settled } from '../run-outcome.js';

/**
 * Why a coroutine unwinds without finishing its run: `suspended` (released to wait in the database),
 * `lease-lost` (another process owns the run now), `closing` (engine shutdown), `store-error` (a
 * write failed; the lease is left to expire so the run is retried later).
 */
export type StopReason = 'suspended' | 'lease-lost' | 'closing' | 'store-error';

/**
 * How the execution ends when not by the definition's own result. A later termination replaces an
 * earlier one only when it ranks higher (as listed): the first stop reason stays; a failure the
 * engine detected (non-determinism) beats a stop; a cancellation — the row says so already — beats all.
 */
export type Termination =
  | { readonly kind: 'none' }
  | { readonly kind: 'stopped'; readonly reason: StopReason }
  | { readonly kind: 'failed'; readonly error: Error }
  | { readonly kind: 'cancelled' };

const RANK: Readonly<Record<Termination['kind'], number>> = { none: 0, stopped: 1, failed: 2, cancelled: 3 };

/** Internal signal that unwinds a coroutine; never journaled, never the run's outcome. */
export class ExecutionStopped extends Error {
  constructor(readonly reason: StopReason) {
    super(`execution stopped: ${reason}`);
    this.name = 'ExecutionStopped';
  }
}

/** `signal`: a notification (resolution or cancellation elsewhere); `recheck`: the periodic safety net. */
export type WakeReason = 'timer' | 'signal' | 'recheck' | 'stop';

/** Counts coroutines waiting in memory across the engine (the suspension threshold). */
export interface WaitCounter {
  waiting: number;
  /** Called when a coroutine starts waiting (it no longer occupies an execution slot). */
  readonly onWaitStart?: () => void;
}

/** setTimeout's ceiling; longer waits wake early and wait again. */
const MAX_TIMER_MS = 2_147_483_647;

export class RunHandle {
  readonly runId: string;
  /** The run as claimed. */
  readonly run: WorkflowRun;
  /** When this process claimed the run (epoch ms). */
  readonly claimedAt: number;
  private shown: RunState;
  private runningWritten = false;
  private attemptNo: number;
  private resumedMidWork = false;
  private leaseUntil: number;
  private ending: Termination = { kind: 'none' };
  /** A stop or cancellation was thrown into workflow code: its result no longer counts. */
  private thrown = false;
  private waitingFor: 'promise' | 'sleep' | null = null;
  private signalled = false;
  private wake: ((reason: WakeReason) => void) | null = null;
  /** Resolutions this process stored for the run, by promise key (see `deliver`). */
  private readonly delivered = new Map<string, unknown>();

  constructor(
    claimed: WorkflowRun,
    private readonly counter: WaitCounter,
    now: number,
  ) {
    this.runId = claimed.runId;
    this.run = claimed;
    this.shown = claimed.state;
    this.attemptNo = claimed.attempt;
    this.leaseUntil = claimed.leaseExpiresAt ?? 0;
    this.claimedAt = now;
  }

  /**
   * Called once the journal is loaded. A run claimed while its row says `running`, or still
   * `pending` but with journal entries, was executing somewhere that stopped: this is a restart,
   * the next attempt. (A run resumed from `waiting`/`backing-off` is not; nor one whose journal ends
   * in a wait still open — its executor was waiting, in memory, not running a step: a short promise
   * wait leaves the row as it was, RunWaits.inMemoryShownLate.)
   */
  begin(journal: readonly WorkflowStep[]): void {
    const last = journal.at(-1);
    const waiting = last !== undefined && last.kind !== 'step' && last.status === 'started';
    const executed = this.run.state === 'running' || (this.run.state === 'pending' && journal.length > 0);
    this.resumedMidWork = executed && !waiting;
    if (this.resumedMidWork) this.attemptNo = this.run.attempt + 1;
  }

  /** This execution's attempt (see `begin`). */
  get attempt(): number {
    return this.attemptNo;
  }

  /** Whether this execution resumes one that stopped mid-work (crash, lost lease, shutdown). */
  get restarted(): boolean {
    return this.resumedMidWork;
  }

  /** The state the run row shows, as last written through this handle (or as claimed). */
  get shownState(): RunState {
    return this.shown;
  }

  /** Whether this execution has yet to write its row `running` (with its attempt). */
  get needsRunningWrite(): boolean {
    return !this.runningWritten || this.shown !== 'running';
  }

  /** The writer wrote `state` to the row. */
  wrote(state: RunState): void {
    this.shown = state;
    if (state === 'running') this.runningWritten = true;
  }

  get leaseExpiresAt(): number {
    return this.leaseUntil;
  }

  renewed(until: number): void {
    this.leaseUntil = until;
  }

  get termination(): Termination {
    return this.ending;
  }

  /** Still to be executed here: neither stopped, failed nor cancelled. */
  get live(): boolean {
    return this.ending.kind === 'none';
  }

  get isWaitingForPromise(): boolean {
    return this.waitingFor === 'promise';
  }

  cancel(): void {
    this.terminate({ kind: 'cancelled' });
  }

  stop(reason: StopReason): void {
    this.terminate({ kind: 'stopped', reason });
  }

  /** An error the engine detected that fails the run whatever workflow code does with it. */
  fail(error: Error): Error {
    this.terminate({ kind: 'failed', error });
    return error;
  }

  /** Stops the execution and returns the signal to throw into workflow code. */
  interrupt(reason: StopReason): ExecutionStopped {
    this.stop(reason);
    this.thrown = true;
    return new ExecutionStopped(reason);
  }

  /** Throws at a durable-call boundary when the run must not go on. */
  checkpoint(): void {
    const ending = this.ending;
    if (ending.kind === 'none') return;
    if (ending.kind === 'failed') throw ending.error;
    this.thrown = true;
    if (ending.kind === 'cancelled') throw new RunCancelledError(this.runId);
    throw new ExecutionStopped(ending.reason);
  }

  /**
   * Whether the definition's result is the run's outcome: not when the execution was stopped and
   * that reached workflow code (it saw an error that was no verdict on the run). A failure the
   * engine detected always counts.
   */
  outcomeCounts(settled: Settled): boolean {
    if (this.ending.kind === 'failed') return true;
    return !this.thrown && (settled.ok || !(settled.error instanceof ExecutionStopped));
  }

  /** Forgets earlier signals; call before reading the promise so no resolution is missed. */
  armSignal(): void {
    this.signalled = false;
  }

  /** "The promise may have been resolved": wakes a promise wait, or makes the next one return at once. */
  signal(): void {
    this.signalled = true;
    if (this.waitingFor === 'promise') this.wake?.('signal');
  }

  /**
   * A resolution of promise `key` that this process has just stored — its insert won (first
   * resolution) and has committed — handed over in memory: the wait takes `value` from here instead
   * of reading the promise back (docs/architecture.md, "The write path in statements").
   */
  deliver(key: string, value: unknown): void {
    this.delivered.set(key, value);
    this.signal();
  }

  /** The value `deliver` handed over for `key`, if any. */
  delivery(key: string): { readonly value: unknown } | undefined {
    return this.delivered.has(key) ? { value: this.delivered.get(key) } : undefined;
  }

  /** Periodic safety net for lost notifications: a promise wait looks at the promise once more. */
  recheck(): void {
    if (this.waitingFor === 'promise') this.wake?.('recheck');
  }

  /**
   * Takes one of the engine's in-memory wait slots until the returned function is called. Held for
   * a whole wait (re-checks after spurious wake-ups included), so concurrent waiters cannot
   * overshoot the limit.
   */
  takeWaitSlot(): () => void {
    this.counter.waiting += 1;
    this.counter.onWaitStart?.();
    let held = true;
    return () => {
      if (held) this.counter.waiting -= 1;
      held = false;
    };
  }

  /** Waits in memory until `until` (epoch ms), a signal (promise waits), a cancellation or a stop. */
  wait(kind: 'promise' | 'sleep', until: number, now: number): Promise<WakeReason> {
    if (!this.live) return Promise.resolve('stop');
    if (kind === 'promise' && this.signalled) return Promise.resolve('signal');
    return new Promise((resolve) => {
      const finish = (reason: WakeReason): void => {
        clearTimeout(timer);
        this.wake = null;
        this.waitingFor = null;
        resolve(reason);
      };
      const timer = setTimeout(() => finish('timer'), Math.min(Math.max(0, until - now), MAX_TIMER_MS));
      this.waitingFor = kind;
      this.wake = finish;
    });
  }

  private terminate(next: Termination): void {
    if (RANK[next.kind] > RANK[this.ending.kind]) this.ending = next;
    this.wake?.('stop');
  }
}
