/**
 * `POST /v1/tenants`, `GET /v1/tenants`, `GET /v1/tenants/{idOrName}` and the tenant's event
 * history and compute executions. Writes to existing tenants are in tenant-changes-routes.ts.
 */
import { requestTraceContext } from './request-trace.js';
import type { ApiApp, ApiContext } from './api-deps.js';
import { idempotent } from './idempotency.js';
import {
  CreateHeaders,
  DryRunQuery,
  EventPageQuery,
  ExecutionsQuery,
  IdOrNameParams,
  ListTenantsQuery,
  TenantViewQuery,
} from './schemas-query.js';
import { ExecutionListSchema, TenantEventListSchema } from './schemas-resources.js';
import { CreateTenantRequestSchema, TenantListSchema, TenantSchema } from './schemas.js';
import { DryRunTenantSchema } from './schemas-plans.js';
import { sendDryRun } from './tenant-changes-routes.js';
import { createTenant } from './tenant-commands.js';
import { effectiveConfigOf } from './tenant-spec.js';
import { sendTenantDocument, sendTenantPage, TenantDocumentCache } from './tenant-documents.js';
import { etagOf, sendTenant, tenantView } from './tenant-view.js';
import { requireTenant } from './tenant-write.js';

const tags = ['tenants'];

export function registerTenantRoutes(app: ApiApp, ctx: ApiContext): void {
  // Rendered tenant documents, by lookup key (a GET's id or name; a list item's id).
  const documents = new TenantDocumentCache();
  createTenantRoute(app, ctx);
  listTenantsRoute(app, ctx, documents);
  getTenantRoute(app, ctx, documents);
  tenantEventsRoute(app, ctx);
  tenantExecutionsRoute(app, ctx);
}

function createTenantRoute(app: ApiApp, ctx: ApiContext): void {
  const schema = {
    operationId: 'createTenant',
    summary: 'Create a tenant',
    description:
      'Stores the tenant in phase `requested` at generation 1 and wakes the controller, which ' +
      'provisions it in the background: follow `status.phase` (or `GET /v1/events`) to `ready` or ' +
      '`failed`. `spec.provider` defaults to the configured default provider; `spec.config` is ' +
      "validated against the provider's schema with its defaults merged in, and fields the schema " +
      'marks `x-lessor-privileged` may only be set by an admin (403). The name must be unique among ' +
      'tenants that are not archived (409). Answers 201 with `Location` and `ETag`.\n\n' +
      'With an `Idempotency-Key`, a repeat by the same caller with the same body within 24 h gets the ' +
      'first answer again, marked `Idempotent-Replayed: true`; the key with another body is 422, and ' +
      'while the first request still runs, 409 with `Retry-After`.\n\n' +
      'From a plan: `spec.plan: {name, revision?}` (the revision defaults to the latest and is ' +
      "pinned), `config` holding only overrides of the plan's config; an unknown plan or revision " +
      'is 422 naming it. Callers below `policy.rawSpecs` (default `admin`) must use a plan (403 ' +
      "POLICY_VIOLATION) and may override only the plan's `allowedOverrides` (422 POLICY_VIOLATION).\n\n" +
      '`?dryRun=true` runs every check (name clash included) and answers 200 with the tenant as it ' +
      'would be and `Lessor-Dry-Run: true`; nothing is stored (no idempotency record either).',
    tags,
    headers: CreateHeaders,
    querystring: DryRunQuery,
    body: CreateTenantRequestSchema,
    response: { 200: DryRunTenantSchema, 201: TenantSchema },
  };
  app.post('/v1/tenants', { schema, config: { access: 'write' } }, async (request, reply) => {
    if (request.query.dryRun === true) {
      return sendDryRun(
        ctx,
        reply,
        await createTenant(ctx, request.principal, request.body, { dryRun: true }),
      );
    }
    return idempotent(ctx, request, reply, async () => {
      const { tenant } = await createTenant(ctx, request.principal, request.body, {
        trace: requestTraceContext(request),
      });
      const headers = { location: `/v1/tenants/${tenant.id}`, etag: etagOf(tenant) };
      return { statusCode: 201, body: tenantView(tenant, ctx.deps.providers), headers };
    });
  });
}

function listTenantsRoute(app: ApiApp, ctx: ApiContext, documents: TenantDocumentCache): void {
  const schema = {
    operationId: 'listTenants',
    summary: 'List tenants',
    description:
      'Tenants in id order (ids are UUIDv7, so roughly creation order); archived tenants only with ' +
      '`includeArchived=true` or `phase=archived`. Filters combine: `phase`, `provider`, `labels` ' +
      '(a selector) and `q` (a name prefix). Paged: send the `nextCursor` of a page as `cursor` to ' +
      'get the next one; it is null on the last page.',
    tags,
    querystring: ListTenantsQuery,
    response: { 200: TenantListSchema },
  };
  app.get('/v1/tenants', { schema }, async (request, reply) => {
    const { q, ...query } = request.query;
    return sendTenantPage(ctx, documents, reply, { ...query, namePrefix: q });
  });
}

function getTenantRoute(app: ApiApp, ctx: ApiContext, documents: TenantDocumentCache): void {
  const schema = {
    operationId: 'getTenant',
    summary: 'Get a tenant by id or name',
    description:
      'The tenant with its spec (secret config values read back as `"***"`) and status. The `ETag` ' +
      'header carries its version, for `If-Match` on a later write. With `view=effective`, ' +
      "`spec.config` is the config the tenant runs with — its plan revision's config, its overrides " +
      'and the provider defaults merged — instead of the stored overrides.',
    tags,
    params: IdOrNameParams,
    querystring: TenantViewQuery,
    response: { 200: TenantSchema },
  };
  app.get('/v1/tenants/:idOrName', { schema }, async (request, reply) => {
    if (request.query.view !== 'effective') {
      return sendTenantDocument(ctx, documents, reply, request.params.idOrName);
    }
    const tenant = await requireTenant(ctx, request.params.idOrName);
    const config = await effectiveConfigOf(ctx, tenant.spec);
    return sendTenant(reply, 200, { ...tenant, spec: { ...tenant.spec, config } }, ctx.deps.providers);
  });
}

function tenantEventsRoute(app: ApiApp, ctx: ApiContext): void {
  const schema = {
    operationId: 'listTenantEvents',
    summary: "List a tenant's events",
    description:
      "The tenant's history, oldest first: its creation, spec changes, phase transitions, execution " +
      'status changes and requests such as delete and retry, each with its actor. Paged by `cursor` ' +
      '(an event sequence number). For a live feed use `GET /v1/events?tenantId=…`.',
    tags,
    params: IdOrNameParams,
    querystring: EventPageQuery,
    response: { 200: TenantEventListSchema },
  };
  app.get('/v1/tenants/:idOrName/events', { schema }, async (request) => {
    const tenant = await requireTenant(ctx, request.params.idOrName);
    const { limit, cursor } = request.query;
    const events = await ctx.deps.store.events.listByTenant(tenant.id, {
      afterSeq: cursor ?? 0,
      limit: limit + 1,
    });
    const items = events.slice(0, limit);
    const last = items[items.length - 1];
    return { items, nextCursor: events.length > limit && last ? String(last.seq) : null };
  });
}

function tenantExecutionsRoute(app: ApiApp, ctx: ApiContext): void {
  const schema = {
    operationId: 'listTenantExecutions',
    summary: "List a tenant's compute executions",
    description:
      'Newest first, optionally only those in one `status`. An execution is one provider operation ' +
      '(provision, update or delete) for one workflow run; `GET /v1/compute/executions/{executionId}` ' +
      'adds its status history.',
    tags,
    params: IdOrNameParams,
    querystring: ExecutionsQuery,
    response: { 200: ExecutionListSchema },
  };
  app.get('/v1/tenants/:idOrName/executions', { schema }, async (request) => {
    const tenant = await requireTenant(ctx, request.params.idOrName);
    const { limit, cursor, status } = request.query;
    const page = await ctx.deps.executions.list({
      tenantId: tenant.id,
      limit,
      cursor,
      ...(status && { status }),
    });
    return { items: page.items, nextCursor: page.nextCursor };
  });
}
