/**
 * The OpenAPI 3.1 document, generated from the route schemas (`@fastify/swagger` +
 * fastify-type-provider-zod), served at `/openapi.json`, with swagger-ui at `/docs`. Both are open
 * (no token): the document describes the API, it holds no data.
 *
 * `finishDocument` adds what the route schemas do not say: problem+json error responses on every
 * operation, the SSE and metrics media types, and it drops unreferenced components and the `Input`
 * suffix the zod transform gives to request-only schemas.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { ApiApp } from './api-deps.js';
import { finishDocument } from './openapi-document.js';

export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PREFIX = '/docs';

export async function registerOpenApi(app: ApiApp, version: string): Promise<void> {
  // swagger-ui registers its own routes: mark them open before they exist.
  app.addHook('onRoute', (route) => {
    if (route.url === DOCS_PREFIX || route.url.startsWith(`${DOCS_PREFIX}/`)) {
      route.config = { ...route.config, access: 'open' };
    }
  });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Lessor API',
        version,
        description:
          'Tenant provisioning control plane. Errors are RFC 9457 `application/problem+json` with a stable `code`.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearerAuth: [] }],
    },
    transform: createJsonSchemaTransform({ skipList: [] }),
    transformObject: (input) => finishDocument(jsonSchemaTransformObject(input) as Record<string, unknown>),
  });
  await app.register(fastifySwaggerUi, { routePrefix: DOCS_PREFIX });
  app.get(OPENAPI_PATH, { schema: { hide: true }, config: { access: 'open' } }, async (_request, reply) =>
    reply.type('application/json').send(app.swagger()),
  );
}
