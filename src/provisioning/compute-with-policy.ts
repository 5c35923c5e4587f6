/**
 * The retry loop shared by every tenant workflow: start the execution, await its callback, check
 * health, and on failure let the declared retry policy (docs/architecture.md) decide — retry under the same
 * execution id after a backoff, or stop with `fail | pause | rollback` for the workflow to act on.
 */
import type { ComputeErrorShape } from '../domain/compute-error.js';
import { backoffMs, decideOnError, type ErrorAction, type RetryPolicy } from '../domain/retry-policy.js';
import type { ComputeOperation, Endpoint, Phase } from '../domain/tenant.js';
import type { ComputeOutcome, TenantSteps } from './tenant-steps.js';

export interface PolicySucceeded {
  readonly ok: true;
  readonly executionId: string;
  /** The tenant generation the runtime now matches. */
  readonly generation: number;
  readonly resources: Readonly<Record<string, string>>;
  readonly endpoints: readonly Endpoint[];
}

export interface PolicyFailed {
  readonly ok: false;
  readonly stoodDown?: never;
  readonly executionId: string;
  readonly error: ComputeErrorShape;
  readonly action: Exclude<ErrorAction, 'retry'>;
  readonly attempts: number;
}

/** The tenant left the run's working phase before an attempt (deleted meanwhile): nothing was started. */
export interface PolicyStoodDown {
  readonly ok: false;
  readonly stoodDown: true;
}

export type PolicyOutcome = PolicySucceeded | PolicyFailed | PolicyStoodDown;

export interface ComputeWithPolicyOptions {
  readonly operation: ComputeOperation;
  readonly policy: RetryPolicy;
  /** One provider call's timeout: the policy's `timeoutMs`, else the provider's configured one. */
  readonly callTimeoutMs: number;
  readonly awaitGraceMs: number;
  /** Check the runtime's health after success (provision/update; not delete, suspend or resume). */
  readonly checkHealth: boolean;
  /** The phase the run works in; no attempt starts once the tenant has left it. */
  readonly workingPhase: Phase;
}

export async function computeWithPolicy(
  steps: TenantSteps,
  options: ComputeWithPolicyOptions,
): Promise<PolicyOutcome> {
  const { operation, policy, callTimeoutMs } = options;
  for (let attempt = 1; ; attempt++) {
    const started = await steps.compute(operation, attempt, callTimeoutMs, options.workingPhase);
    if (!started) return { ok: false, stoodDown: true };
    let outcome: ComputeOutcome = await steps.awaitCompute(
      started.executionId,
      started.attempt,
      callTimeoutMs + options.awaitGraceMs,
    );
    // A provider that returns healthy (provider.ts `returnsHealthy`) and every resume already
    // waited for the runtime's health check: its success is taken as is, without a describe.
    const providerChecked = started.returnsHealthy === true || operation === 'resume';
    if (outcome.ok && options.checkHealth && !providerChecked) {
      const health = await steps.health(`${operation}#${attempt}`);
      outcome = health.ok ? { ...health, resources: { ...outcome.resources, ...health.resources } } : health;
    } else if (outcome.ok && outcome.endpointsUnknown && (options.checkHealth || operation === 'resume')) {
      // The callback did not carry the endpoints; the execution record has them.
      const recorded = await steps.recorded(`${operation}#${attempt}`, started.executionId, started.attempt);
      if (recorded?.ok) outcome = recorded;
    }
    if (outcome.ok) return { ...outcome, executionId: started.executionId, generation: started.generation };

    const action = decideOnError(policy, outcome.error, attempt);
    if (action !== 'retry') {
      return { ok: false, executionId: started.executionId, error: outcome.error, action, attempts: attempt };
    }
    const delay = await steps.delay(`backoff#${attempt}`, () =>
      backoffMs(policy, attempt, outcome.error.retryAfterMs),
    );
    const phase = await steps.setStatus(
      `retrying#${attempt}`,
      {
        status: {
          compute: { executionId: started.executionId, operation, status: 'failed' },
          lastError: outcome.error,
          message: `${operation} attempt ${attempt} failed (${outcome.error.code}); retrying in ${delay} ms`,
        },
        conditions: [
          { type: 'Degraded', status: 'True', reason: 'Retrying', message: outcome.error.message },
        ],
      },
      { onlyFrom: options.workingPhase },
    );
    if (phase !== options.workingPhase) return { ok: false, stoodDown: true };
    await steps.sleep(`backoff#${attempt}`, delay);
  }
}
