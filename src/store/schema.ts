/**
 * Row types of the one schema both engines share (see migrations/0001-initial.ts). Conventions:
 * ids, RFC 3339 timestamps and JSON documents are text; epoch milliseconds are bigint/integer and
 * come back as numbers on both engines; booleans are 0/1. Only repositories see these rows.
 */
import type { Generated } from 'kysely';

export interface TenantsTable {
  id: string;
  name: string;
  provider: string;
  phase: string;
  generation: number;
  observed_generation: number;
  paused: number;
  spec: string;
  status: string;
  version: number;
  created_at: string;
  updated_at: string;
  archived: number;
  /** Copy of `spec.plan.name` (0009-plans-and-revisions); null for a raw spec. */
  plan_name: string | null;
}

/** The spec of every generation (0009-plans-and-revisions), sealed like `tenants.spec`. */
export interface TenantRevisionsTable {
  tenant_id: string;
  generation: number;
  spec: string;
  actor: string;
  created_at: string;
}

/** A plan: its latest revision number (0009-plans-and-revisions). */
export interface PlansTable {
  name: string;
  revision: number;
  created_at: string;
  updated_at: string;
}

/** One immutable plan revision: `content` is the sealed `{description, spec, allowedOverrides}`. */
export interface PlanRevisionsTable {
  plan_name: string;
  revision: number;
  content: string;
  actor: string;
  created_at: string;
}

export interface TenantLabelsTable {
  tenant_id: string;
  key: string;
  value: string;
}

export interface TenantEventsTable {
  seq: Generated<number>;
  /** Null for events about no tenant (0012-rollouts). */
  tenant_id: string | null;
  type: string;
  actor: string;
  reason: string;
  message: string;
  from_phase: string | null;
  to_phase: string | null;
  generation: number;
  run_id: string | null;
  execution_id: string | null;
  data: string | null;
  at: string;
}

/** Generic runs (0008-generic-workflow-runs): `subject` is the indexed copy of the `subject` tag. */
export interface WorkflowRunsTable {
  run_id: string;
  workflow: string;
  subject: string | null;
  tags: string;
  engine: string;
  state: string;
  attempt: number;
  input: string | null;
  output: string | null;
  error: string | null;
  wake_at: number | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface WorkflowStepsTable {
  run_id: string;
  seq: number;
  name: string;
  kind: string;
  status: string;
  result: string | null;
  error: string | null;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
}

export interface WorkflowPromisesTable {
  run_id: string;
  key: string;
  value: string | null;
  resolved_at: string;
}

export interface ComputeExecutionsTable {
  execution_id: string;
  tenant_id: string;
  workflow_run_id: string;
  operation: string;
  provider: string;
  status: string;
  attempt: number;
  timeout_ms: number;
  generation: number;
  config_hash: string;
  resources: string;
  endpoints: string;
  partial: string | null;
  error: string | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface ComputeExecutionHistoryTable {
  execution_id: string;
  seq: number;
  status: string;
  attempt: number;
  at: string;
  details: string;
}

export interface CallbacksTable {
  id: string;
  execution_id: string;
  workflow_run_id: string;
  tenant_id: string;
  payload: string;
  state: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  request_hash: string;
  state: string;
  status_code: number | null;
  response_body: string | null;
  response_headers: string;
  created_at: string;
  expires_at: number;
}

/** Append-only: the migration refuses UPDATE and DELETE (see migrations/0004-audit-records.ts). */
export interface AuditRecordsTable {
  id: string;
  at: string;
  actor: string;
  action: string;
  target_id: string;
  target_name: string;
  details: string;
}

/** One row (id 1), rewritten by every write probe. */
export interface HealthProbeTable {
  id: number;
  written_at: string;
}

/** Deployment secrets (the config-hash key), sealed under the secrets key (0007-server-secrets). */
export interface ServerSecretsTable {
  name: string;
  value: string;
  created_at: string;
}

/** Webhook subscriptions (0011-webhooks); `secret` columns hold sealed values. */
export interface WebhooksTable {
  id: string;
  url: string;
  description: string;
  events: string;
  event_filter: string;
  enabled: number;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  created_at: string;
  updated_at: string;
}

export interface WebhookDeliveriesTable {
  webhook_id: string;
  message_id: string;
  event_type: string;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  window_start: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
  finished_at: string | null;
  /** W3C traceparent of the context that queued the delivery (null: none recorded). */
  traceparent: string | null;
}

export interface WebhookDeliveryAttemptsTable {
  webhook_id: string;
  message_id: string;
  attempt: number;
  started_at: string;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
}

/** Rollouts (0012-rollouts): JSON documents in text columns, `phase` copied out of `control`. */
export interface RolloutsTable {
  id: string;
  description: string;
  selector: string;
  change: string;
  strategy: string;
  failure_policy: string;
  phase: string;
  control: string;
  wave_times: string;
  total: number;
  created_by: string;
  created_by_role: string;
  version: number;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

/** A tenant's place in a rollout; `previous_spec` is sealed like `tenants.spec`. */
export interface RolloutMembersTable {
  rollout_id: string;
  ordinal: number;
  tenant_id: string;
  tenant_name: string;
  wave: number;
  state: string;
  active_tenant_id: string | null;
  snapshot_generation: number;
  from_generation: number | null;
  to_generation: number | null;
  rollback_generation: number | null;
  previous_spec: string | null;
  merged: number;
  error: string | null;
  started_at: string | null;
  healthy_since: string | null;
  finished_at: string | null;
}

export interface Database {
  tenants: TenantsTable;
  tenant_labels: TenantLabelsTable;
  tenant_events: TenantEventsTable;
  workflow_runs: WorkflowRunsTable;
  workflow_steps: WorkflowStepsTable;
  workflow_promises: WorkflowPromisesTable;
  compute_executions: ComputeExecutionsTable;
  compute_execution_history: ComputeExecutionHistoryTable;
  callbacks: CallbacksTable;
  idempotency_keys: IdempotencyKeysTable;
  audit_records: AuditRecordsTable;
  health_probe: HealthProbeTable;
  server_secrets: ServerSecretsTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_delivery_attempts: WebhookDeliveryAttemptsTable;
  tenant_revisions: TenantRevisionsTable;
  plans: PlansTable;
  plan_revisions: PlanRevisionsTable;
  rollouts: RolloutsTable;
  rollout_members: RolloutMembersTable;
}
