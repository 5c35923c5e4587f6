/**
 * What the provision/update/delete workflows need from the rest of Lessor. Kept small so both
 * engines (embedded, restate) can run the same definitions with the same dependencies.
 */
import type { ComputeApi } from '../compute/compute-api.js';
import type { RetryPolicyConfig } from '../domain/retry-policy.js';
import type { TenantHandoff } from '../domain/tenant-handoff.js';
import type { TenantRepository } from '../store/store.js';

export interface ProvisioningDeps {
  readonly compute: Pick<ComputeApi, 'start' | 'get' | 'describe' | 'list'>;
  /** Reads answer effective specs (plan-specs.ts); `changeFrom` never writes the spec it is given. */
  readonly tenants: Pick<TenantRepository, 'get' | 'changeFrom'>;
  /** Global per-operation retry policy (config `retryPolicy`); `spec.retryPolicy` overrides it. */
  readonly retryPolicies: RetryPolicyConfig;
  /**
   * Extra time an `awaitCompute` waits beyond the provider timeout before it falls back to querying
   * the execution (the callback normally arrives long before).
   */
  readonly awaitGraceMs: number;
  /** A provider's configured per-call timeout (`compute.providers.<type>.timeoutMs`); unset: the default provider's. */
  readonly providerTimeoutMs: (provider: string | undefined) => number;
  /**
   * The tenant the reconcile that started a run read, for the run's first step to change without
   * reading it again (src/domain/tenant-handoff.ts); the controller's reconciler offers it.
   */
  readonly handoff?: TenantHandoff;
}

/** Input of every tenant workflow run. The spec is read inside steps, never copied into the run. */
export interface TenantWorkflowInput {
  readonly tenantId: string;
  readonly generation: number;
}
