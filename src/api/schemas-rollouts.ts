/**
 * Wire schemas of the rollouts API (docs/api.md, "Rollouts"). Requests are strict: an unknown
 * field, a wave past 100 %, a `pauseAfterWaves` index with no such wave is a 400 before anything
 * is resolved.
 */
import { z } from 'zod';
import { MEMBER_STATES, ROLLOUT_PHASES } from '../domain/rollout.js';
import { PHASES } from '../domain/tenant.js';
import { pageCursor, pageLimit, queryBool } from './schemas-query.js';

const MAX_WAVES = 20;
const DAY_MS = 86_400_000;

const waveTarget = z.union([
  z.number().int().min(0).max(1_000_000),
  z
    .string()
    .regex(
      /^(100|[1-9]?[0-9])(\.[0-9]{1,2})?%$/,
      'must be a count or a percent such as "10%" (at most 100%)',
    ),
]);

const selector = z
  .strictObject({
    labels: z.string().max(2048).nullish().describe('A label selector, e.g. `plan=pro,region!=eu`.'),
    names: z
      .array(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a tenant name'))
      .min(1)
      .max(10_000)
      .nullish()
      .describe('Exactly these tenants (those that exist and match the rest of the selector).'),
    phases: z
      .array(z.enum(PHASES))
      .min(1)
      .nullish()
      .describe('Only tenants in these phases; default every phase whose spec may change.'),
    plan: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a plan name')
      .nullish()
      .describe('Only tenants made from this plan.'),
  })
  .refine((s) => s.labels != null || s.names != null || s.plan != null, {
    message: 'give labels, names or plan (a rollout never selects every tenant by default)',
  })
  .describe('Which tenants the rollout changes; resolved once, at create, and ordered by name.');

const change = z
  .union([
    z.strictObject({
      patch: z
        .record(z.string(), z.unknown())
        .describe('A JSON merge patch of `spec`, merged into each member’s current spec.'),
    }),
    z.strictObject({
      planRevision: z
        .number()
        .int()
        .min(1)
        .describe('Move each member, made from a plan, to this revision of its plan.'),
    }),
  ])
  .describe('What the rollout does to each member: a merge patch, or a plan revision.');

const strategy = z
  .strictObject({
    waves: z
      .array(waveTarget)
      .min(1)
      .max(MAX_WAVES)
      .default(['100%'])
      .describe('Cumulative targets: a count or a percent of the members; the last wave takes the rest.'),
    maxParallel: z.number().int().min(1).max(1_000).default(10).describe('Members in progress at once.'),
    minHealthyMs: z
      .number()
      .int()
      .min(0)
      .max(DAY_MS)
      .default(0)
      .describe('How long a changed tenant must stay ready at its new generation to succeed.'),
    progressDeadlineMs: z
      .number()
      .int()
      .min(1_000)
      .max(7 * DAY_MS)
      .default(600_000)
      .describe('A changed tenant not succeeded this long after its change has failed.'),
    pauseAfterWaves: z
      .array(
        z
          .number()
          .int()
          .min(0)
          .max(MAX_WAVES - 1),
      )
      .max(MAX_WAVES)
      .default([])
      .describe('Wave indexes after which the rollout pauses until `promote`.'),
  })
  .refine((s) => s.pauseAfterWaves.every((w) => w < s.waves.length), {
    message: 'pauseAfterWaves names a wave that does not exist',
    path: ['pauseAfterWaves'],
  });

const failurePolicy = z.strictObject({
  maxFailedPercent: z
    .number()
    .min(0)
    .max(100)
    .nullable()
    .default(null)
    .describe('Halt when a wave’s failures exceed this percent of the wave.'),
  maxFailed: z
    .number()
    .int()
    .min(0)
    .nullable()
    .default(null)
    .describe('Halt when the failures of the whole rollout exceed this count.'),
  onHalt: z
    .enum(['pause', 'rollback'])
    .default('pause')
    .describe('`pause`: phase `halted`; `rollback`: undo every change.'),
});

export const CreateRolloutRequestSchema = z
  .strictObject({
    description: z.string().max(500).default(''),
    selector,
    change,
    strategy: strategy.default({
      waves: ['100%'],
      maxParallel: 10,
      minHealthyMs: 0,
      progressDeadlineMs: 600_000,
      pauseAfterWaves: [],
    }),
    failurePolicy: failurePolicy.default({ maxFailedPercent: null, maxFailed: null, onHalt: 'pause' }),
  })
  .meta({ id: 'CreateRolloutRequest' });

export const CreateRolloutQuery = z.strictObject({
  dryRun: queryBool
    .optional()
    .describe('Resolve and validate every member, answer the waves; start nothing.'),
  skipInvalid: queryBool
    .optional()
    .describe('Leave out members whose changed spec would be invalid instead of refusing the rollout.'),
});

export const RolloutParams = z.strictObject({
  id: z
    .string()
    .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a rollout id')
    .describe('Rollout id.'),
});

export const RolloutCommandParams = RolloutParams.extend({
  command: z.enum(['pause', 'resume', 'promote', 'abort', 'rollback']).describe('The command.'),
});

export const ListRolloutsQuery = z.strictObject({
  limit: pageLimit,
  cursor: pageCursor,
  phase: z.enum(ROLLOUT_PHASES).optional().describe('Only rollouts in this phase.'),
});

export const RolloutMembersQuery = z.strictObject({
  limit: pageLimit,
  cursor: pageCursor,
  state: z.enum(MEMBER_STATES).optional().describe('Only members in this state (`failed`, say).'),
});

const counts = z.object({
  total: z.number(),
  pending: z.number(),
  inProgress: z.number(),
  succeeded: z.number(),
  failed: z.number(),
  skipped: z.number(),
  rolledBack: z.number(),
});

const wave = z.object({
  index: z.number(),
  size: z.number(),
  pending: z.number(),
  inProgress: z.number(),
  succeeded: z.number(),
  failed: z.number(),
  skipped: z.number(),
  rolledBack: z.number(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export const RolloutSchema = z
  .object({
    id: z.string(),
    description: z.string(),
    selector: z.object({
      labels: z.string().nullable(),
      names: z.array(z.string()).readonly().nullable(),
      phases: z.array(z.enum(PHASES)).readonly().nullable(),
      plan: z.string().nullable().optional(),
    }),
    change: z.union([
      z.object({ patch: z.record(z.string(), z.unknown()) }),
      z.object({ planRevision: z.number() }),
    ]),
    strategy: z.object({
      waves: z.array(z.union([z.number(), z.string()])).readonly(),
      maxParallel: z.number(),
      minHealthyMs: z.number(),
      progressDeadlineMs: z.number(),
      pauseAfterWaves: z.array(z.number()).readonly(),
    }),
    failurePolicy: z.object({
      maxFailedPercent: z.number().nullable(),
      maxFailed: z.number().nullable(),
      onHalt: z.enum(['pause', 'rollback']),
    }),
    status: z.object({
      phase: z.enum(ROLLOUT_PHASES),
      currentWave: z.number(),
      haltReason: z.string().nullable(),
      counts,
      waves: z.array(wave).readonly(),
    }),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Rollout', description: 'A rollout; secret values in `change.patch` read as `"***"`.' });

export const RolloutListSchema = z
  .object({ items: z.array(RolloutSchema).readonly(), nextCursor: z.string().nullable() })
  .meta({ id: 'RolloutList' });

const problemOfMember = z.object({
  code: z.string(),
  message: z.string(),
  problems: z
    .array(z.object({ path: z.string(), message: z.string() }))
    .readonly()
    .optional(),
});

export const RolloutDryRunSchema = z
  .object({
    dryRun: z.literal(true),
    total: z.number().describe('Members the rollout would change.'),
    waves: z
      .array(z.object({ index: z.number(), size: z.number(), tenants: z.array(z.string()).readonly() }))
      .readonly(),
    invalid: z
      .array(z.object({ tenant: z.string(), tenantId: z.string(), error: problemOfMember }))
      .readonly()
      .describe('Members whose changed spec would be refused.'),
  })
  .meta({ id: 'RolloutDryRun' });

export const RolloutMemberSchema = z
  .object({
    tenant: z.string(),
    tenantId: z.string(),
    wave: z.number(),
    state: z.enum(MEMBER_STATES),
    fromGeneration: z.number().nullable(),
    toGeneration: z.number().nullable(),
    rollbackGeneration: z.number().nullable(),
    merged: z
      .boolean()
      .describe('The tenant’s spec changed since the snapshot; the change was merged into it.'),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'RolloutMember' });

export const RolloutMemberListSchema = z
  .object({ items: z.array(RolloutMemberSchema).readonly(), nextCursor: z.string().nullable() })
  .meta({ id: 'RolloutMemberList' });
