/**
 * Callback outbox rows (docs/architecture.md, "Callbacks and the event stream"): written with the execution
 * change, delivered at least once.
 */
import type { ComputeErrorShape } from './compute-error.js';
import type { ComputeOperation, Endpoint, ExecutionStatus } from './tenant.js';

export interface CallbackPayload {
  readonly executionId: string;
  readonly tenantId: string;
  readonly workflowRunId: string;
  readonly operation: ComputeOperation;
  readonly status: ExecutionStatus;
  readonly resources: Readonly<Record<string, string>>;
  /**
   * A succeeded execution's endpoints, so the waiting workflow needs no read to learn them. Absent
   * on callbacks written before it was added: then the workflow reads the execution record.
   */
  readonly endpoints?: readonly Endpoint[];
  readonly error: ComputeErrorShape | null;
  readonly attempt: number;
  readonly at: string;
}

export type CallbackState = 'pending' | 'delivered' | 'dead';

export interface CallbackRecord {
  readonly id: string;
  readonly executionId: string;
  readonly workflowRunId: string;
  readonly tenantId: string;
  readonly payload: CallbackPayload;
  readonly state: CallbackState;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly deliveredAt: string | null;
}

/**
 * The durable-promise key a workflow waits on for one attempt of an execution. Keyed by attempt so a
 * retry under the same execution id waits for its own outcome, not the previous attempt's.
 */
export function executionPromiseKey(executionId: string, attempt: number): string {
  return `execution:${executionId}#${attempt}`;
}

/** Only settled statuses resolve a waiting workflow; the others are for subscribers. */
export function isSettledStatus(status: CallbackPayload['status']): boolean {
  return status === 'succeeded' || status === 'failed';
}
