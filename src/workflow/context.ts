/**
 * What durable workflow code can do (the "what"; engines implement the "how"). Workflow code must
 * be deterministic between durable calls: everything with a side effect or a non-deterministic
 * result (I/O, clocks, random) goes through `step`, whose result is journaled and replayed after a
 * crash instead of being re-run.
 *
 * Rules every engine enforces:
 * - Durable calls are identified by their order in the run plus their name; replaying a call under a
 *   different name than the journal holds is a `NonDeterminismError`.
 * - Step results must be JSON-serialisable. Workflow code sees the journaled (JSON round-tripped)
 *   value on the first execution as on replay: `undefined` becomes `null`, class instances plain data.
 * - Steps are at-least-once: a step's result is journaled after it finishes, so a crash while it runs
 *   (or a lost lease) runs it again. Every step must be idempotent.
 * - A step that throws `TerminalWorkflowError` fails the run; any other error thrown by a step is
 *   journaled as the step's failure and rethrown to the workflow code as a `StepFailedError` (first
 *   execution and replay alike), which decides (the retry policy lives in workflow code, not in the
 *   engine).
 * - A cancelled run throws `RunCancelledError` from its next durable call.
 */
import type { HeldJournal } from '../domain/held-journal.js';
import type { TraceContext } from '../domain/tracing.js';
import type { Logger } from '../domain/logger.js';

export type StepRunState = 'running' | 'waiting' | 'backing-off';

export interface PromiseOutcome<T> {
  readonly resolved: boolean;
  readonly value?: T;
}

/**
 * The wait workflow code makes as its next durable call after a step, as the step declares it
 * (`StepOptions.waitFollows`): a promise (`awaitPromise`) with that key, or a sleep with that name
 * and state.
 */
export type FollowingWait =
  | { readonly kind: 'promise'; readonly key: string }
  | { readonly kind: 'sleep'; readonly name: string; readonly state?: StepRunState };

export interface StepOptions<T> {
  /**
   * The wait that follows the step when it succeeds with `value`, if any (null: none). A hint: an
   * engine may move the run to the wait's state with the step's own durable write instead of a
   * write of its own, or ignore it. A declared wait that is not the next durable call costs the
   * engine a write back to `running`, nothing else.
   */
  readonly waitFollows?: (value: T) => FollowingWait | null;
  /**
   * The step's function hands the journal it is given (its second argument, when the engine holds
   * entries back and the store can carry them) to its first write to Lessor's store, which writes
   * them in the same statement — or first, when it cannot (src/domain/held-journal.ts). Only for a
   * function whose first act on the world is such a write: an engine otherwise writes its held
   * entries before the function runs.
   */
  readonly journalsWithFirstWrite?: boolean;
  /**
   * The step's function acts on nothing (it only reads): an engine may keep its held entries held
   * across it, to be written with a later write.
   */
  readonly readOnly?: boolean;
}

/**
 * A change of the durable calls a definition makes at the start of its runs: a run journaled
 * before the change must replay the calls it began with, so workflow code asks `begunBefore` and
 * makes the former calls for such a run. Each engine tells such a run by what it keeps of it: the
 * embedded engine by its journal (its first entry is named `formerFirstCall`); Restate, which
 * cannot read a journal ahead of a call, by the journal layout the run was submitted with (one
 * below `restateLayout`, the layout that came with the change: restate/lessor-run-service.ts).
 */
export interface JournalChange {
  /** The name of the first durable call (seq 1) that runs begun before the change made. */
  readonly formerFirstCall: string;
  /** The Restate journal layout runs begun since the change are submitted with. */
  readonly restateLayout: number;
}

export interface WorkflowContext {
  readonly runId: string;
  readonly log: Logger;
  /**
   * Whether this run began before `change` (see `JournalChange`): the same answer on the first
   * execution and on every replay, whatever the run has journaled since.
   */
  begunBefore(change: JournalChange): boolean;
  /**
   * Durable step: runs `fn` (at least once, see above); once journaled, its result (or error) is
   * replayed. `fn` gets the step's trace context, for the work it starts (a provider call, a wake).
   */
  step<T>(
    name: string,
    fn: (trace: TraceContext, journal?: HeldJournal) => Promise<T>,
    options?: StepOptions<T>,
  ): Promise<T>;
  /**
   * Durable timer. `state` is what the run shows while it sleeps (default `backing-off`). The wake
   * time is fixed (journaled) when the sleep first starts: a crash does not restart the timer.
   */
  sleep(name: string, ms: number, options?: { state?: StepRunState }): Promise<void>;
  /**
   * Waits for the durable promise `key` to be resolved from outside (a callback), for at most
   * `timeoutMs`. A resolution that arrived before the wait started is seen at once. The deadline is
   * fixed when the wait first starts (a crash does not restart it), and the outcome is journaled: on
   * replay the same outcome comes back. `key` is also the journal entry's name.
   */
  awaitPromise<T>(key: string, options: { timeoutMs: number }): Promise<PromiseOutcome<T>>;
}

export interface WorkflowDefinition<I = unknown, O = unknown> {
  readonly name: string;
  run(ctx: WorkflowContext, input: I): Promise<O>;
}

/** Thrown by workflow code to end the run as failed, no retries. */
export class TerminalWorkflowError extends Error {
  constructor(
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
    this.name = 'TerminalWorkflowError';
  }
}

/**
 * A step's failure as workflow code sees it: the original error's name, message and JSON details
 * (for an error with a `details` field, that field; otherwise its own enumerable fields such as
 * `code`, `classification`, `retryAfterMs`). Identical on first execution and on replay.
 */
export class StepFailedError extends Error {
  constructor(
    readonly stepName: string,
    readonly errorName: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
    this.name = 'StepFailedError';
  }
}

export class NonDeterminismError extends Error {
  constructor(runId: string, seq: number, expected: string, actual: string) {
    super(`run ${runId}: durable call #${seq} was '${expected}' in the journal but is now '${actual}'`);
    this.name = 'NonDeterminismError';
  }
}

export class RunCancelledError extends Error {
  constructor(runId: string) {
    super(`run ${runId} was cancelled`);
    this.name = 'RunCancelledError';
  }
}
