/**
 * Provisioning's run observer (given to the engine by the composition root): a tenant run's state
 * changes become the tenant's `RunStateChanged` events — when it starts backing off, and when it
 * ends (succeeded, failed, cancelled). Other changes, and runs of other subjects, write nothing, so
 * the create → ready path costs one event per run, as before the engine was made generic. The
 * events are offered to the engine too (`eventsFor`), which writes a run's end event with the end.
 */
import type { RunState } from '../domain/operations.js';
import type { TenantEventDraft } from '../domain/tenant-event.js';
import { asTenantRun, type TenantRun } from '../domain/tenant-run.js';
import type { Store } from '../store/store.js';
import type { RunEvents, RunObserver, RunStateChange } from '../workflow/run-observer.js';

const REPORTED: ReadonlySet<RunState> = new Set<RunState>([
  'backing-off',
  'succeeded',
  'failed',
  'cancelled',
]);

export function tenantRunEvents(store: Pick<Store, 'appendEvent'>): RunObserver {
  return {
    // Offered to the engine, which writes the event of a run's end with the end itself.
    eventsFor: runEvents,
    async runChanged(change: RunStateChange): Promise<void> {
      const events = change.eventsWritten ? null : runEvents(change);
      if (!events) return;
      for (const draft of events.drafts) await store.appendEvent(events.tenantId, draft);
    },
  };
}

/** The events of a tenant run's state change: its `RunStateChanged`, for the states reported. */
function runEvents({ run, state }: RunStateChange): RunEvents | null {
  if (!REPORTED.has(state)) return null;
  const tenantRun = asTenantRun(run);
  return tenantRun && { tenantId: tenantRun.tenantId, drafts: [runStateEvent(tenantRun, state)] };
}

export function runStateEvent(run: TenantRun, state: RunState): TenantEventDraft {
  const reason = `Run${state
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('')}`;
  return {
    type: 'RunStateChanged',
    actor: `workflow:${run.runId}`,
    reason,
    message: `${run.action} run ${run.runId} is ${state}`,
    fromPhase: null,
    toPhase: null,
    generation: run.generation,
    runId: run.runId,
    executionId: null,
    data: { runId: run.runId, action: run.action, state, attempt: run.attempt },
  };
}
