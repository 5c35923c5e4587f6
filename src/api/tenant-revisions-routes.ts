/**
 * A tenant's revisions — the spec of every generation — and RFC 6902 diffs between them:
 * `GET /v1/tenants/{idOrName}/revisions[/{generation}[/diff?against=g]]`. Secret values read
 * `"***"`, in specs and in diffs alike (spec-diff.ts).
 */
import { NotFoundError } from '../domain/errors.js';
import type { TenantRevision } from '../domain/tenant-revision.js';
import type { Tenant } from '../domain/tenant.js';
import type { ApiApp, ApiContext } from './api-deps.js';
import { DiffQuery, RevisionPageQuery, RevisionParams, IdOrNameParams } from './schemas-query.js';
import { SpecDiffSchema, TenantRevisionListSchema, TenantRevisionSchema } from './schemas-plans.js';
import { specDiff, specView } from './spec-diff.js';
import { requireTenant } from './tenant-write.js';

const tags = ['tenants'];

export function registerTenantRevisionRoutes(app: ApiApp, ctx: ApiContext): void {
  listRevisionsRoute(app, ctx);
  getRevisionRoute(app, ctx);
  diffRevisionsRoute(app, ctx);
}

/** The revision of `generation`; 404 naming it when the tenant never had that generation. */
export async function requireRevision(
  ctx: ApiContext,
  tenant: Tenant,
  generation: number,
): Promise<TenantRevision> {
  const revision = await ctx.deps.store.revisions.get(tenant.id, generation);
  if (!revision) throw new NotFoundError(`generation ${generation} of tenant`, tenant.name);
  return revision;
}

function revisionView(ctx: ApiContext, revision: TenantRevision) {
  return {
    generation: revision.generation,
    spec: specView(revision.spec, ctx.deps.providers),
    actor: revision.actor,
    createdAt: revision.createdAt,
  };
}

function listRevisionsRoute(app: ApiApp, ctx: ApiContext): void {
  const schema = {
    operationId: 'listTenantRevisions',
    summary: "List a tenant's revisions",
    description:
      'The spec of every generation of the tenant, newest first, each with who wrote it and when ' +
      '(secret values read `"***"`). Every generation is kept for as long as the tenant is; purging ' +
      'an archived tenant removes them with it. Paged by `cursor`.',
    tags,
    params: IdOrNameParams,
    querystring: RevisionPageQuery,
    response: { 200: TenantRevisionListSchema },
  };
  app.get('/v1/tenants/:idOrName/revisions', { schema }, async (request) => {
    const tenant = await requireTenant(ctx, request.params.idOrName);
    const page = await ctx.deps.store.revisions.list(tenant.id, request.query);
    return { items: page.items.map((r) => revisionView(ctx, r)), nextCursor: page.nextCursor };
  });
}

function getRevisionRoute(app: ApiApp, ctx: ApiContext): void {
  const schema = {
    operationId: 'getTenantRevision',
    summary: 'Get the spec of one generation',
    description:
      'The spec the tenant had at `generation` (secret values read `"***"`), who wrote it and when. ' +
      '404 when the tenant never had that generation.',
    tags,
    params: RevisionParams,
    response: { 200: TenantRevisionSchema },
  };
  app.get('/v1/tenants/:idOrName/revisions/:generation', { schema }, async (request) => {
    const tenant = await requireTenant(ctx, request.params.idOrName);
    return revisionView(ctx, await requireRevision(ctx, tenant, request.params.generation));
  });
}

function diffRevisionsRoute(app: ApiApp, ctx: ApiContext): void {
  const schema = {
    operationId: 'diffTenantRevisions',
    summary: 'Diff two generations',
    description:
      'The RFC 6902 JSON Patch that turns the spec of generation `against` (default: the generation ' +
      'before) into that of `generation`. A changed secret shows as an operation whose value is ' +
      '`"***"`; its values never appear. 404 when either generation does not exist (generation 1 ' +
      'has no previous one: pass `against`).',
    tags,
    params: RevisionParams,
    querystring: DiffQuery,
    response: { 200: SpecDiffSchema },
  };
  app.get('/v1/tenants/:idOrName/revisions/:generation/diff', { schema }, async (request) => {
    const tenant = await requireTenant(ctx, request.params.idOrName);
    const { generation } = request.params;
    const against = request.query.against ?? generation - 1;
    const [from, to] = [
      await requireRevision(ctx, tenant, against),
      await requireRevision(ctx, tenant, generation),
    ];
    return {
      from: from.generation,
      to: to.generation,
      patch: specDiff(ctx.deps.providers, ctx.deps.hasher, from.spec, to.spec),
    };
  });
}
