/**
 * The in-memory side of one run held (leased) by this process: what the run row shows, whether the
 * run was cancelled or must stop, and the one wait its coroutine may be in. All methods are
 * synchronous; the engine and the durable context share the handle.
 */
import type { RunState } from '../../domain/tenant.js';
import type { WorkflowRun } from '../../domain/workflow-run.js';
import { RunCancelledError } from '../context.js';

/**
 * Why a coroutine unwinds without finishing its run: `suspended` (released to wait in the database),
 * `lease-lost` (another process owns the run now), `closing` (engine shutdown), `store-error` (a
 * write failed; the lease is left to expire so the run is retried later).
 */
export type StopReason = 'suspended' | 'lease-lost' | 'closing' | 'store-error';

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
  /** The run as claimed (identity, tenant, action, generation). */
  readonly run: WorkflowRun;
  /** The state the run row shows, as last written through this handle. */
  dbState: RunState;
  /** True until the row has been written `running` (with `attempt`) by this execution. */
  needsRunningWrite = true;
  /** This execution's attempt; see `begin`. */
  attempt: number;
  /** Whether this execution resumes one that stopped mid-work (crash, lost lease, shutdown). */
  restarted = false;
  /** When this process claimed the run (epoch ms). */
  readonly claimedAt: number;
  leaseExpiresAt: number;
  cancelled = false;
  stopReason: StopReason | null = null;
  /** Set when a stop or cancellation was thrown into workflow code: its outcome no longer counts. */
  thrownStop = false;
  fatal: Error | null = null;
  private waitingFor: 'promise' | 'sleep' | null = null;
  private signalled = false;
  private wake: ((reason: WakeReason) => void) | null = null;

  constructor(
    claimed: WorkflowRun,
    private readonly counter: WaitCounter,
    now: number,
  ) {
    this.runId = claimed.runId;
    this.run = claimed;
    this.dbState = claimed.state;
    this.attempt = claimed.attempt;
    this.leaseExpiresAt = claimed.leaseExpiresAt ?? 0;
    this.claimedAt = now;
  }

  /**
   * Called once the journal is loaded. A run claimed while its row says `running`, or still
   * `pending` but with journal entries, was executing somewhere that stopped: this is a restart,
   * the next attempt. (A run resumed from `waiting`/`backing-off` is not.)
   */
  begin(journalSize: number): void {
    this.restarted = this.run.state === 'running' || (this.run.state === 'pending' && journalSize > 0);
    if (this.restarted) this.attempt = this.run.attempt + 1;
  }

  get isWaitingForPromise(): boolean {
    return this.waitingFor === 'promise';
  }

  /** Throws at a durable-call boundary when the run must not go on. */
  checkpoint(): void {
    if (this.fatal) throw this.fatal;
    if (this.cancelled) {
      this.thrownStop = true;
      throw new RunCancelledError(this.runId);
    }
    if (this.stopReason) {
      this.thrownStop = true;
      throw new ExecutionStopped(this.stopReason);
    }
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

  /** Periodic safety net for lost notifications: a promise wait looks at the promise once more. */
  recheck(): void {
    if (this.waitingFor === 'promise') this.wake?.('recheck');
  }

  cancel(): void {
    this.cancelled = true;
    this.wake?.('stop');
  }

  stop(reason: StopReason): void {
    this.stopReason ??= reason;
    this.wake?.('stop');
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
    return this.untilWoken(kind, until, now);
  }

  private untilWoken(kind: 'promise' | 'sleep', until: number, now: number): Promise<WakeReason> {
    if (this.cancelled || this.stopReason !== null) return Promise.resolve('stop');
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
}
