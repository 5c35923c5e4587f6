/**
 * A tracked compute operation (docs/architecture.md, "Compute"). Status path: pending → running → succeeded |
 * failed, and failed → running (retry, attempt + 1) under the same id; succeeded is final.
 */
import type { ComputeErrorShape, PartialOutcome } from './compute-error.js';
import type { ComputeOperation, Endpoint, ExecutionStatus } from './tenant.js';

export const EXECUTION_TRANSITIONS: Readonly<Record<ExecutionStatus, readonly ExecutionStatus[]>> = {
  pending: ['running', 'failed'],
  running: ['succeeded', 'failed'],
  failed: ['running'],
  succeeded: [],
};

export function canMoveExecution(from: ExecutionStatus, to: ExecutionStatus): boolean {
  return EXECUTION_TRANSITIONS[from].includes(to);
}

/** True when a list of statuses (the history, oldest first) is a path the table allows. */
export function isValidExecutionPath(statuses: readonly ExecutionStatus[]): boolean {
  if (statuses[0] !== 'pending') return false;
  return statuses.every((s, i) => i === 0 || canMoveExecution(statuses[i - 1]!, s));
}

export interface ComputeExecution {
  readonly executionId: string;
  readonly tenantId: string;
  readonly workflowRunId: string;
  readonly operation: ComputeOperation;
  readonly provider: string;
  readonly status: ExecutionStatus;
  readonly attempt: number;
  readonly timeoutMs: number;
  readonly generation: number;
  readonly configHash: string;
  readonly resources: Readonly<Record<string, string>>;
  readonly endpoints: readonly Endpoint[];
  readonly partial: PartialOutcome | null;
  readonly error: ComputeErrorShape | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  /** Process holding the in-flight provider call, and until when (epoch ms); null once settled. */
  readonly leaseOwner: string | null;
  readonly leaseExpiresAt: number | null;
}

export interface ExecutionHistoryEntry {
  readonly executionId: string;
  readonly seq: number;
  readonly status: ExecutionStatus;
  readonly attempt: number;
  readonly at: string;
  readonly details: Readonly<Record<string, unknown>>;
}
