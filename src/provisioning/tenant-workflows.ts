/**
 * The `provision`, `update`, `delete`, `suspend` and `resume` workflow definitions
 * (docs/architecture.md, "Workflows and the retry policy"), written once against the generic
 * workflow context so every engine runs them unchanged. Shape of
 * each: load and record intent (phase), one step → compute → await callback → health → settle
 * (phase, observedGeneration). Suspend and resume work in `updating` and settle in `suspended` and `ready`.
 */
import type { ComputeErrorShape } from '../domain/compute-error.js';
import type { ConditionUpdate } from '../domain/conditions.js';
import { resolveRetryPolicy } from '../domain/retry-policy.js';
import type { TenantChange } from '../domain/tenant-change.js';
import type { ComputeOperation, Phase } from '../domain/tenant.js';
import { TerminalWorkflowError, type WorkflowContext, type WorkflowDefinition } from '../workflow/context.js';
import { computeWithPolicy, type PolicyFailed, type PolicySucceeded } from './compute-with-policy.js';
import type { ProvisioningDeps, TenantWorkflowInput } from './provisioning-deps.js';
import { TenantSteps, type TenantSnapshot } from './tenant-steps.js';

export interface TenantWorkflowResult {
  readonly result: 'ready' | 'suspended' | 'archived' | 'stood-down';
  readonly generation?: number;
  readonly executionId?: string;
}

interface OperationProfile {
  readonly operation: ComputeOperation;
  /** Phase the tenant is in while the run works. */
  readonly workingPhase: Phase;
  /**
   * Describe the runtime after the operation and require it healthy. Not after resume: the provider
   * contract has resume itself wait for the runtime's health check (the provider conformance suite
   * checks that describe reports it healthy right after), so a second check only adds engine calls
   * to resume→ready (bench/sections/resume.ts).
   */
  readonly checkHealth: boolean;
  /** Phase a success settles the tenant in. */
  readonly settledPhase: Phase;
}

const PROFILES: Readonly<Record<ComputeOperation, OperationProfile>> = {
  provision: {
    operation: 'provision',
    workingPhase: 'provisioning',
    checkHealth: true,
    settledPhase: 'ready',
  },
  update: { operation: 'update', workingPhase: 'updating', checkHealth: true, settledPhase: 'ready' },
  delete: { operation: 'delete', workingPhase: 'deleting', checkHealth: false, settledPhase: 'archived' },
  suspend: { operation: 'suspend', workingPhase: 'updating', checkHealth: false, settledPhase: 'suspended' },
  resume: { operation: 'resume', workingPhase: 'updating', checkHealth: false, settledPhase: 'ready' },
};

/** Operations that keep the runtime as it was made (they apply no config). */
function keepsRuntime(operation: ComputeOperation): boolean {
  return operation === 'suspend' || operation === 'resume';
}

export function tenantWorkflows(
  deps: ProvisioningDeps,
): readonly WorkflowDefinition<TenantWorkflowInput, TenantWorkflowResult>[] {
  return (Object.keys(PROFILES) as ComputeOperation[]).map((operation) => ({
    name: operation,
    run: (ctx, input) => runTenantWorkflow(ctx, deps, PROFILES[operation], input),
  }));
}

async function runTenantWorkflow(
  ctx: WorkflowContext,
  deps: ProvisioningDeps,
  profile: OperationProfile,
  input: TenantWorkflowInput,
): Promise<TenantWorkflowResult> {
  const steps = new TenantSteps(ctx, deps, input.tenantId);
  const started = await steps.start((tenant) => startChange(ctx, profile, tenant));
  if (!started) throw new TerminalWorkflowError(`tenant ${input.tenantId} no longer exists`);
  const { snapshot: tenant, phase } = started;
  if (phase !== profile.workingPhase) return { result: 'stood-down' };

  const policy = resolveRetryPolicy(deps.retryPolicies[profile.operation], tenant.retryPolicy);
  const providerTimeoutMs = deps.providerTimeoutMs(tenant.provider);
  const callTimeoutMs = policy.timeoutMs ?? providerTimeoutMs;
  // A provision or update still in flight (a cancelled run's) would undo a delete or a suspend.
  if (profile.operation === 'delete' || profile.operation === 'suspend') {
    await steps.awaitQuiet(callTimeoutMs + deps.awaitGraceMs);
  }
  const outcome = await computeWithPolicy(steps, {
    operation: profile.operation,
    policy,
    callTimeoutMs,
    awaitGraceMs: deps.awaitGraceMs,
    checkHealth: profile.checkHealth,
    workingPhase: profile.workingPhase,
  });
  if (outcome.ok) return settleSucceeded(ctx, steps, profile, outcome);
  if (outcome.stoodDown) return { result: 'stood-down' };
  return settleFailed(ctx, steps, deps, profile, outcome, providerTimeoutMs);
}

function startChange(
  ctx: WorkflowContext,
  profile: OperationProfile,
  tenant: TenantSnapshot,
): Omit<TenantChange, 'actor'> {
  return {
    phase: {
      to: profile.workingPhase,
      reason: `${capitalise(profile.operation)}Started`,
      message: `${profile.operation} run started`,
      runId: ctx.runId,
    },
    status: {
      workflow: { runId: ctx.runId, action: profile.operation, state: 'running', attempt: 1 },
      message: `${profile.operation} of generation ${tenant.generation} in progress`,
    },
    conditions: [
      { type: 'Reconciling', status: 'True', reason: `${capitalise(profile.operation)}Started` },
      ...(profile.operation === 'delete'
        ? []
        : [{ type: 'Ready', status: 'False', reason: 'Reconciling' } as const]),
    ],
  };
}

async function settleSucceeded(
  ctx: WorkflowContext,
  steps: TenantSteps,
  profile: OperationProfile,
  outcome: PolicySucceeded,
): Promise<TenantWorkflowResult> {
  const deleted = profile.operation === 'delete';
  const suspended = profile.settledPhase === 'suspended';
  const settled = profile.settledPhase;
  // Suspend and resume apply no config: the generation counts as observed only when the runtime
  // already runs the current config (else the controller updates it once it runs again).
  const observed =
    !deleted &&
    (!keepsRuntime(profile.operation) || (await steps.runtimeMatches('settled', outcome.executionId)));
  const phase = await steps.setStatus('settled', {
    phase: {
      to: settled,
      reason: `${capitalise(profile.operation)}Succeeded`,
      runId: ctx.runId,
      executionId: outcome.executionId,
    },
    status: {
      ...(observed ? { observedGeneration: outcome.generation } : {}),
      message: settledMessage(profile.operation, outcome.generation, observed),
      compute: { executionId: outcome.executionId, operation: profile.operation, status: 'succeeded' },
      workflow: { runId: ctx.runId, action: profile.operation, state: 'succeeded', attempt: 1 },
      resources: deleted ? {} : outcome.resources,
      endpoints: deleted || suspended ? [] : outcome.endpoints,
      lastError: null,
    },
    conditions: [
      { type: 'Reconciling', status: 'False', reason: 'Settled' },
      { type: 'Degraded', status: 'False', reason: 'Healthy' },
      ...(deleted
        ? []
        : suspended
          ? [
              {
                type: 'Ready',
                status: 'False',
                reason: 'Suspended',
                message: 'spec.suspended is true',
              } as const,
            ]
          : [{ type: 'Ready', status: 'True', reason: 'RuntimeReady' } as const]),
    ],
  });
  if (phase !== settled) return { result: 'stood-down' };
  return {
    result: settled === 'ready' ? 'ready' : settled === 'suspended' ? 'suspended' : 'archived',
    generation: outcome.generation,
    executionId: outcome.executionId,
  };
}

function settledMessage(operation: ComputeOperation, generation: number, observed: boolean): string {
  if (operation === 'delete') return 'runtime removed';
  if (operation === 'suspend') {
    return observed
      ? 'runtime suspended; its resources and data are kept'
      : 'runtime suspended; the newer spec applies on resume';
  }
  if (!observed) return 'runtime resumed; the newer spec is applied next';
  return `runtime matches generation ${generation}`;
}

async function settleFailed(
  ctx: WorkflowContext,
  steps: TenantSteps,
  deps: ProvisioningDeps,
  profile: OperationProfile,
  outcome: PolicyFailed,
  providerTimeoutMs: number,
): Promise<TenantWorkflowResult> {
  let reason = `${capitalise(profile.operation)}Failed`;
  if (outcome.action === 'rollback' && profile.operation === 'provision') {
    reason = await rollback(steps, deps, outcome, providerTimeoutMs);
  }
  const failed: Omit<TenantChange, 'actor'> = {
    phase: {
      to: 'failed',
      reason,
      message: outcome.error.message,
      runId: ctx.runId,
      executionId: outcome.executionId,
    },
    status: {
      message: `${profile.operation} failed after ${outcome.attempts} attempt(s): ${outcome.error.code}`,
      compute: { executionId: outcome.executionId, operation: profile.operation, status: 'failed' },
      workflow: { runId: ctx.runId, action: profile.operation, state: 'failed', attempt: outcome.attempts },
      lastError: outcome.error,
    },
    conditions: failureConditions(outcome.action, outcome.error),
  };
  // Only from the working phase: `deleting → failed` is legal, but a tenant deleted meanwhile keeps its delete.
  const phase = await steps.setStatus('failed', failed, { onlyFrom: profile.workingPhase });
  if (phase !== 'failed') return { result: 'stood-down' };
  throw new TerminalWorkflowError(`${profile.operation} failed: ${outcome.error.code}`, {
    error: outcome.error,
    reason,
  });
}

/** `rollback` removes what a failed provision created (its partial resources) before failing. */
async function rollback(
  steps: TenantSteps,
  deps: ProvisioningDeps,
  failed: PolicyFailed,
  providerTimeoutMs: number,
): Promise<string> {
  const policy = resolveRetryPolicy(deps.retryPolicies.delete, { onError: {} });
  const removal = await computeWithPolicy(steps, {
    operation: 'delete',
    policy,
    callTimeoutMs: policy.timeoutMs ?? providerTimeoutMs,
    awaitGraceMs: deps.awaitGraceMs,
    checkHealth: false,
    workingPhase: 'provisioning',
  });
  if (removal.ok) return `RolledBack:${failed.error.code}`;
  return removal.stoodDown ? `RollbackSkipped:${failed.error.code}` : `RollbackFailed:${removal.error.code}`;
}

function failureConditions(action: string, error: ComputeErrorShape): ConditionUpdate[] {
  const conditions: ConditionUpdate[] = [
    { type: 'Reconciling', status: 'False', reason: 'Failed' },
    { type: 'Ready', status: 'False', reason: error.code, message: error.message },
  ];
  if (action === 'pause') {
    conditions.push({ type: 'Paused', status: 'True', reason: `PausedOnError`, message: error.code });
  }
  const manual = error.classification === 'manual_intervention' || action === 'pause';
  conditions.push({
    type: 'Degraded',
    status: 'True',
    reason: manual ? 'ManualInterventionRequired' : error.code,
    message: error.message,
  });
  return conditions;
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
