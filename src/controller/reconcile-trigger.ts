/**
 * How writers wake the controller. The API calls `enqueue` after every committed write; the
 * controller collapses duplicates and reconciles from current state (never from the caller's data),
 * so a lost wake-up is caught by the next resync.
 */
import type { TriggerSource } from '../domain/workflow-run.js';

export interface ReconcileTrigger {
  enqueue(tenantId: string, source: TriggerSource): void;
}
