/**
 * How writers wake the controller. The API calls `enqueue` after every committed write; the
 * controller collapses duplicates and reconciles from current state (never from the caller's data),
 * so a lost wake-up is caught by the next resync.
 */
import type { TraceContext } from '../domain/tracing.js';
import type { TriggerSource } from '../domain/workflow-run.js';

export interface ReconcileTrigger {
  /** `trace`: the writer's trace context, the parent of the reconcile (default: the active one). */
  enqueue(tenantId: string, source: TriggerSource, trace?: TraceContext): void;
}
