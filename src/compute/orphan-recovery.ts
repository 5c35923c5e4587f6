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
 * and must hash to the row's `configHash` — except when a `start` call met the orphan: it holds the
 * request's plan and takes that one execution over directly (`recoverOne`). When it cannot be rebuilt (spec changed since, tenant gone, provider no longer
 * configured) the execution fails with PROVIDER_TIMEOUT (retriable, details `{reason: 'owner
 * lost'}`): the workflow that holds the request retries it under the same id (attempt + 1).
 */
import { ComputeError } from '../domain/compute-error.js';
import type { ComputeExecution } from '../domain/compute-execution.js';
import type { ConfigHasher } from '../domain/config-hasher.js';
import { errorMessage } from '../domain/errors.js';
import type { Phase, TenantSpec } from '../domain/tenant.js';
import { callbackFor, planFor, toRunning, type ExecutionPlan } from './execution-records.js';
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

/** An orphan's plan, rebuilt from the tenant's current spec, or why it cannot be. */
export type RebuiltPlan =
  { readonly ok: true; readonly plan: ExecutionPlan } | { readonly ok: false; readonly reason: string };

/** One pass: claims up to `batchSize` orphans and re-drives each. Returns how many were re-driven. */
export async function recoverOrphans(deps: RecoveryDeps): Promise<number> {
  const orphans = await deps.ledger.claimOrphans(deps.owner, deps.now(), deps.leaseMs, deps.batchSize);
  let redriven = 0;
  for (const orphan of orphans) {
    if (deps.runner.has(orphan.executionId)) continue;
    if (await redrive(deps, orphan, await rebuildPlan(deps, orphan))) redriven += 1;
  }
  return redriven;
}

/**
 * Takes over the one orphan a `start` call met, with that call's plan: claims it by id (nothing
 * happens when its lease is live or another process claimed it first) and re-drives it.
 * Returns whether it was re-driven.
 */
export async function recoverOne(
  deps: RecoveryDeps,
  orphan: ComputeExecution,
  plan: ExecutionPlan,
): Promise<boolean> {
  const { ledger, owner, now, leaseMs } = deps;
  const [claimed] = await ledger.claimOrphans(owner, now(), leaseMs, 1, orphan.executionId);
  if (!claimed || deps.runner.has(claimed.executionId)) return false;
  return redrive(deps, claimed, { ok: true, plan });
}

async function redrive(deps: RecoveryDeps, orphan: ComputeExecution, rebuilt: RebuiltPlan): Promise<boolean> {
  if (!rebuilt.ok) {
    await giveUp(deps, orphan, rebuilt.reason);
    return false;
  }
  const running =
    orphan.status === 'pending'
      ? await deps.ledger.transition(
          orphan.executionId,
          toRunning(orphan, {
            from: 'pending',
            attempt: orphan.attempt,
            owner: deps.owner,
            at: new Date(deps.now()).toISOString(),
            recovered: true,
          }),
        )
      : orphan;
  if (!running) return false;
  logFor(deps, orphan).info(
    { previousStatus: orphan.status, attempt: running.attempt },
    're-driving orphaned compute execution',
  );
  deps.runner.launch(running, rebuilt.plan);
  return true;
}

async function rebuildPlan(deps: RecoveryDeps, orphan: ComputeExecution): Promise<RebuiltPlan> {
  const fail = (reason: string): RebuiltPlan => ({ ok: false, reason });
  if (!deps.registry.has(orphan.provider))
    return fail(`provider '${orphan.provider}' is no longer configured`);
  if (!deps.tenants) return fail('no tenant lookup configured');
  try {
    const tenant = await deps.tenants(orphan.tenantId);
    if (!tenant) return fail('tenant not found');
    // Re-creating a runtime for a tenant on its way out would orphan it behind the delete.
    const leaving = tenant.status?.phase === 'deleting' || tenant.status?.phase === 'archived';
    if (leaving && orphan.operation !== 'delete') return fail('the tenant is being deleted');
    const plan = planFor(deps.registry, deps.hasher, {
      tenant,
      provider: orphan.provider,
      specConfig: tenant.spec.config,
      operation: orphan.operation,
      workflowRunId: orphan.workflowRunId,
      generation: orphan.generation,
      timeoutMs: orphan.timeoutMs,
    });
    if (plan.configHash !== orphan.configHash)
      return fail('the tenant spec changed since the execution started');
    return { ok: true, plan };
  } catch (error) {
    return fail(`tenant lookup failed: ${errorMessage(error)}`);
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
  if (row) logFailure(logFor(deps, orphan), error);
}

function logFor(deps: RecoveryDeps, orphan: ComputeExecution) {
  const { tenantId, operation, executionId } = orphan;
  return deps.log.child({ tenantId, operation, executionId });
}
