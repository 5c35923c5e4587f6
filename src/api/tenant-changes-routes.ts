/**
 * Writes to an existing tenant: replace the spec (PUT), merge-patch it (PATCH), delete (and purge),
 * retry. Each is one `writeTenant` loop (If-Match → 412) and wakes the controller when it changed
 * something. Answers: 202 when work was triggered, 200 when nothing changed.
 */
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { InvalidTransitionError } from '../domain/errors.js';
import type { TenantChange } from '../domain/tenant-change.js';
import type { JsonObject, JsonValue, Phase, Tenant } from '../domain/tenant.js';
import type { ApiApp, ApiContext } from './api-deps.js';
import { actorOf } from './api-deps.js';
import { applyMergePatch } from './merge-patch.js';
import { DeleteQuery, DryRunQuery, IdOrNameParams, WriteHeaders } from './schemas-query.js';
import { DryRunTenantSchema, RollbackRequestSchema } from './schemas-plans.js';
import { changeTenantSpec, rollbackTenant, specRequestOf, type TenantOutcome } from './tenant-commands.js';
import { ReplaceSpecRequestSchema, TenantPatchSchema, TenantSchema } from './schemas.js';
import { parsePatchedSpec } from './tenant-spec.js';
import { purgeTenant } from './tenant-purge.js';
import { expectedVersion, sendTenant, tenantView, tenantWire } from './tenant-view.js';
import { wake, writeTenant } from './tenant-write.js';

const tags = ['tenants'];
/** 200: nothing changed, or a dry run (with its diff); 202: accepted, work was triggered. */
const changed = { 200: DryRunTenantSchema, 202: TenantSchema };
export const DRY_RUN_HEADER = 'lessor-dry-run';
const DRY_RUN_NOTE =
  '\n\nWith `?dryRun=true` every check runs (schema, plan, policy, privileges, `If-Match`) and the ' +
  'answer is 200 with the tenant as it would be, a `diff` (RFC 6902, from the current spec) and ' +
  '`Lessor-Dry-Run: true`: nothing is stored, no event is written, no run starts.';
export const MERGE_PATCH = 'application/merge-patch+json';

export function registerTenantChangeRoutes(app: ApiApp, ctx: ApiContext): void {
  replaceSpecRoute(app, ctx);
  patchTenantRoute(app, ctx);
  deleteTenantRoute(app, ctx);
  retryTenantRoute(app, ctx);
  rollbackTenantRoute(app, ctx);
}

/**
 * Answers a finished spec write: 202 when it changed something (work follows), else 200; a dry
 * run 200 with `Lessor-Dry-Run: true` and the diff.
 */
export function answer(ctx: ApiContext, reply: FastifyReply, outcome: TenantOutcome) {
  if (outcome.dryRun) return sendDryRun(ctx, reply, outcome);
  return sendTenant(reply, outcome.changed ? 202 : 200, outcome.tenant, ctx.deps.providers);
}

export function sendDryRun(ctx: ApiContext, reply: FastifyReply, outcome: TenantOutcome) {
  const tenant = tenantView(outcome.tenant, ctx.deps.providers);
  return reply
    .code(200)
    .header(DRY_RUN_HEADER, 'true')
    .send({ ...tenantWire(tenant), diff: outcome.diff });
}

function replaceSpecRoute(app: ApiApp, ctx: ApiContext): void {
  const schema = {
    operationId: 'replaceTenantSpec',
    summary: 'Replace the spec',
    description:
      'Replaces the whole spec; fields left out take their defaults. A spec that differs from the ' +
      'stored one becomes the next generation and answers 202 (the controller updates the runtime); ' +
      'the same spec answers 200 and changes nothing. Secret values may be sent back as the `"***"` ' +
      'they read as: the stored values are kept. `spec.provider` cannot change (400), a tenant that ' +
      'is deleting or archived cannot change (409), and provider fields marked `x-lessor-privileged` ' +
      '(or `x-lessor-code` fields changed while a stored secret is kept) need an admin (403). With ' +
      '`If-Match` the write happens only if the tenant is still at that version (412 otherwise). ' +
      'A tenant made from a plan sends `spec.plan` (its pinned revision is kept unless another is ' +
      'named) and only its overrides in `config`; callers below `policy.rawSpecs` are held to the ' +
      "plan's `allowedOverrides` (POLICY_VIOLATION)." +
      DRY_RUN_NOTE,
    tags,
    params: IdOrNameParams,
    headers: WriteHeaders,
    querystring: DryRunQuery,
    body: ReplaceSpecRequestSchema,
    response: changed,
  };
  app.put('/v1/tenants/:idOrName', { schema, config: { access: 'write' } }, async (request, reply) => {
    const { spec } = request.body;
    const input = { spec, sentConfig: spec.config as JsonObject };
    const options = { ifMatch: expectedVersion(request), dryRun: request.query.dryRun };
    const outcome = await changeTenantSpec(
      ctx,
      request.principal,
      request.params.idOrName,
      () => input,
      options,
    );
    return answer(ctx, reply, outcome);
  });
}

function patchTenantRoute(app: ApiApp, ctx: ApiContext): void {
  const mediaTypes = [MERGE_PATCH, 'application/json'];
  const schema = {
    operationId: 'patchTenant',
    summary: 'Patch the spec (JSON merge patch)',
    description:
      'A JSON merge patch (RFC 7386, `application/merge-patch+json`; `application/json` is taken ' +
      'too) of the tenant, of which only `spec` is writable: objects merge key by key, `null` ' +
      'removes a key, anything else (arrays included) replaces. The patched spec is then checked ' +
      'and answered exactly as a PUT of it: 202 when it changed, 200 when it did not.' +
      DRY_RUN_NOTE,
    tags,
    params: IdOrNameParams,
    headers: WriteHeaders,
    querystring: DryRunQuery,
    body: TenantPatchSchema,
    consumes: mediaTypes,
    response: changed,
  };
  app.patch(
    '/v1/tenants/:idOrName',
    { schema, config: { access: 'write', mediaTypes } },
    async (request, reply) => {
      const patch = request.body.spec;
      const sentConfig = patch?.config as JsonValue | undefined;
      const next = (current: Tenant) =>
        patch === undefined
          ? null
          : { spec: parsePatchedSpec(applyMergePatch(specRequestOf(current.spec), patch)), sentConfig };
      const options = { ifMatch: expectedVersion(request), dryRun: request.query.dryRun };
      return answer(
        ctx,
        reply,
        await changeTenantSpec(ctx, request.principal, request.params.idOrName, next, options),
      );
    },
  );
}

function deleteTenantRoute(app: ApiApp, ctx: ApiContext): void {
  const schema = {
    operationId: 'deleteTenant',
    summary: 'Delete a tenant, or purge an archived one',
    description:
      'Moves the tenant to `deleting`; the controller removes its runtime and archives it. 202 while ' +
      'deletion is accepted or running, 200 once archived (idempotent); an archived tenant is ' +
      'reached by id. `?purge=true` erases an archived tenant and its history for good (204): admin ' +
      'only, and recorded in the audit trail (`GET /v1/audit`); by name it means the archived tenant ' +
      'of that name (409 listing the ids when there are several, 409 when only a live one exists).',
    tags,
    params: IdOrNameParams,
    headers: WriteHeaders,
    querystring: DeleteQuery,
    response: { 200: TenantSchema, 202: TenantSchema, 204: z.null() },
  };
  app.delete('/v1/tenants/:idOrName', { schema, config: { access: 'write' } }, async (request, reply) => {
    const { idOrName } = request.params;
    if (request.query.purge === true) {
      await purgeTenant(ctx, request.principal, idOrName);
      return reply.code(204).send(null);
    }
    const actor = actorOf(request.principal);
    const result = await writeTenant(ctx, request, idOrName, (current) => deleteChange(current, actor));
    if (result.changed) wake(ctx, request, result.tenant.id, 'api');
    const status = result.tenant.status.phase === 'archived' ? 200 : 202;
    return sendTenant(reply, status, result.tenant, ctx.deps.providers);
  });
}

function retryTenantRoute(app: ApiApp, ctx: ApiContext): void {
  const schema = {
    operationId: 'retryTenant',
    summary: 'Retry a failed tenant',
    description:
      'Starts a new workflow run for the current generation of a `failed` tenant: a delete when a ' +
      'delete failed, a provision when the tenant was never ready, else an update. Any other phase ' +
      'is 409 INVALID_TRANSITION. The body may be left out (or be `{}`); `If-Match` makes the retry ' +
      'conditional.',
    tags,
    params: IdOrNameParams,
    headers: WriteHeaders,
    body: z.strictObject({}).nullish(),
    response: { 202: TenantSchema },
  };
  app.post('/v1/tenants/:idOrName/retry', { schema, config: { access: 'write' } }, async (request, reply) => {
    const actor = actorOf(request.principal);
    const result = await writeTenant(ctx, request, request.params.idOrName, (current) =>
      retryChange(current, actor),
    );
    wake(ctx, request, result.tenant.id, 'retry');
    return sendTenant(reply, 202, result.tenant, ctx.deps.providers);
  });
}

function rollbackTenantRoute(app: ApiApp, ctx: ApiContext): void {
  const schema = {
    operationId: 'rollbackTenant',
    summary: 'Roll back to an earlier generation',
    description:
      'Makes a new generation whose spec equals that of `toGeneration` (see `GET …/revisions`), its ' +
      'plan revision included, through the same checks as a PUT of that spec (policy, privileges, ' +
      '`If-Match`); the controller then updates the runtime. 202 with the tenant. 404 when the ' +
      'tenant never had that generation; 409 when it is the current generation or its spec is the ' +
      'current spec (nothing to roll back), or when the tenant is deleting or archived.' +
      DRY_RUN_NOTE,
    tags,
    params: IdOrNameParams,
    headers: WriteHeaders,
    querystring: DryRunQuery,
    body: RollbackRequestSchema,
    response: { 200: DryRunTenantSchema, 202: TenantSchema },
  };
  app.post(
    '/v1/tenants/:idOrName/rollback',
    { schema, config: { access: 'write' } },
    async (request, reply) => {
      const options = { ifMatch: expectedVersion(request), dryRun: request.query.dryRun };
      const { idOrName } = request.params;
      const { toGeneration } = request.body;
      return answer(
        ctx,
        reply,
        await rollbackTenant(ctx, request.principal, idOrName, toGeneration, options),
      );
    },
  );
}

/** Deleting and archived tenants need nothing more (idempotent DELETE). */
function deleteChange(current: Tenant, actor: string): TenantChange | null {
  if (current.status.phase === 'deleting' || current.status.phase === 'archived') return null;
  const message = `delete requested by ${actor}`;
  return {
    actor,
    phase: { to: 'deleting', reason: 'DeleteRequested', message },
    audit: [{ type: 'DeleteRequested', reason: 'DeleteRequested', message }],
  };
}

function retryChange(current: Tenant, actor: string): TenantChange {
  if (current.status.phase !== 'failed') {
    throw new InvalidTransitionError(
      `tenant '${current.name}' is ${current.status.phase}; only a failed tenant can be retried`,
      { from: current.status.phase },
    );
  }
  const to: Phase =
    current.status.workflow?.action === 'delete'
      ? 'deleting'
      : current.status.observedGeneration === 0
        ? 'provisioning'
        : 'updating';
  const message = `retry requested by ${actor}`;
  return {
    actor,
    phase: { to, reason: 'RetryRequested', message },
    audit: [{ type: 'RetryRequested', reason: 'RetryRequested', message }],
  };
}
