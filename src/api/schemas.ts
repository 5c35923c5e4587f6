/**
 * Wire schemas of the tenant resource (docs/api.md, "Tenants"): what clients may send (strict: unknown fields
 * are rejected, strings are free of NUL and control characters, sizes bounded) and what the server
 * answers (plain objects: fields the wire does not know are stripped on the way out). Named schemas
 * (`.meta({ id })`) become OpenAPI components. No fastify here: the CLI's typed client loads this.
 */
import { z } from 'zod';
import { COMPUTE_ERROR_CODES } from '../domain/compute-error.js';
import type { ApiProblemCode } from './problem-codes.js';
import { CONDITION_TYPES, PHASES, TENANT_NAME_PATTERN } from '../domain/tenant.js';
import { CONFIG_LIMITS, jsonShapeProblems, SAFE_TEXT, type JsonLimits } from './json-limits.js';

export const PROVIDER_TYPE_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
/** Kubernetes-like label key: 1-63 of `[A-Za-z0-9._/-]`, starting and ending alphanumeric. */
export const LABEL_KEY_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/;
/** Label value: empty, or 1-63 of `[A-Za-z0-9._-]` starting and ending alphanumeric. */
export const LABEL_VALUE_PATTERN = /^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;
export const MAX_LABELS = 64;
export const MAX_ANNOTATION_VALUE = 4096;

export const tenantName = z
  .string()
  .regex(
    TENANT_NAME_PATTERN,
    'must be a DNS label: 1-63 of a-z, 0-9 and -, starting and ending with a letter or digit',
  );
export const providerType = z
  .string()
  .regex(PROVIDER_TYPE_PATTERN, 'must be a provider type such as docker or process');
const labelKey = z
  .string()
  .regex(LABEL_KEY_PATTERN, 'must be 1-63 of A-Z a-z 0-9 . _ / -, alphanumeric at both ends');
const labelValue = z
  .string()
  .regex(LABEL_VALUE_PATTERN, 'must be at most 63 of A-Z a-z 0-9 . _ -, alphanumeric at both ends');
const annotationValue = z
  .string()
  .max(MAX_ANNOTATION_VALUE)
  .regex(SAFE_TEXT, 'must not contain NUL or control characters');

function boundedMap<V extends z.ZodType<string>>(value: V) {
  return z.record(labelKey, value).refine((m) => Object.keys(m).length <= MAX_LABELS, {
    message: `must have at most ${MAX_LABELS} entries`,
  });
}

/** A JSON object within `limits`; every problem is reported at its own path. */
export function boundedJsonObject(limits: JsonLimits = CONFIG_LIMITS) {
  return z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
    for (const problem of jsonShapeProblems(value, limits)) {
      ctx.addIssue({ code: 'custom', message: problem.message, path: [...problem.path] });
    }
  });
}

const errorAction = z.enum(['retry', 'fail', 'pause', 'rollback']);
const MAX_MS = 7 * 24 * 3600 * 1000;

export const RetryPolicyOverrideSchema = z
  .strictObject({
    maxAttempts: z.int().min(1).max(1000).optional(),
    initialBackoffMs: z.int().min(0).max(MAX_MS).optional(),
    maxBackoffMs: z.int().min(0).max(MAX_MS).optional(),
    multiplier: z.number().min(1).max(100).optional(),
    jitter: z.boolean().optional(),
    timeoutMs: z.int().min(1).max(MAX_MS).optional(),
    onError: z.partialRecord(z.enum(COMPUTE_ERROR_CODES), errorAction).optional(),
  })
  .meta({
    id: 'RetryPolicyOverride',
    description: 'Per-tenant override of the retry policy, per operation.',
  });

/** `spec` as a client writes it: provider optional (resolved by the server), the rest defaulted. */
export const TenantSpecRequestSchema = z
  .strictObject({
    provider: providerType
      .optional()
      .describe('Compute provider; defaults to the configured default provider.'),
    config: boundedJsonObject()
      .default({})
      .describe("Provider config, validated against the provider's schema."),
    labels: boundedMap(labelValue).default({}),
    annotations: boundedMap(annotationValue).default({}),
    retryPolicy: RetryPolicyOverrideSchema.nullable().default(null),
    paused: z.boolean().default(false),
  })
  .meta({ id: 'TenantSpecRequest' });

export const CreateTenantRequestSchema = z
  .strictObject({ name: tenantName, spec: TenantSpecRequestSchema })
  .meta({ id: 'CreateTenantRequest' });

export const ReplaceSpecRequestSchema = z
  .strictObject({ spec: TenantSpecRequestSchema })
  .meta({ id: 'ReplaceSpecRequest' });

/** JSON merge patch (RFC 7386) of the resource; only `spec` is writable. */
export const TenantPatchSchema = z
  .strictObject({
    spec: boundedJsonObject({ ...CONFIG_LIMITS, maxDepth: CONFIG_LIMITS.maxDepth + 2 }).optional(),
  })
  .meta({ id: 'TenantPatch', description: 'JSON merge patch (RFC 7386); only spec is writable.' });

// ---- responses --------------------------------------------------------------------------------

const stringMap = z.record(z.string(), z.string());

export const ComputeErrorSchema = z
  .object({
    code: z.enum(COMPUTE_ERROR_CODES),
    message: z.string(),
    classification: z.enum(['retriable', 'non_retriable', 'manual_intervention']),
    retryAfterMs: z.number().optional(),
    partial: z.unknown().optional(),
    providerError: z.unknown().optional(),
  })
  .meta({ id: 'ComputeError' });

export const TenantSpecSchema = z
  .object({
    provider: z.string(),
    config: z.record(z.string(), z.unknown()).describe('Secret fields are shown as "***".'),
    labels: stringMap,
    annotations: stringMap,
    retryPolicy: z.record(z.string(), z.unknown()).nullable(),
    paused: z.boolean(),
  })
  .meta({ id: 'TenantSpec' });

export const ConditionSchema = z
  .object({
    type: z.enum(CONDITION_TYPES),
    status: z.enum(['True', 'False', 'Unknown']),
    reason: z.string(),
    message: z.string(),
    lastTransitionTime: z.string(),
    observedGeneration: z.number(),
  })
  .meta({ id: 'Condition' });

const executionStatus = z.enum(['pending', 'running', 'succeeded', 'failed']);
const operation = z.enum(['provision', 'update', 'delete']);
export const RUN_STATES = [
  'pending',
  'running',
  'waiting',
  'backing-off',
  'succeeded',
  'failed',
  'cancelled',
] as const;

export const TenantStatusSchema = z
  .object({
    phase: z.enum(PHASES),
    observedGeneration: z.number(),
    message: z.string(),
    compute: z.object({ executionId: z.string(), operation, status: executionStatus }).nullable(),
    workflow: z
      .object({ runId: z.string(), action: operation, state: z.enum(RUN_STATES), attempt: z.number() })
      .nullable(),
    resources: stringMap,
    endpoints: z.array(z.object({ name: z.string(), url: z.string() })).readonly(),
    lastError: ComputeErrorSchema.nullable(),
    conditions: z.array(ConditionSchema).readonly(),
  })
  .meta({ id: 'TenantStatus' });

export const TenantSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    spec: TenantSpecSchema,
    generation: z.number(),
    status: TenantStatusSchema,
    version: z.number().describe('Optimistic-concurrency counter, also sent as ETag.'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Tenant' });

export const TenantListSchema = z
  .object({ items: z.array(TenantSchema).readonly(), nextCursor: z.string().nullable() })
  .meta({ id: 'TenantList' });

export const PROBLEM_CODES = [
  'VALIDATION_FAILED',
  'NOT_FOUND',
  'CONFLICT',
  'PRECONDITION_FAILED',
  'INVALID_TRANSITION',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'MISDIRECTED_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNAVAILABLE',
  'STORE_UNAVAILABLE',
  'INTERNAL',
] as const satisfies readonly ApiProblemCode[];
/** Compile-time check: every problem code (the domain's and the HTTP layer's) is on the wire. */
export const EVERY_PROBLEM_CODE_ON_THE_WIRE: Exclude<
  ApiProblemCode,
  (typeof PROBLEM_CODES)[number]
> extends never
  ? true
  : never = true;

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number(),
    detail: z.string(),
    code: z.enum(PROBLEM_CODES),
    instance: z.string(),
    requestId: z.string(),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .readonly()
      .optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details, served as application/problem+json.' });
