/**
 * The OpenAPI 3.1 document, generated from the route schemas (`@fastify/swagger` +
 * fastify-type-provider-zod), served at `/openapi.json`, with swagger-ui at `/docs`. Both are open
 * (no token): the document describes the API, it holds no data. docs/api.md is its guide in prose.
 *
 * Each operation also states who may call it: `x-lessor-roles` (from the route's `config.access`,
 * through the same grants the server enforces) and a closing sentence of its description.
 * `finishDocument` adds what the route schemas do not say (openapi-document.ts).
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { RouteOptions } from 'fastify';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { ApiApp } from './api-deps.js';
import { rolesFor, type Access } from './auth.js';
import { finishDocument } from './openapi-document.js';

export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PREFIX = '/docs';

const DESCRIPTION = [
  'Lessor is a tenant provisioning control plane: declare a tenant (a name plus the compute it needs)',
  'and Lessor drives it to running compute on a pluggable provider through durable workflows.',
  '',
  'Authentication is a bearer token with the role `viewer` (read), `operator` (read and change',
  'tenants) or `admin` (everything). Errors are RFC 9457 `application/problem+json` with a stable',
  '`code`. Tenant writes take `If-Match` (412 when stale); a create takes `Idempotency-Key`. Lists',
  'are paged with `limit` and the `nextCursor` of the previous page. The repository file',
  '`docs/api.md` explains resources, errors, concurrency and idempotency in full.',
].join('\n');

export const TAGS = [
  { name: 'tenants', description: 'Tenants: their spec, status, event history and compute executions.' },
  {
    name: 'plans',
    description: 'Plans: versioned, admin-owned templates (product tiers) that tenants are made from.',
  },
  { name: 'workflows', description: 'Workflow runs that drive a tenant, with their step journal.' },
  { name: 'compute', description: 'Compute providers and the executions tracked on them.' },
  {
    name: 'callbacks',
    description: 'The callback outbox from compute executions to workflows; dead letters.',
  },
  { name: 'events', description: 'A live, resumable stream of tenant events (Server-Sent Events).' },
  { name: 'audit', description: 'The append-only audit trail of acts that erase history.' },
  {
    name: 'webhooks',
    description: "Signed webhooks (Standard Webhooks) to the user's own endpoints, with their deliveries.",
  },
  {
    name: 'rollouts',
    description: 'Fleet changes in waves: health-gated, halted by a failure rate, rolled back on demand.',
  },
  { name: 'auth', description: 'Who the caller is and what its role may do.' },
  { name: 'operations', description: 'Liveness, readiness and Prometheus metrics; no token needed.' },
] as const;

/** Adds who may call the operation to its schema (`x-` keys are copied onto the operation). */
function withRoles(schema: Record<string, unknown>, access: Access): Record<string, unknown> {
  const roles = access === 'open' ? [] : rolesFor(access);
  const who =
    access === 'identify'
      ? 'No token needed; a token that is sent must be valid.'
      : roles.length === 0
        ? 'No token needed.'
        : `Roles: ${roles.map((role) => `\`${role}\``).join(', ')}.`;
  const description = typeof schema.description === 'string' ? `${schema.description}\n\n${who}` : who;
  return { ...schema, description, 'x-lessor-roles': roles };
}

export async function registerOpenApi(app: ApiApp, version: string): Promise<void> {
  // swagger-ui registers its own routes: mark them open before they exist.
  app.addHook('onRoute', (route) => {
    if (route.url === DOCS_PREFIX || route.url.startsWith(`${DOCS_PREFIX}/`)) {
      route.config = { ...route.config, access: 'open' };
    }
  });
  const zodTransform = createJsonSchemaTransform({ skipList: [] });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Lessor API',
        version,
        description: DESCRIPTION,
        contact: { name: 'Lessor maintainers' },
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      // Relative: the server that served this document, whatever address it is reached at.
      servers: [{ url: '/', description: 'The Lessor server that serves this document' }],
      tags: [...TAGS],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearerAuth: [] }],
    },
    transform: (input) => {
      const out = zodTransform(input);
      const route = input.route as RouteOptions & { config?: { access?: Access } };
      const access = route.config?.access ?? 'read';
      return { ...out, schema: withRoles(out.schema as Record<string, unknown>, access) };
    },
    transformObject: (input) => finishDocument(jsonSchemaTransformObject(input) as Record<string, unknown>),
  });
  await app.register(fastifySwaggerUi, { routePrefix: DOCS_PREFIX });
  app.get(OPENAPI_PATH, { schema: { hide: true }, config: { access: 'open' } }, async (_request, reply) =>
    reply.type('application/json').send(app.swagger()),
  );
}
