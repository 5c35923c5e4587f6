/**
 * Pure builders for the records the manager writes: the `pending` row, the callback payload that
 * travels with every transition, and what `start` returns. Kept apart so the runner and the
 * recovery loop write identical shapes.
 */
import type { CallbackPayload } from '../domain/compute-callback.js';
import type { ComputeErrorShape } from '../domain/compute-error.js';
import type { ComputeExecution } from '../domain/compute-execution.js';
import type { ComputeOperation, ExecutionStatus, JsonObject } from '../domain/tenant.js';
import type { TenantRef } from './provider.js';

/** Everything needed to (re-)drive one execution: what `start` computed, or recovery rebuilt. */
export interface ExecutionPlan {
  readonly executionId: string;
  readonly tenant: TenantRef;
  readonly operation: ComputeOperation;
  readonly workflowRunId: string;
  readonly generation: number;
  readonly provider: string;
  /** Effective config: provider defaults merged under the spec's config (validated by the runner). */
  readonly config: JsonObject;
  readonly configHash: string;
  readonly timeoutMs: number;
}

export interface StartResult {
  executionId: string;
  status: ExecutionStatus;
  attempt: number;
}

export function newPendingExecution(
  plan: ExecutionPlan,
  now: number,
  owner: string,
  leaseMs: number,
): ComputeExecution {
  return {
    executionId: plan.executionId,
    tenantId: plan.tenant.id,
    workflowRunId: plan.workflowRunId,
    operation: plan.operation,
    provider: plan.provider,
    status: 'pending',
    attempt: 1,
    timeoutMs: plan.timeoutMs,
    generation: plan.generation,
    configHash: plan.configHash,
    resources: {},
    endpoints: [],
    partial: null,
    error: null,
    createdAt: new Date(now).toISOString(),
    startedAt: null,
    finishedAt: null,
    leaseOwner: owner,
    leaseExpiresAt: now + leaseMs,
  };
}

export function callbackFor(
  execution: Pick<ComputeExecution, 'executionId' | 'tenantId' | 'workflowRunId' | 'operation'>,
  change: {
    status: ExecutionStatus;
    attempt: number;
    at: string;
    resources?: Readonly<Record<string, string>>;
    error?: ComputeErrorShape | null;
  },
): CallbackPayload {
  return {
    executionId: execution.executionId,
    tenantId: execution.tenantId,
    workflowRunId: execution.workflowRunId,
    operation: execution.operation,
    status: change.status,
    resources: change.resources ?? {},
    error: change.error ?? null,
    attempt: change.attempt,
    at: change.at,
  };
}

export function startResult(execution: ComputeExecution): StartResult {
  return { executionId: execution.executionId, status: execution.status, attempt: execution.attempt };
}
