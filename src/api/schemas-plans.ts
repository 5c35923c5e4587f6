/**
 * Wire schemas of tenant revisions, spec diffs, dry runs, rollback and plans. Requests are strict
 * (unknown fields rejected); responses are plain objects. No fastify here: the CLI's typed client
 * loads this.
 */
import { z } from 'zod';
import { CONFIG_LIMITS, SAFE_TEXT } from './json-limits.js';
import {
  boundedJsonObject,
  planName,
  providerType,
  RetryPolicyOverrideSchema,
  TenantSchema,
  TenantSpecSchema,
} from './schemas.js';

export const PatchOperationSchema = z
  .object({
    op: z.enum(['add', 'remove', 'replace', 'move', 'copy', 'test']),
    path: z.string().describe('JSON Pointer (RFC 6901) into the spec.'),
    value: z.unknown().optional().describe('Secret values are shown as "***".'),
    from: z.string().optional(),
  })
  .meta({ id: 'PatchOperation', description: 'One RFC 6902 JSON Patch operation.' });

export const TenantRevisionSchema = z
  .object({
    generation: z.number(),
    spec: TenantSpecSchema,
    actor: z.string().describe('Who wrote this generation.'),
    createdAt: z.string(),
  })
  .meta({ id: 'TenantRevision', description: 'The spec of one generation of a tenant.' });

export const TenantRevisionListSchema = z
  .object({ items: z.array(TenantRevisionSchema).readonly(), nextCursor: z.string().nullable() })
  .meta({ id: 'TenantRevisionList' });

export const SpecDiffSchema = z
  .object({
    from: z.number().describe('Generation the patch applies to.'),
    to: z.number().describe('Generation the patch produces.'),
    patch: z.array(PatchOperationSchema).readonly(),
  })
  .meta({ id: 'SpecDiff', description: 'RFC 6902 operations turning generation `from` into `to`.' });

export const DryRunTenantSchema = TenantSchema.extend({
  diff: z
    .array(PatchOperationSchema)
    .readonly()
    .optional()
    .describe(
      'Dry runs only: RFC 6902 operations from the current spec to the one that would be stored (empty on create).',
    ),
}).meta({
  id: 'DryRunTenant',
  description: 'A tenant; in a dry run (`Lessor-Dry-Run: true`) as the write would leave it, with its diff.',
});

export const RollbackRequestSchema = z
  .strictObject({
    toGeneration: z
      .int()
      .min(1)
      .max(Number.MAX_SAFE_INTEGER)
      .describe('The generation whose spec becomes the next generation.'),
  })
  .meta({ id: 'RollbackRequest' });

// ---- plans ------------------------------------------------------------------------------------

/** A JSON Pointer (RFC 6901) into `config`: `""`, or `/`-separated tokens. */
const POINTER = /^(\/([^~/]|~[01])*)*$/;
const MAX_OVERRIDES = 64;

export const PlanSpecRequestSchema = z
  .strictObject({
    provider: providerType
      .optional()
      .describe('Compute provider; defaults to the configured default provider.'),
    config: boundedJsonObject().default({}).describe("Provider config: the base of every tenant's config."),
    retryPolicy: RetryPolicyOverrideSchema.nullable().default(null),
  })
  .meta({ id: 'PlanSpecRequest' });

const planBody = {
  description: z
    .string()
    .max(1024)
    .regex(SAFE_TEXT, 'must not contain NUL or control characters')
    .default(''),
  spec: PlanSpecRequestSchema,
  allowedOverrides: z
    .array(
      z
        .string()
        .max(CONFIG_LIMITS.maxKeyLength * 4)
        .regex(POINTER, 'must be a JSON Pointer into config, e.g. /env or /resources/memoryMb'),
    )
    .max(MAX_OVERRIDES)
    .default([])
    .describe('JSON Pointer prefixes of `config` that a tenant made from the plan may set.'),
};

export const CreatePlanRequestSchema = z
  .strictObject({ name: planName, ...planBody })
  .meta({ id: 'CreatePlanRequest' });

export const ReplacePlanRequestSchema = z.strictObject(planBody).meta({ id: 'ReplacePlanRequest' });

export const PlanSpecSchema = z
  .object({
    provider: z.string(),
    config: z.record(z.string(), z.unknown()).describe('Secret fields are shown as "***".'),
    retryPolicy: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'PlanSpec' });

export const PlanSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    revision: z.number().describe('The latest revision; also sent as ETag.'),
    spec: PlanSpecSchema,
    allowedOverrides: z.array(z.string()).readonly(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Plan' });

export const PlanListSchema = z
  .object({ items: z.array(PlanSchema).readonly(), nextCursor: z.string().nullable() })
  .meta({ id: 'PlanList' });

export const PlanRevisionSchema = z
  .object({
    name: z.string(),
    revision: z.number(),
    description: z.string(),
    spec: PlanSpecSchema,
    allowedOverrides: z.array(z.string()).readonly(),
    actor: z.string(),
    createdAt: z.string(),
  })
  .meta({ id: 'PlanRevision' });

export const PlanRevisionListSchema = z
  .object({ items: z.array(PlanRevisionSchema).readonly(), nextCursor: z.string().nullable() })
  .meta({ id: 'PlanRevisionList' });
