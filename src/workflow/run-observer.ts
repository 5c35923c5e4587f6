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
 *
 * An observer that records a change as events may also offer them before the write (`eventsFor`):
 * where the engine can, it writes them in the same statement as the change (a run's end,
 * `RunRecords.end`), so that they are atomic with it and cost no write of their own; `runChanged`
 * is told of the change all the same, with `eventsWritten` saying whether they were written.
 */
import type { Logger } from '../domain/logger.js';
import type { RunState } from '../domain/operations.js';
import type { TenantEventDraft } from '../domain/tenant-event.js';
import type { WorkflowRun } from '../domain/workflow-run.js';

export interface RunStateChange {
  /** The run as written, in its new state (for `eventsFor`: as the writer expects it written). */
  readonly run: WorkflowRun;
  readonly state: RunState;
  /** True when the events `eventsFor` offered for this change were written with it: not to write again. */
  readonly eventsWritten?: boolean;
}

/** Events of a run's state change, for one stream (`Store.appendEvent`'s tenant). */
export interface RunEvents {
  readonly tenantId: string | null;
  readonly drafts: readonly TenantEventDraft[];
}

export interface RunObserver {
  runChanged(change: RunStateChange): Promise<void>;
  /**
   * The events `runChanged` would write for `change`, if any, built from the run's `runId`,
   * `workflow`, `tags` and `attempt` and the new state only: `change.run` is the row as the writer
   * expects to write it, and the events are kept only when the written row has that workflow,
   * those tags and that attempt. Must not throw; a wrapping observer passes it on.
   */
  eventsFor?(change: RunStateChange): RunEvents | null;
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

/** The events `observer` offers for `change`; null when none, or when offering them failed (logged). */
export function eventsOffered(observer: RunObserver, change: RunStateChange, log: Logger): RunEvents | null {
  if (!observer.eventsFor) return null;
  try {
    const events = observer.eventsFor(change);
    return events && events.drafts.length > 0 ? events : null;
  } catch (error) {
    log.warn(
      { err: error, runId: change.run.runId, state: change.state },
      'the run observer offered no events',
    );
    return null;
  }
}
