/**
 * Provider discovery: `GET /v1/compute/providers` (configured providers, which one is the default,
 * their defaults with secrets redacted, schema links) and `GET /v1/compute/providers/{type}/schema`.
 */
import { NotFoundError } from '../domain/errors.js';
import type { ApiApp, ApiContext } from './api-deps.js';
import { ProviderParams } from './schemas-query.js';
import { JsonSchemaDocument, ProviderListSchema } from './schemas-resources.js';

const tags = ['compute'];

/** The provider a spec without `provider` gets, or null when a spec must name one. */
export function defaultProviderOf(ctx: ApiContext): string | null {
  const { providers } = ctx.deps;
  try {
    return providers.resolveProvider(undefined, ctx.options.defaultProvider);
  } catch {
    return null;
  }
}

export function registerProviderRoutes(app: ApiApp, ctx: ApiContext): void {
  const { providers } = ctx.deps;

  app.get(
    '/v1/compute/providers',
    {
      schema: {
        operationId: 'listProviders',
        summary: 'List the configured compute providers',
        description:
          'The providers this server may run tenants on, which one a spec without `provider` gets, ' +
          "each provider's configured defaults (merged under every tenant's `spec.config`; secrets " +
          'shown as `"***"`), its per-call timeout and the link to its config schema.',
        tags,
        response: { 200: ProviderListSchema },
      },
    },
    async () => {
      const defaultProvider = defaultProviderOf(ctx);
      const items = providers.list().map((p) => ({
        type: p.type,
        default: p.type === defaultProvider,
        defaults: providers.redactSecrets(p.type, p.defaults),
        timeoutMs: p.timeoutMs,
        schemaUrl: p.schemaUrl,
      }));
      return { items, defaultProvider };
    },
  );

  app.get(
    '/v1/compute/providers/:type/schema',
    {
      schema: {
        operationId: 'getProviderSchema',
        summary: "Get a provider's config schema",
        description:
          "The JSON Schema (2020-12) that a tenant's `spec.config` must satisfy for this provider. " +
          'Its annotations say who may write what: `x-lessor-secret` (write-only, read back as ' +
          '`"***"`), `x-lessor-privileged` (admin only), `x-lessor-code` (decides the code that runs ' +
          "with the tenant's env; see docs/api.md).",
        tags,
        params: ProviderParams,
        response: { 200: JsonSchemaDocument },
      },
    },
    async (request) => {
      const schema = providers.schema(request.params.type);
      if (!schema) throw new NotFoundError('compute provider', request.params.type);
      return schema;
    },
  );
}
