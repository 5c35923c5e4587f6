/**
 * Hands runs to Restate (the workflow's `run` handler, `send` through the ingress) in the
 * background, so that `start` returns once the run row is stored as `pending`: the caller (the
 * controller's few workers, a rollout) does not wait out a round trip through Restate's log.
 *
 * Contract:
 * - `submit` never throws and never waits for Restate. One submission per run id is in flight at a
 *   time; a second `submit` of the same run joins it.
 * - A failed submission is tried again with backoff while the engine is open and the row is still
 *   `pending` (a row that moved on was submitted, or cancelled: nothing left to do). Restate
 *   treats a duplicate submission of a workflow key as a no-op, so trying again is always safe.
 * - `close(graceMs)` takes no new submission, waits up to `graceMs` for those in flight, then
 *   abandons the rest.
 * What this process never submitted (it crashed, or closed first) stays `pending` in Lessor's
 * table, as after a crash between the row's creation and a synchronous submission: the controller
 * starts it again under the same id (docs/architecture.md, "Crash semantics"), which submits it anew.
 */
import type { Logger } from '../../domain/logger.js';
import type { WorkflowRun } from '../../domain/workflow-run.js';
import type { RunPayload } from './lessor-run-service.js';
import type { SubmitResult } from './restate-http.js';

export interface RunSubmitterDeps {
  /** Submits the `run` invocation of `runId` (idempotent on the workflow key). */
  readonly send: (runId: string, payload: RunPayload) => Promise<SubmitResult>;
  /** The run row as stored now (a retry stops when it is no longer `pending`). */
  readonly getRun: (runId: string) => Promise<WorkflowRun | undefined>;
  readonly log: Logger;
  readonly initialRetryMs?: number;
  readonly maxRetryMs?: number;
}

export class RunSubmitter {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly timers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private closed = false;

  constructor(private readonly deps: RunSubmitterDeps) {}

  /** Submits `runId` in the background (see the file comment). */
  submit(runId: string, payload: RunPayload): void {
    if (this.closed || this.inFlight.has(runId)) return;
    const done = this.deliver(runId, payload).finally(() => this.inFlight.delete(runId));
    this.inFlight.set(runId, done);
  }

  /** Resolves once `runId` has no submission in flight (tests, and `close`). */
  async settled(runId: string): Promise<void> {
    await this.inFlight.get(runId);
  }

  async close(graceMs: number): Promise<void> {
    this.closed = true;
    for (const entry of this.timers) {
      clearTimeout(entry.timer);
      entry.wake();
    }
    this.timers.clear();
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight.values()]),
      new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, graceMs)))),
    ]);
    clearTimeout(timer);
  }

  private async deliver(runId: string, payload: RunPayload): Promise<void> {
    const initial = this.deps.initialRetryMs ?? 200;
    const max = this.deps.maxRetryMs ?? 10_000;
    for (let delay = initial; !this.closed; delay = Math.min(delay * 2, max)) {
      try {
        const submitted = await this.deps.send(runId, payload);
        this.deps.log.debug(
          { runId, invocationId: submitted.invocationId, status: submitted.status },
          'run submitted',
        );
        return;
      } catch (error) {
        this.deps.log.warn({ err: error, runId, retryInMs: delay }, 'could not submit the run to restate');
      }
      await this.pause(delay);
      if (this.closed || !(await this.stillPending(runId))) return;
    }
  }

  private async stillPending(runId: string): Promise<boolean> {
    try {
      return (await this.deps.getRun(runId))?.state === 'pending';
    } catch (error) {
      // Lessor's store unreachable: trying Restate again is harmless (a duplicate is a no-op).
      this.deps.log.warn({ err: error, runId }, 'could not read the run before submitting it again');
      return true;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.timers.delete(entry);
          resolve();
        }, ms),
        wake: () => resolve(),
      };
      this.timers.add(entry);
    });
  }
}
