/**
 * Pure builders for what the manager computes and writes: the execution plan, the `pending` row,
 * the move to `running`, the callback payload that travels with every transition, and what `start`
 * returns. Kept apart so `start`, the runner and the recovery loop build identical shapes.
 */
import type { CallbackPayload } from '../domain/compute-callback.js';
import type { ComputeErrorShape } from '../domain/compute-error.js';
import type { ComputeExecution } from '../domain/compute-execution.js';
import type { ConfigHasher } from '../domain/config-hasher.js';
import type { ExecutionTransition } from '../domain/execution-ledger.js';
import { computeExecutionId } from '../domain/ids.js';
import type { ComputeOperation, Endpoint, ExecutionStatus, JsonObject } from '../domain/tenant.js';
import type { TraceContext } from '../domain/tracing.js';
import type { TenantRef } from './provider.js';
import type { ProviderRegistry } from './provider-registry.js';

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
  /** In memory only: the trace context of the step that started the execution, if any. */
  readonly trace?: TraceContext | undefined;
}

export interface PlanInput {
  readonly tenant: TenantRef;
  /** The provider type, resolved (`registry.resolveProvider`). */
  readonly provider: string;
  /** The tenant spec's config; the provider's defaults are merged under it. */
  readonly specConfig: JsonObject;
  readonly operation: ComputeOperation;
  readonly workflowRunId: string;
  readonly generation: number;
  /** Default: the provider's `timeoutMs` setting. */
  readonly timeoutMs?: number | undefined;
}

/** The plan for `input`: effective config, its keyed hash and the deterministic execution id. */
export function planFor(
  registry: Pick<ProviderRegistry, 'mergedConfig' | 'get'>,
  hasher: ConfigHasher,
  input: PlanInput,
): ExecutionPlan {
  const { tenant, provider, operation, generation, workflowRunId } = input;
  const config = registry.mergedConfig(provider, input.specConfig);
  const configHash = hasher(config);
  const executionId = computeExecutionId({
    tenantId: tenant.id,
    operation,
    generation,
    effectiveConfigHash: configHash,
    workflowRunId,
  });
  return {
    executionId,
    tenant: { id: tenant.id, name: tenant.name },
    operation,
    workflowRunId,
    generation,
    provider,
    config,
    configHash,
    timeoutMs: input.timeoutMs ?? registry.get(provider).settings.timeoutMs,
  };
}

/**
 * The compare-and-set of `row` from `from` to `running` by `owner` at `attempt` (a new attempt, a
 * claimed pending row, or a recovered orphan), with its callback.
 */
export function toRunning(
  row: ComputeExecution,
  change: { from: ExecutionStatus; attempt: number; owner: string; at: string; recovered?: boolean },
): ExecutionTransition {
  const { from, attempt, owner, at } = change;
  return {
    from: [from],
    to: 'running',
    attempt,
    details: { owner, ...(change.recovered && { recovered: true }) },
    at,
    callback: callbackFor(row, { status: 'running', attempt, at }),
  };
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
    endpoints?: readonly Endpoint[];
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
    ...(change.endpoints && { endpoints: change.endpoints }),
    error: change.error ?? null,
    attempt: change.attempt,
    at: change.at,
  };
}

export function startResult(execution: ComputeExecution): StartResult {
  return { executionId: execution.executionId, status: execution.status, attempt: execution.attempt };
}
