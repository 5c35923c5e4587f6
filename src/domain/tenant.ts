/**
 * The tenant resource (docs/api.md, "Tenants"): `spec` is desired state written by users, `status` is
 * observed state written by the control plane. All data is readonly; changes are computed by
 * `applyTenantChange` (tenant-change.ts), the single place that moves a tenant forward.
 */
import type { ComputeErrorShape } from './compute-error.js';
import type { RetryPolicyOverride } from './retry-policy.js';

export const PHASES = ['requested', 'provisioning', 'ready', 'updating', 'deleting', 'archived', 'failed'] as const;
export type Phase = (typeof PHASES)[number];

export const CONDITION_TYPES = ['Ready', 'Reconciling', 'Degraded', 'Paused'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];
export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  readonly type: ConditionType;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly observedGeneration: number;
}

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [k: string]: JsonValue };
export type JsonObject = { readonly [k: string]: JsonValue };

export interface TenantSpec {
  /** Provider type; resolved to the configured default when the user leaves it out. */
  readonly provider: string;
  readonly config: JsonObject;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly retryPolicy: RetryPolicyOverride | null;
  readonly paused: boolean;
}

export interface Endpoint {
  readonly name: string;
  readonly url: string;
}

import type { ComputeOperation, ExecutionStatus, RunState, WorkflowAction } from './operations.js';

export type { ComputeOperation, ExecutionStatus, RunState, WorkflowAction } from './operations.js';

export interface ComputeSummary {
  readonly executionId: string;
  readonly operation: ComputeOperation;
  readonly status: ExecutionStatus;
}

export interface WorkflowSummary {
  readonly runId: string;
  readonly action: WorkflowAction;
  readonly state: RunState;
  readonly attempt: number;
}

export interface TenantStatus {
  readonly phase: Phase;
  readonly observedGeneration: number;
  readonly message: string;
  readonly compute: ComputeSummary | null;
  readonly workflow: WorkflowSummary | null;
  readonly resources: Readonly<Record<string, string>>;
  readonly endpoints: readonly Endpoint[];
  readonly lastError: ComputeErrorShape | null;
  readonly conditions: readonly Condition[];
}

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly spec: TenantSpec;
  readonly generation: number;
  readonly status: TenantStatus;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** DNS label (RFC 1123): what a tenant name must look like, everywhere it is used. */
export const TENANT_NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function isValidTenantName(name: string): boolean {
  return TENANT_NAME_PATTERN.test(name);
}

/** Terminal phases: nothing moves on its own from here (ready and failed are steady, archived is final). */
export function isSteadyPhase(phase: Phase): boolean {
  return phase === 'ready' || phase === 'failed' || phase === 'archived';
}

export function initialStatus(): TenantStatus {
  return {
    phase: 'requested',
    observedGeneration: 0,
    message: 'accepted, waiting for the controller',
    compute: null,
    workflow: null,
    resources: {},
    endpoints: [],
    lastError: null,
    conditions: [],
  };
}
