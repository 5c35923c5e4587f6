/**
 * Path parameters and query strings. Strict like the bodies: an unknown query parameter, an
 * out-of-range `limit`, an unknown `phase` or a malformed selector or cursor is a 400, not an empty
 * page. Numbers arrive as strings and are coerced; a repeated parameter (an array) is rejected.
 */
import { z } from 'zod';
import { PHASES } from '../domain/tenant.js';
import { parseLabelSelector } from './label-selector.js';
import { CALLBACK_STATES } from './schemas-resources.js';
import { providerType } from './schemas.js';

export const MAX_PAGE = 500;
export const DEFAULT_PAGE = 50;

const limit = z.coerce
  .number()
  .int()
  .min(1)
  .max(MAX_PAGE)
  .default(DEFAULT_PAGE)
  .describe(`Page size, 1-${MAX_PAGE} (default ${DEFAULT_PAGE}).`);
const cursor = z
  .string()
  .regex(/^[A-Za-z0-9_\-.~:=+/]{1,1024}$/, 'must be a cursor returned by a previous page')
  .optional()
  .describe('`nextCursor` of the previous page.');
const seqCursor = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a cursor returned by a previous page')
  .transform(Number)
  .optional()
  .describe('`nextCursor` of the previous page (an event sequence number).');
const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

/** A tenant id (lower-case UUID) or name, as a path parameter. */
export const ID_OR_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,127}$/;

export const IdOrNameParams = z.strictObject({
  idOrName: z
    .string()
    .regex(ID_OR_NAME_PATTERN, 'must be a tenant id or name')
    .describe('Tenant id, or the name of a tenant that is not archived (an archived one is reached by id).'),
});
/** Execution ids, run ids (`<tenant>:<action>:g<n>`) and callback ids. */
export const ResourceIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,255}$/;
const resourceId = z.string().regex(ResourceIdPattern, 'is not a valid id');
export const ExecutionParams = z.strictObject({
  executionId: resourceId.describe(
    'Compute execution id (`ex-<tenant id>-<operation>-g<generation>-<hash>`).',
  ),
});
export const RunParams = z.strictObject({
  runId: resourceId.describe('Workflow run id (`<tenant id>:<action>:g<generation>`, `:r<n>` for a retry).'),
});
export const CallbackParams = z.strictObject({ id: resourceId.describe('Callback id.') });
export const ProviderParams = z.strictObject({
  type: providerType.describe('Provider type, as listed by `GET /v1/compute/providers`.'),
});

export const labelSelector = z
  .string()
  .max(2048)
  .transform((text, ctx) => {
    const parsed = parseLabelSelector(text);
    if (parsed.ok) return parsed.requirements;
    ctx.addIssue({ code: 'custom', message: `bad label selector: ${parsed.message}` });
    return z.NEVER;
  })
  .describe('Label selector, e.g. `plan=pro,tier!=free`.');

export const ListTenantsQuery = z.strictObject({
  limit,
  cursor,
  phase: z.enum(PHASES).optional().describe('Only tenants in this phase.'),
  provider: providerType.optional().describe('Only tenants of this provider type.'),
  labels: labelSelector.optional(),
  q: z
    .string()
    .regex(/^[a-z0-9-]{1,63}$/, 'must be the beginning of a tenant name')
    .optional()
    .describe('Name prefix.'),
  includeArchived: bool.optional().describe('Also list archived tenants (default false).'),
});

export const PageQuery = z.strictObject({ limit, cursor });
export const EventPageQuery = z.strictObject({ limit, cursor: seqCursor });
export const ExecutionsQuery = z.strictObject({
  limit,
  cursor,
  status: z
    .enum(['pending', 'running', 'succeeded', 'failed'])
    .optional()
    .describe('Only executions in this status.'),
});
export const CallbacksQuery = z.strictObject({
  limit,
  cursor,
  state: z.enum(CALLBACK_STATES).optional().describe('Filter by state; `dead` lists parked callbacks.'),
});
export const DeleteQuery = z.strictObject({
  purge: bool.optional().describe('Remove the record of an archived tenant (204).'),
});
export const StreamQuery = z.strictObject({
  since: z
    .string()
    .regex(/^\d{1,15}$/, 'must be an event sequence number')
    .transform(Number)
    .optional()
    .describe('Resume after this event sequence number (like Last-Event-ID).'),
  tenantId: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,127}$/)
    .optional()
    .describe('Only events of this tenant (id).'),
});

/** Request headers the API reads, for the OpenAPI document; other headers pass through. */
const ifMatch = z
  .string()
  .optional()
  .describe('Strong ETag of the version this write is based on (`"<version>"`); stale → 412.');
export const WriteHeaders = z.looseObject({ 'if-match': ifMatch });
export const CreateHeaders = z.looseObject({
  'idempotency-key': z
    .string()
    .optional()
    .describe('Replays the first response for a repeat of the same request (kept 24 h).'),
});
export const StreamHeaders = z.looseObject({
  'last-event-id': z.string().optional().describe('Resume after this event (wins over `since`).'),
});

// ---- revisions, dry runs, plans ----------------------------------------------------------------

const generation = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const RevisionParams = IdOrNameParams.extend({
  generation: generation.describe('A generation of the tenant (1 is its creation).'),
});
export const RevisionPageQuery = z.strictObject({ limit, cursor });
export const DiffQuery = z.strictObject({
  against: generation
    .optional()
    .describe('The generation to compare with (default: the one before `generation`).'),
});
export const DryRunQuery = z.strictObject({
  dryRun: bool
    .optional()
    .describe(
      'Validate everything and answer 200 with the would-be object (`Lessor-Dry-Run: true`); store nothing.',
    ),
});
export const TenantViewQuery = z.strictObject({
  view: z
    .enum(['spec', 'effective'])
    .optional()
    .describe(
      '`effective`: `spec.config` as the tenant runs — plan config, overrides and provider defaults merged.',
    ),
});
const planNameParam = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a plan name')
  .describe('Plan name.');
export const PlanParams = z.strictObject({ name: planNameParam });
export const PlanRevisionParams = z.strictObject({
  name: planNameParam,
  revision: generation.describe('A revision of the plan (1 is its creation).'),
});
export const PlanPageQuery = z.strictObject({ limit, cursor });
/** The paging and boolean query parameters, for the schemas of other resources. */
export { limit as pageLimit, cursor as pageCursor, bool as queryBool };
