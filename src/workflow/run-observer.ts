/**
 * The hook through which whoever starts runs learns how they go, without the engine knowing what
 * the runs are about (provisioning turns a tenant run's changes into the tenant's events). An
 * engine takes one observer at construction and tells it, after the run row was written:
 *
 * - `pending` when `start` created the run;
 * - `running`, `waiting`, `backing-off` as the run moves between them (a short run may go from
 *   `pending` straight to its end: intermediate states are not promised);
 * - `succeeded`, `failed` or `cancelled` once, when the run ends.
 *
 * Each call reports a change of state: the run showed another state before the write. A change is
 * reported at most once; one lost to a crash between the write and the call is not repeated, and a
 * failing observer is logged, never undoes or retries the change.
 */
import type { Logger } from '../domain/logger.js';
import type { RunState } from '../domain/operations.js';
import type { WorkflowRun } from '../domain/workflow-run.js';

export interface RunStateChange {
  /** The run as written, in its new state. */
  readonly run: WorkflowRun;
  readonly state: RunState;
}

export interface RunObserver {
  runChanged(change: RunStateChange): Promise<void>;
}

/** An observer that wants nothing. */
export const IGNORE_RUN_CHANGES: RunObserver = { runChanged: async () => {} };

/** Tells `observer`; a failure is logged and swallowed (see the file comment). */
export async function tellObserver(
  observer: RunObserver,
  change: RunStateChange,
  log: Logger,
): Promise<void> {
  try {
    await observer.runChanged(change);
  } catch (error) {
    log.warn(
      { err: error, runId: change.run.runId, state: change.state },
      'the run observer failed; the state change stands',
    );
  }
}
