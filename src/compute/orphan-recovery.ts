/**
 * Re-drives executions whose owner died (a kill -9 of Lessor at any point; docs/architecture.md,
 * "Crash semantics").
 *
 * Policy: an orphan is re-driven under its own id by calling the provider again — providers are
 * idempotent and observe before they create, so the call finds whatever the dead owner made.
 * - `pending` orphan → `running` (same attempt) → provider call → `succeeded` | `failed`.
 * - `running` orphan → provider call again at the same attempt; no history row is added (history
 *   stays a valid path per EXECUTION_TRANSITIONS), the takeover is logged.
 * The effective config is not stored on the row, so it is rebuilt from the tenant's current spec
 * (or from the request of a `start` call that saw the orphan) and must hash to the row's
 * `configHash`. When it cannot be rebuilt (spec changed since, tenant gone, provider no longer
 * configured) the execution fails with PROVIDER_TIMEOUT (retriable, details `{reason: 'owner
 * lost'}`): the workflow that holds the request retries it under the same id (attempt + 1).
 */
import { ComputeError } from '../domain/compute-error.js';
import type { ComputeExecution } from '../domain/compute-execution.js';
import type { ConfigHasher } from '../domain/config-hasher.js';
import { errorMessage } from '../domain/errors.js';
import type { Phase, TenantSpec } from '../domain/tenant.js';
import { callbackFor, type ExecutionPlan } from './execution-records.js';
import { logFailure, type ExecutionRunner, type RunnerDeps } from './execution-runner.js';

/** Reads a tenant's current spec (the composition root passes `(id) => store.tenants.get(id)`). */
export type TenantLookup = (tenantId: string) => Promise<
  | {
      readonly id: string;
      readonly name: string;
      readonly spec: TenantSpec;
      readonly status?: { readonly phase: Phase };
    }
  | undefined
>;

export interface RecoveryDeps extends RunnerDeps {
  readonly runner: ExecutionRunner;
  readonly hasher: ConfigHasher;
  readonly tenants: TenantLookup | undefined;
  readonly batchSize: number;
}

/**
 * One pass: claims up to `batchSize` orphans and re-drives each. `known` holds plans that `start`
 * calls built for executions they found orphaned (consumed here). Returns how many were re-driven.
 */
export async function recoverOrphans(deps: RecoveryDeps, known: Map<string, ExecutionPlan>): Promise<number> {
  const orphans = await deps.ledger.claimOrphans(deps.owner, deps.now(), deps.leaseMs, deps.batchSize);
  let redriven = 0;
  for (const orphan of orphans) {
    if (deps.runner.has(orphan.executionId)) continue;
    const plan = known.get(orphan.executionId) ?? (await rebuildPlan(deps, orphan));
    known.delete(orphan.executionId);
    if (await redrive(deps, orphan, plan)) redriven += 1;
  }
  return redriven;
}

async function redrive(
  deps: RecoveryDeps,
  orphan: ComputeExecution,
  plan: ExecutionPlan | string,
): Promise<boolean> {
  const log = deps.log.child({
    tenantId: orphan.tenantId,
    operation: orphan.operation,
    executionId: orphan.executionId,
  });
  if (typeof plan === 'string') {
    await giveUp(deps, orphan, plan);
    return false;
  }
  const running = orphan.status === 'pending' ? await toRunning(deps, orphan) : orphan;
  if (!running) return false;
  log.info(
    { previousStatus: orphan.status, attempt: running.attempt },
    're-driving orphaned compute execution',
  );
  deps.runner.launch(running, plan);
  return true;
}

async function toRunning(
  deps: RecoveryDeps,
  orphan: ComputeExecution,
): Promise<ComputeExecution | undefined> {
  const at = new Date(deps.now()).toISOString();
  return deps.ledger.transition(orphan.executionId, {
    from: ['pending'],
    to: 'running',
    attempt: orphan.attempt,
    details: { owner: deps.owner, recovered: true },
    at,
    callback: callbackFor(orphan, { status: 'running', attempt: orphan.attempt, at }),
  });
}

/** The plan for an orphan, or why it cannot be rebuilt. */
async function rebuildPlan(deps: RecoveryDeps, orphan: ComputeExecution): Promise<ExecutionPlan | string> {
  if (!deps.registry.has(orphan.provider)) return `provider '${orphan.provider}' is no longer configured`;
  if (!deps.tenants) return 'no tenant lookup configured';
  try {
    const tenant = await deps.tenants(orphan.tenantId);
    if (!tenant) return 'tenant not found';
    // Re-creating a runtime for a tenant on its way out would orphan it behind the delete.
    const leaving = tenant.status?.phase === 'deleting' || tenant.status?.phase === 'archived';
    if (leaving && orphan.operation !== 'delete') return 'the tenant is being deleted';
    const config = deps.registry.mergedConfig(orphan.provider, tenant.spec.config);
    if (deps.hasher(config) !== orphan.configHash)
      return 'the tenant spec changed since the execution started';
    return {
      executionId: orphan.executionId,
      tenant: { id: tenant.id, name: tenant.name },
      operation: orphan.operation,
      workflowRunId: orphan.workflowRunId,
      generation: orphan.generation,
      provider: orphan.provider,
      config,
      configHash: orphan.configHash,
      timeoutMs: orphan.timeoutMs,
    };
  } catch (error) {
    return `tenant lookup failed: ${errorMessage(error)}`;
  }
}

async function giveUp(deps: RecoveryDeps, orphan: ComputeExecution, cause: string): Promise<void> {
  const error = new ComputeError(
    'PROVIDER_TIMEOUT',
    `execution interrupted: its owner was lost and ${cause}`,
  );
  const at = new Date(deps.now()).toISOString();
  const shape = error.toJSON();
  const row = await deps.ledger.transition(orphan.executionId, {
    from: [orphan.status],
    to: 'failed',
    error: shape,
    details: { code: error.code, reason: 'owner lost', cause },
    at,
    callback: callbackFor(orphan, { status: 'failed', attempt: orphan.attempt, at, error: shape }),
  });
  if (row)
    logFailure(
      deps.log.child({
        tenantId: orphan.tenantId,
        operation: orphan.operation,
        executionId: orphan.executionId,
      }),
      error,
    );
}
