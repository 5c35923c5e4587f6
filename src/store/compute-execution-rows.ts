/**
 * Compute execution ⇄ row conversion, the values a status transition writes, and the stream event
 * every status change (including the first, `pending`) appends to the tenant's history.
 */
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { ComputeErrorShape, PartialOutcome } from '../domain/compute-error.js';
import type { ComputeExecution, ExecutionHistoryEntry } from '../domain/compute-execution.js';
import type { TenantEventDraft } from '../domain/tenant-event.js';
import type { ComputeOperation, Endpoint, ExecutionStatus } from '../domain/tenant.js';
import { fromJson, toJson } from './codec.js';
import type { ComputeExecutionHistoryTable, ComputeExecutionsTable } from './schema.js';
import type { ExecutionTransition } from './store.js';

/** Who the stream says moved an execution. */
export const EXECUTION_ACTOR = 'compute';

export function toExecution(row: Selectable<ComputeExecutionsTable>): ComputeExecution {
  return {
    executionId: row.execution_id,
    tenantId: row.tenant_id,
    workflowRunId: row.workflow_run_id,
    operation: row.operation as ComputeOperation,
    provider: row.provider,
    status: row.status as ExecutionStatus,
    attempt: Number(row.attempt),
    timeoutMs: Number(row.timeout_ms),
    generation: Number(row.generation),
    configHash: row.config_hash,
    resources: fromJson<Record<string, string>>(row.resources, {}),
    endpoints: fromJson<Endpoint[]>(row.endpoints, []),
    partial: fromJson<PartialOutcome | null>(row.partial, null),
    error: fromJson<ComputeErrorShape | null>(row.error, null),
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at === null ? null : Number(row.lease_expires_at),
  };
}

export function executionRow(e: ComputeExecution): Required<Insertable<ComputeExecutionsTable>> {
  return {
    execution_id: e.executionId,
    tenant_id: e.tenantId,
    workflow_run_id: e.workflowRunId,
    operation: e.operation,
    provider: e.provider,
    status: e.status,
    attempt: e.attempt,
    timeout_ms: e.timeoutMs,
    generation: e.generation,
    config_hash: e.configHash,
    resources: JSON.stringify(e.resources),
    endpoints: JSON.stringify(e.endpoints),
    partial: e.partial === null ? null : toJson(e.partial),
    error: e.error === null ? null : toJson(e.error),
    lease_owner: e.leaseOwner,
    lease_expires_at: e.leaseExpiresAt,
    created_at: e.createdAt,
    started_at: e.startedAt,
    finished_at: e.finishedAt,
  };
}

export function toHistoryEntry(row: Selectable<ComputeExecutionHistoryTable>): ExecutionHistoryEntry {
  return {
    executionId: row.execution_id,
    seq: Number(row.seq),
    status: row.status as ExecutionStatus,
    attempt: Number(row.attempt),
    at: row.at,
    details: fromJson<Record<string, unknown>>(row.details, {}),
  };
}

/**
 * Columns a transition writes: the new status, whatever outcome fields it carries (undefined =
 * unchanged, null = cleared), `startedAt` on → running, `finishedAt` on settle, and on settle
 * the lease is released (nobody is running the provider call any more).
 */
export function transitionValues(t: ExecutionTransition): Updateable<ComputeExecutionsTable> {
  const settled = t.to === 'succeeded' || t.to === 'failed';
  const values: Updateable<ComputeExecutionsTable> = { status: t.to };
  if (t.attempt !== undefined) values.attempt = t.attempt;
  if (t.resources !== undefined) values.resources = JSON.stringify(t.resources);
  if (t.endpoints !== undefined) values.endpoints = JSON.stringify(t.endpoints);
  if (t.partial !== undefined) values.partial = t.partial === null ? null : toJson(t.partial);
  if (t.error !== undefined) values.error = t.error === null ? null : toJson(t.error);
  if (t.to === 'running') {
    values.started_at = t.at;
    values.finished_at = null;
  }
  if (settled) {
    values.finished_at = t.at;
    values.lease_owner = null;
    values.lease_expires_at = null;
  }
  return values;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The reason of the `ExecutionStatusChanged` event of a move to `status`. */
export function executionReason(status: ExecutionStatus): string {
  return `Execution${capitalise(status)}`;
}

/** The `ExecutionStatusChanged` event for the execution as it is now. */
export function executionEvent(e: ComputeExecution): TenantEventDraft {
  const errorPart = e.status === 'failed' && e.error ? `: ${e.error.code} ${e.error.message}` : '';
  return {
    type: 'ExecutionStatusChanged',
    actor: EXECUTION_ACTOR,
    reason: executionReason(e.status),
    message: `${e.operation} ${e.status} (attempt ${e.attempt})${errorPart}`,
    fromPhase: null,
    toPhase: null,
    generation: e.generation,
    runId: e.workflowRunId,
    executionId: e.executionId,
    data: {
      operation: e.operation,
      status: e.status,
      attempt: e.attempt,
      ...(e.status === 'failed' && e.error && { errorCode: e.error.code }),
    },
  };
}
