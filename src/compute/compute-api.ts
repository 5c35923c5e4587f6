/**
 * The workflow-facing compute API (docs/architecture.md, "Compute"). Workflows start tracked executions and
 * learn their outcome through callbacks; the API reads executions; the controller asks for observed state.
 *
 * Contract of `start`:
 * - The execution id is deterministic (`computeExecutionId`): tenant, operation, generation, effective
 *   config hash and workflow run. The same request again finds the same row — no duplicate row, no
 *   duplicate provider call, no unique-constraint error — also under concurrent calls.
 * - The row is written `pending` BEFORE the provider is called; then `running`; then `succeeded`
 *   (resources, endpoints) or `failed` (ComputeError, partial). Each change writes a history row and
 *   a callback outbox row in the same transaction.
 * - `start` returns once the row is durable; the provider call continues in the background.
 * - On an existing execution: `succeeded` → returned as is; `failed` → retried under the same id
 *   (failed → running, attempt + 1); `pending`/`running` and alive → returned as is; `pending`/
 *   `running` whose owner died (lease expired) → taken over and re-driven.
 */
import type { HeldJournal } from '../domain/held-journal.js';
import type { ComputeExecution, ExecutionHistoryEntry } from '../domain/compute-execution.js';
import type { TenantStatusWrite } from '../domain/tenant-change.js';
import type { ComputeOperation, ExecutionStatus, JsonObject, TenantSpec } from '../domain/tenant.js';
import type { TraceContext } from '../domain/tracing.js';
import type { LogLine, LogRequest, ObservedRuntime } from './provider.js';

export type LogQuery = Pick<LogRequest, 'tail' | 'sinceMs' | 'follow'>;

export interface LogTenant {
  readonly id: string;
  readonly name: string;
  readonly spec: TenantSpec;
}

export interface StartComputeRequest {
  readonly tenant: { readonly id: string; readonly name: string; readonly spec: TenantSpec };
  readonly operation: ComputeOperation;
  readonly workflowRunId: string;
  readonly generation: number;
  /** Overrides the provider's configured timeout for this operation (retry policy `timeoutMs`). */
  readonly timeoutMs?: number;
  /** The starter's trace context (a step's): the provider call's span is its child. */
  readonly trace?: TraceContext;
  /**
   * The starting step's held journal entries (src/domain/held-journal.ts): the execution's insert
   * carries them, or they are written before it; nothing acts on the provider before that.
   */
  readonly journal?: HeldJournal;
  /**
   * The change that shows the execution on its tenant, built for the execution's id and the
   * status it is inserted with: when this call inserts the execution, the insert may make that
   * change in its own statement (`ExecutionLedger.insertIfAbsent`'s `show`), and `shown` on the
   * answer says so. Null: nothing to change.
   */
  readonly show?: (executionId: string, status: ExecutionStatus) => TenantStatusWrite | null;
}

export interface StartedExecution {
  readonly executionId: string;
  readonly status: ExecutionStatus;
  readonly attempt: number;
  /**
   * The provider's `returnsHealthy` (provider.ts): a succeeded provision or update of this execution
   * already means "runtime healthy, with these endpoints".
   */
  readonly returnsHealthy: boolean;
  /**
   * What became of the request's `show`: `written` (the tenant shows the execution), `stale`
   * (the tenant had changed: nothing of it was written); absent when it was not attempted — the
   * caller makes the change itself in both of the last two cases.
   */
  readonly shown?: 'written' | 'stale';
}

export interface ExecutionView extends ComputeExecution {
  readonly history: readonly ExecutionHistoryEntry[];
}

export interface ExecutionQuery {
  readonly tenantId?: string;
  readonly workflowRunId?: string;
  readonly status?: ExecutionStatus;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface ComputeApi {
  start(request: StartComputeRequest): Promise<StartedExecution>;
  get(executionId: string): Promise<ExecutionView | undefined>;
  list(query: ExecutionQuery): Promise<{ items: readonly ComputeExecution[]; nextCursor: string | null }>;
  /**
   * Observed runtime straight from the engine (drift check, ambiguous outcomes); the provider
   * call's span is a child of `trace` (a step's).
   */
  describe(
    tenant: {
      readonly id: string;
      readonly name: string;
      readonly spec: TenantSpec;
    },
    trace?: TraceContext,
  ): Promise<ObservedRuntime>;
  /**
   * Tenants whose runtime the engine of `provider` (a `spec.provider` value) shows running, in one
   * sweep; null when the provider cannot list (then drift describes each tenant).
   */
  listRunning(provider: string): Promise<ReadonlySet<string> | null>;
  /**
   * The runtime's output through its provider (see runtime-logs.ts); NotSupportedError at once when
   * the provider has no logs.
   */
  logs(tenant: LogTenant, query: LogQuery, signal: AbortSignal): AsyncIterable<LogLine>;
}

export interface EffectiveConfig {
  readonly provider: string;
  readonly config: JsonObject;
}
