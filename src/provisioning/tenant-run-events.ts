/**
 * Provisioning's run observer (given to the engine by the composition root): a tenant run's state
 * changes become the tenant's `RunStateChanged` events — when it starts backing off, and when it
 * ends (succeeded, failed, cancelled). Other changes, and runs of other subjects, write nothing, so
 * the create → ready path costs one event per run, as before the engine was made generic.
 */
import type { RunState } from '../domain/operations.js';
import type { TenantEventDraft } from '../domain/tenant-event.js';
import { asTenantRun, type TenantRun } from '../domain/tenant-run.js';
import type { Store } from '../store/store.js';
import type { RunObserver, RunStateChange } from '../workflow/run-observer.js';

const REPORTED: ReadonlySet<RunState> = new Set<RunState>([
  'backing-off',
  'succeeded',
  'failed',
  'cancelled',
]);

export function tenantRunEvents(store: Pick<Store, 'appendEvent'>): RunObserver {
  return {
    async runChanged({ run, state }: RunStateChange): Promise<void> {
      if (!REPORTED.has(state)) return;
      const tenantRun = asTenantRun(run);
      if (tenantRun) await store.appendEvent(tenantRun.tenantId, runStateEvent(tenantRun, state));
    },
  };
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
