/**
 * Wire schemas of everything around tenants: events, compute executions, workflow runs, providers,
 * callbacks, health. Response schemas are plain objects, so internal fields (leases, wake-up times)
 * are stripped on the way out. No fastify here.
 */
import { z } from 'zod';
import { COMPUTE_OPERATIONS } from '../domain/operations.js';
import { PHASES } from '../domain/tenant.js';
import { ComputeErrorSchema, RUN_STATES } from './schemas.js';

const stringMap = z.record(z.string(), z.string());
const executionStatus = z.enum(['pending', 'running', 'succeeded', 'failed']);
const operation = z.enum(COMPUTE_OPERATIONS);
const nullableString = z.string().nullable();

export const TenantEventSchema = z
  .object({
    seq: z.number(),
    tenantId: nullableString.describe(
      'Null for an event about no single tenant (`rollout.*` phase changes).',
    ),
    at: z.string(),
    type: z.string(),
    actor: z.string(),
    reason: z.string(),
    message: z.string(),
    fromPhase: z.enum(PHASES).nullable(),
    toPhase: z.enum(PHASES).nullable(),
    generation: z.number(),
    runId: nullableString,
    executionId: nullableString,
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({
    id: 'TenantEvent',
    description: 'One entry of the event history; `seq` is also the SSE event id.',
  });

export const TenantEventListSchema = z
  .object({ items: z.array(TenantEventSchema).readonly(), nextCursor: nullableString })
  .meta({ id: 'TenantEventList' });

export const ExecutionSchema = z
  .object({
    executionId: z.string(),
    tenantId: z.string(),
    workflowRunId: z.string(),
    operation,
    provider: z.string(),
    status: executionStatus,
    attempt: z.number(),
    timeoutMs: z.number(),
    generation: z.number(),
    configHash: z.string(),
    resources: stringMap,
    endpoints: z.array(z.object({ name: z.string(), url: z.string() })).readonly(),
    partial: z.unknown().nullable(),
    error: ComputeErrorSchema.nullable(),
    createdAt: z.string(),
    startedAt: nullableString,
    finishedAt: nullableString,
  })
  .meta({ id: 'ComputeExecution' });

export const ExecutionListSchema = z
  .object({ items: z.array(ExecutionSchema).readonly(), nextCursor: nullableString })
  .meta({ id: 'ComputeExecutionList' });

export const ExecutionHistoryEntrySchema = z
  .object({
    seq: z.number(),
    status: executionStatus,
    attempt: z.number(),
    at: z.string(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'ExecutionHistoryEntry' });

export const ExecutionWithHistorySchema = ExecutionSchema.extend({
  history: z.array(ExecutionHistoryEntrySchema).readonly(),
}).meta({ id: 'ComputeExecutionWithHistory' });

export const WorkflowStepSchema = z
  .object({
    seq: z.number(),
    name: z.string(),
    kind: z.enum(['step', 'sleep', 'promise']),
    status: z.enum(['started', 'completed', 'failed']),
    result: z.unknown(),
    error: z.unknown(),
    startedAt: z.string(),
    finishedAt: nullableString,
    durationMs: z.number().nullable(),
  })
  .meta({ id: 'WorkflowStep' });

export const WorkflowRunSchema = z
  .object({
    runId: z.string(),
    tenantId: z.string(),
    action: operation,
    engine: z.enum(['embedded', 'restate']),
    state: z.enum(RUN_STATES),
    attempt: z.number(),
    triggerSource: z.enum(['api', 'controller', 'retry']),
    generation: z.number(),
    configHash: z.string(),
    input: z.unknown(),
    output: z.unknown(),
    error: z.unknown(),
    createdAt: z.string(),
    updatedAt: z.string(),
    finishedAt: nullableString,
    steps: z.array(WorkflowStepSchema).readonly(),
  })
  .meta({ id: 'WorkflowRun', description: 'A workflow run with its step journal (audit trail).' });

export const ProviderSchema = z
  .object({
    type: z.string(),
    default: z.boolean(),
    defaults: z.record(z.string(), z.unknown()).describe('Configured defaults; secrets shown as "***".'),
    timeoutMs: z.number(),
    schemaUrl: z.string(),
  })
  .meta({ id: 'ComputeProvider' });

export const ProviderListSchema = z
  .object({ items: z.array(ProviderSchema).readonly(), defaultProvider: nullableString })
  .meta({ id: 'ComputeProviderList' });

export const JsonSchemaDocument = z
  .record(z.string(), z.unknown())
  .meta({ id: 'JsonSchemaDocument', description: "JSON Schema (2020-12) of a provider's spec.config." });

export const CallbackPayloadSchema = z.object({
  executionId: z.string(),
  tenantId: z.string(),
  workflowRunId: z.string(),
  operation,
  status: executionStatus,
  resources: stringMap,
  endpoints: z
    .array(z.object({ name: z.string(), url: z.string() }))
    .readonly()
    .optional(),
  error: ComputeErrorSchema.nullable(),
  attempt: z.number(),
  at: z.string(),
});

export const CALLBACK_STATES = ['pending', 'delivered', 'dead'] as const;

export const CallbackSchema = z
  .object({
    id: z.string(),
    executionId: z.string(),
    workflowRunId: z.string(),
    tenantId: z.string(),
    payload: CallbackPayloadSchema,
    state: z.enum(CALLBACK_STATES),
    attempts: z.number(),
    nextAttemptAt: z.number(),
    lastError: nullableString,
    createdAt: z.string(),
    deliveredAt: nullableString,
  })
  .meta({ id: 'Callback' });

export const CallbackListSchema = z
  .object({ items: z.array(CallbackSchema).readonly(), nextCursor: nullableString })
  .meta({ id: 'CallbackList' });

export const HealthSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });
export const ReadinessSchema = z
  .object({ status: z.literal('ready'), checks: z.record(z.string(), z.literal('ok')) })
  .meta({ id: 'Readiness' });

export const AuditRecordSchema = z
  .object({
    id: z.string(),
    at: z.string(),
    actor: z.string(),
    action: z.enum(['tenant.purge']),
    targetId: z.string(),
    targetName: z.string(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditRecord', description: 'An immutable entry of the audit trail (e.g. a tenant purge).' });

export const AuditRecordListSchema = z
  .object({ items: z.array(AuditRecordSchema).readonly(), nextCursor: nullableString })
  .meta({ id: 'AuditRecordList' });
