/**
 * Plans: `POST/GET/PUT/DELETE /v1/plans…` and their revisions. Writes are admin-only; every
 * changed PUT makes revision N+1 (revisions are immutable and kept). A plan's config is checked
 * against its provider's schema (defaults merged) as a tenant's would be; its secret values are
 * sealed at rest and read `"***"`, and a PUT may send them back as `"***"` to keep them. Deleting a
 * plan a tenant that is not archived uses is 409. Dry runs (`?dryRun=true`) check everything and
 * store nothing.
 */
import type { FastifyReply } from 'fastify';
import type { Plan, PlanContent, PlanRevision } from '../domain/plan.js';
import { deepEqualJson } from '../domain/canonical-json.js';
import { ConflictError, NotFoundError, PreconditionFailedError } from '../domain/errors.js';
import type { JsonObject } from '../domain/tenant.js';
import type { ApiApp, ApiContext, ProviderCatalog } from './api-deps.js';
import { actorOf } from './api-deps.js';
import { DRY_RUN_HEADER } from './tenant-changes-routes.js';
import { DryRunQuery, PlanPageQuery, PlanParams, PlanRevisionParams, WriteHeaders } from './schemas-query.js';
import {
  CreatePlanRequestSchema,
  PlanListSchema,
  PlanRevisionListSchema,
  PlanRevisionSchema,
  PlanSchema,
  ReplacePlanRequestSchema,
} from './schemas-plans.js';
import { z } from 'zod';
import { restore } from './tenant-spec.js';
import { expectedVersion } from './tenant-view.js';

const tags = ['plans'];
const DRY_RUN_NOTE =
  '\n\nWith `?dryRun=true` every check runs and the answer is 200 with the plan as it would be and ' +
  '`Lessor-Dry-Run: true`; nothing is stored.';

type PlanBody = z.output<typeof ReplacePlanRequestSchema>;

export interface PlanSettings {
  readonly providers: Pick<ProviderCatalog, 'resolveProvider' | 'effectiveConfig' | 'redactSecrets'>;
  readonly defaultProvider?: string | undefined;
}

/**
 * A plan as written, checked: the provider resolved, `"***"` secrets put back from `current`, the
 * config valid for the provider with its defaults merged, overrides de-duplicated. Also used for
 * the plans of the configuration file at start.
 */
export function resolvePlan(settings: PlanSettings, body: PlanBody, current?: Plan): PlanContent {
  const { providers } = settings;
  const provider = providers.resolveProvider(
    body.spec.provider ?? current?.spec.provider,
    settings.defaultProvider,
  );
  let config = body.spec.config as JsonObject;
  if (current && current.spec.provider === provider) {
    const redacted = providers.redactSecrets(provider, current.spec.config);
    config = restore(config, current.spec.config, redacted) as JsonObject;
  }
  providers.effectiveConfig(provider, config);
  return {
    description: body.description,
    spec: { provider, config, retryPolicy: body.spec.retryPolicy },
    allowedOverrides: [...new Set(body.allowedOverrides)],
  };
}

function planView(ctx: ApiContext, plan: Plan) {
  return {
    name: plan.name,
    description: plan.description,
    revision: plan.revision,
    spec: { ...plan.spec, config: ctx.deps.providers.redactSecrets(plan.spec.provider, plan.spec.config) },
    allowedOverrides: plan.allowedOverrides,
    createdAt: plan.createdAt,
    updatedAt: plan.updatedAt,
  };
}

function revisionView(ctx: ApiContext, revision: PlanRevision) {
  const { providers } = ctx.deps;
  return {
    name: revision.name,
    revision: revision.revision,
    description: revision.description,
    spec: { ...revision.spec, config: providers.redactSecrets(revision.spec.provider, revision.spec.config) },
    allowedOverrides: revision.allowedOverrides,
    actor: revision.actor,
    createdAt: revision.createdAt,
  };
}

function settingsOf(ctx: ApiContext): PlanSettings {
  return { providers: ctx.deps.providers, defaultProvider: ctx.options.defaultProvider };
}

async function requirePlan(ctx: ApiContext, name: string): Promise<Plan> {
  const plan = await ctx.deps.store.plans.get(name);
  if (!plan) throw new NotFoundError('plan', name);
  return plan;
}

function sendPlan(ctx: ApiContext, reply: FastifyReply, status: number, plan: Plan, dryRun = false) {
  reply.code(status).header('etag', `"${plan.revision}"`);
  if (dryRun) reply.header(DRY_RUN_HEADER, 'true');
  return reply.send(planView(ctx, plan));
}

export function registerPlanRoutes(app: ApiApp, ctx: ApiContext): void {
  createPlanRoute(app, ctx);
  listPlansRoute(app, ctx);
  getPlanRoute(app, ctx);
  replacePlanRoute(app, ctx);
  deletePlanRoute(app, ctx);
  planRevisionsRoute(app, ctx);
  planRevisionRoute(app, ctx);
}

function createPlanRoute(app: ApiApp, ctx: ApiContext): void {
  const schema = {
    operationId: 'createPlan',
    summary: 'Create a plan',
    description:
      'Stores the plan at revision 1. `spec.provider` defaults to the configured default provider; ' +
      '`spec.config` must be valid for the provider (its defaults merged in) and is the base of every ' +
      'tenant made from the plan, which may override only the JSON Pointer prefixes in `allowedOverrides` ' +
      '(unless its writer holds the `policy.rawSpecs` role). 201 with `Location` and `ETag` (the ' +
      'revision); 409 when the name is taken.' +
      DRY_RUN_NOTE,
    tags,
    querystring: DryRunQuery,
    body: CreatePlanRequestSchema,
    response: { 200: PlanSchema, 201: PlanSchema },
  };
  app.post('/v1/plans', { schema, config: { access: 'admin' } }, async (request, reply) => {
    const { name, ...body } = request.body;
    const content = resolvePlan(settingsOf(ctx), body);
    if (request.query.dryRun === true) {
      if (await ctx.deps.store.plans.get(name)) {
        throw new ConflictError(`a plan named '${name}' already exists`, { name });
      }
      const now = ctx.now().toISOString();
      return sendPlan(
        ctx,
        reply,
        200,
        { name, revision: 1, ...content, createdAt: now, updatedAt: now },
        true,
      );
    }
    const plan = await ctx.deps.store.plans.create({ name, actor: actorOf(request.principal), ...content });
    reply.header('location', `/v1/plans/${plan.name}`);
    return sendPlan(ctx, reply, 201, plan);
  });
}

function listPlansRoute(app: ApiApp, ctx: ApiContext): void {
  const schema = {
    operationId: 'listPlans',
    summary: 'List plans',
    description:
      'Plans by name, each at its latest revision (secret values read `"***"`). Paged by `cursor`.',
    tags,
    querystring: PlanPageQuery,
    response: { 200: PlanListSchema },
  };
  app.get('/v1/plans', { schema }, async (request) => {
    const page = await ctx.deps.store.plans.list(request.query);
    return { items: page.items.map((p) => planView(ctx, p)), nextCursor: page.nextCursor };
  });
}

function getPlanRoute(app: ApiApp, ctx: ApiContext): void {
  const schema = {
    operationId: 'getPlan',
    summary: 'Get a plan',
    description: 'The plan at its latest revision; the `ETag` carries the revision, for `If-Match` on a PUT.',
    tags,
    params: PlanParams,
    response: { 200: PlanSchema },
  };
  app.get('/v1/plans/:name', { schema }, async (request, reply) =>
    sendPlan(ctx, reply, 200, await requirePlan(ctx, request.params.name)),
  );
}

function replacePlanRoute(app: ApiApp, ctx: ApiContext): void {
  const schema = {
    operationId: 'replacePlan',
    summary: 'Replace a plan (new revision)',
    description:
      'A body that differs from the latest revision becomes revision N+1; the same body changes ' +
      'nothing. Either way 200 with the plan. Tenants stay on the revision they are pinned to: a ' +
      'plan change never changes a running tenant by itself. Secret values may be sent back as ' +
      '`"***"` to keep them. With `If-Match: "<revision>"` the write happens only at that revision (412).' +
      DRY_RUN_NOTE,
    tags,
    params: PlanParams,
    headers: WriteHeaders,
    querystring: DryRunQuery,
    body: ReplacePlanRequestSchema,
    response: { 200: PlanSchema },
  };
  app.put('/v1/plans/:name', { schema, config: { access: 'admin' } }, async (request, reply) => {
    const { name } = request.params;
    const ifMatch = expectedVersion(request);
    const current = await requirePlan(ctx, name);
    const content = resolvePlan(settingsOf(ctx), request.body, current);
    if (request.query.dryRun === true) {
      if (ifMatch !== undefined && ifMatch !== current.revision) {
        throw new PreconditionFailedError(ifMatch, current.revision);
      }
      const same = deepEqualJson(content, {
        description: current.description,
        spec: current.spec,
        allowedOverrides: current.allowedOverrides,
      });
      const updatedAt = ctx.now().toISOString();
      const next = same ? current : { ...current, ...content, revision: current.revision + 1, updatedAt };
      return sendPlan(ctx, reply, 200, next, true);
    }
    const result = await ctx.deps.store.plans.update(
      { name, actor: actorOf(request.principal), ...content },
      ifMatch !== undefined ? { expectedRevision: ifMatch } : {},
    );
    return sendPlan(ctx, reply, 200, result.plan);
  });
}

function deletePlanRoute(app: ApiApp, ctx: ApiContext): void {
  const schema = {
    operationId: 'deletePlan',
    summary: 'Delete a plan',
    description:
      'Removes the plan and all its revisions (204). 409 naming them while tenants that are not ' +
      'archived use the plan: move them to another plan (or delete them) first.',
    tags,
    params: PlanParams,
    response: { 204: z.null() },
  };
  app.delete('/v1/plans/:name', { schema, config: { access: 'admin' } }, async (request, reply) => {
    await ctx.deps.store.plans.delete(request.params.name);
    return reply.code(204).send(null);
  });
}

function planRevisionsRoute(app: ApiApp, ctx: ApiContext): void {
  const schema = {
    operationId: 'listPlanRevisions',
    summary: "List a plan's revisions",
    description: 'Every revision of the plan, newest first, with who wrote it and when. Paged by `cursor`.',
    tags,
    params: PlanParams,
    querystring: PlanPageQuery,
    response: { 200: PlanRevisionListSchema },
  };
  app.get('/v1/plans/:name/revisions', { schema }, async (request) => {
    await requirePlan(ctx, request.params.name);
    const page = await ctx.deps.store.plans.revisions(request.params.name, request.query);
    return { items: page.items.map((r) => revisionView(ctx, r)), nextCursor: page.nextCursor };
  });
}

function planRevisionRoute(app: ApiApp, ctx: ApiContext): void {
  const schema = {
    operationId: 'getPlanRevision',
    summary: 'Get one revision of a plan',
    description: 'The plan as it was at `revision` (immutable). 404 when the plan has no such revision.',
    tags,
    params: PlanRevisionParams,
    response: { 200: PlanRevisionSchema },
  };
  app.get('/v1/plans/:name/revisions/:revision', { schema }, async (request) => {
    const { name, revision } = request.params;
    const found = await ctx.deps.store.plans.revision(name, revision);
    if (!found) throw new NotFoundError(`revision ${revision} of plan`, name);
    return revisionView(ctx, found);
  });
}
