/**
 * Wire types of the HTTP API v1, inferred from the zod schemas. Type-only: the CLI imports this
 * without loading zod, fastify or any server code.
 */
import type { z } from 'zod';
import type {
  CreateTenantRequestSchema,
  ProblemSchema,
  ReplaceSpecRequestSchema,
  TenantListSchema,
  TenantPatchSchema,
  TenantSchema,
  TenantSpecRequestSchema,
  TenantSpecSchema,
  TenantStatusSchema,
} from './schemas.js';
import type {
  AuditRecordListSchema,
  CallbackListSchema,
  CallbackSchema,
  ExecutionListSchema,
  ExecutionWithHistorySchema,
  ExecutionSchema,
  ProviderListSchema,
  TenantEventListSchema,
  TenantEventSchema,
  WorkflowRunSchema,
} from './schemas-resources.js';
import type {
  CreatePlanRequestSchema,
  DryRunTenantSchema,
  PlanListSchema,
  PlanRevisionListSchema,
  PlanRevisionSchema,
  PlanSchema,
  ReplacePlanRequestSchema,
  SpecDiffSchema,
  TenantRevisionListSchema,
} from './schemas-plans.js';
import type {
  CreateRolloutRequestSchema,
  RolloutDryRunSchema,
  RolloutListSchema,
  RolloutMemberListSchema,
  RolloutSchema,
} from './schemas-rollouts.js';
import type { TenantSummarySchema, WhoAmISchema } from './schemas-overview.js';
import type { CallbacksQuery, EventPageQuery, ExecutionsQuery, ListTenantsQuery } from './schemas-query.js';
import type { Phase } from '../domain/tenant.js';

export type Tenant = z.output<typeof TenantSchema>;
export type TenantRevisionList = z.output<typeof TenantRevisionListSchema>;
export type TenantRevision = TenantRevisionList['items'][number];
export type TenantSpec = z.output<typeof TenantSpecSchema>;
/** A dry run's answer: the tenant as the write would leave it, and the RFC 6902 `diff` from now. */
export type DryRunTenant = z.output<typeof DryRunTenantSchema>;
export type SpecDiff = z.output<typeof SpecDiffSchema>;
export type PatchOperation = SpecDiff['patch'][number];
export type Plan = z.output<typeof PlanSchema>;
export type PlanList = z.output<typeof PlanListSchema>;
export type PlanRevision = z.output<typeof PlanRevisionSchema>;
export type PlanRevisionList = z.output<typeof PlanRevisionListSchema>;
export type CreatePlanRequest = z.input<typeof CreatePlanRequestSchema>;
export type ReplacePlanRequest = z.input<typeof ReplacePlanRequestSchema>;
export type TenantStatus = z.output<typeof TenantStatusSchema>;
/** `spec` as a client sends it (provider and most fields optional). */
export type TenantSpecInput = z.input<typeof TenantSpecRequestSchema>;
export type CreateTenantRequest = z.input<typeof CreateTenantRequestSchema>;
export type ReplaceSpecRequest = z.input<typeof ReplaceSpecRequestSchema>;
export type TenantPatch = z.input<typeof TenantPatchSchema>;
export type TenantList = z.output<typeof TenantListSchema>;
export type TenantEvent = z.output<typeof TenantEventSchema>;
export type TenantEventList = z.output<typeof TenantEventListSchema>;
export type ComputeExecution = z.output<typeof ExecutionSchema>;
export type ComputeExecutionList = z.output<typeof ExecutionListSchema>;
export type ComputeExecutionWithHistory = z.output<typeof ExecutionWithHistorySchema>;
export type WorkflowRun = z.output<typeof WorkflowRunSchema>;
export type ProviderList = z.output<typeof ProviderListSchema>;
export type Callback = z.output<typeof CallbackSchema>;
export type CallbackList = z.output<typeof CallbackListSchema>;
export type AuditRecordList = z.output<typeof AuditRecordListSchema>;
export type WhoAmI = z.output<typeof WhoAmISchema>;
export type TenantSummary = z.output<typeof TenantSummarySchema>;
export type Problem = z.output<typeof ProblemSchema>;
export type Rollout = z.output<typeof RolloutSchema>;
export type RolloutList = z.output<typeof RolloutListSchema>;
export type RolloutDryRun = z.output<typeof RolloutDryRunSchema>;
export type RolloutMemberList = z.output<typeof RolloutMemberListSchema>;
export type CreateRolloutRequest = z.input<typeof CreateRolloutRequestSchema>;
export type RolloutPhase = Rollout['status']['phase'];
export type RolloutMemberState = RolloutMemberList['items'][number]['state'];
export type RolloutCommand = 'pause' | 'resume' | 'promote' | 'abort' | 'rollback';
export type ProblemCode = Problem['code'];
export type JsonSchemaDocument = Readonly<Record<string, unknown>>;

/** Query of `GET /v1/tenants`; `labels` is a selector string such as `plan=pro,tier!=free`. */
export interface ListTenantsParams {
  readonly limit?: number;
  readonly cursor?: string;
  readonly phase?: Phase;
  readonly provider?: string;
  readonly labels?: string;
  readonly q?: string;
  readonly includeArchived?: boolean;
}
export type PageParams = Pick<z.input<typeof EventPageQuery>, 'cursor'> & { readonly limit?: number };
export type ExecutionsParams = Omit<z.input<typeof ExecutionsQuery>, 'limit'> & { readonly limit?: number };
export type CallbacksParams = Omit<z.input<typeof CallbacksQuery>, 'limit'> & { readonly limit?: number };
/** Compile-time check that the params above stay in line with the server's query schema. */
export type ListTenantsQueryKeys = keyof z.input<typeof ListTenantsQuery>;

/** One Server-Sent Event of `GET /v1/events`. */
export interface StreamEvent {
  /** The event sequence number (`id:` line), usable as `since` / `Last-Event-ID`. */
  readonly id: number;
  readonly event: string;
  readonly data: TenantEvent;
}
