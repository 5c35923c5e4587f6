/**
 * Picks the workflow engine (`engine.type`); the Restate SDK is loaded only when configured. Either
 * engine reports run state changes to provisioning's observer, which records them as tenant events.
 */
import type { Logger } from '../domain/logger.js';
import type { RunState } from '../domain/operations.js';
import { asTenantRun, type TenantRun } from '../domain/tenant-run.js';
import { NO_METRICS, type WorkflowMetrics } from '../domain/metrics.js';
import { tenantRunEvents } from '../provisioning/tenant-run-events.js';
import type { Store } from '../store/store.js';
import type { WorkflowDefinition } from '../workflow/context.js';
import { EmbeddedWorkflowEngine } from '../workflow/embedded/embedded-engine.js';
import type { WorkflowEngine } from '../workflow/engine.js';
import type { RunObserver } from '../workflow/run-observer.js';
import type { LessorConfig } from './config/load-config.js';
import { meteredObserver, meteredRunRows } from './telemetry/metered.js';

export interface EngineDeps {
  readonly store: Store;
  readonly definitions: readonly WorkflowDefinition<never, unknown>[];
  readonly ownerId: string;
  readonly logger: Logger;
  /**
   * Told the tenant of every tenant run that ended: the controller looks again at once (the spec may
   * have moved on during the run, or asked for the next step, as a suspend after a provision). The
   * run goes along, as written in its end state.
   */
  readonly onTenantRunEnded?: (run: TenantRun) => void;
  readonly metrics?: WorkflowMetrics;
}

const ENDED: ReadonlySet<RunState> = new Set<RunState>(['succeeded', 'failed', 'cancelled']);

function wakeOnRunEnd(observer: RunObserver, wake: ((run: TenantRun) => void) | undefined): RunObserver {
  if (!wake) return observer;
  return {
    ...(observer.eventsFor && { eventsFor: observer.eventsFor.bind(observer) }),
    runChanged: async (change) => {
      await observer.runChanged(change);
      const run = ENDED.has(change.state) ? asTenantRun(change.run) : null;
      if (run) wake(run);
    },
  };
}

export async function createWorkflowEngine(config: LessorConfig, deps: EngineDeps): Promise<WorkflowEngine> {
  // Each engine binds its own `engine` key.
  const logger = deps.logger.child({ component: 'engine' });
  const metrics = deps.metrics ?? NO_METRICS.workflows;
  const observer = meteredObserver(wakeOnRunEnd(tenantRunEvents(deps.store), deps.onTenantRunEnded), metrics);
  if (config.engine.type === 'restate') {
    const { createRestateEngine } = await import('../workflow/restate/index.js');
    return createRestateEngine({
      store: deps.store,
      definitions: deps.definitions,
      observer,
      ingressUrl: config.engine.restate.ingressUrl!,
      adminUrl: config.engine.restate.adminUrl!,
      endpointHost: config.engine.restate.endpointHost,
      endpointPort: config.engine.restate.endpointPort,
      identityKeys: config.engine.restate.identityKeys,
      logger,
    });
  }
  return new EmbeddedWorkflowEngine({
    store: { ...deps.store, runs: meteredRunRows(deps.store.runs, metrics, 'embedded') },
    definitions: deps.definitions,
    observer,
    ownerId: deps.ownerId,
    logger,
    leaseMs: config.engine.embedded.leaseMs,
    pollIntervalMs: config.engine.embedded.pollIntervalMs,
  });
}
