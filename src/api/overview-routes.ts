/**
 * `GET /v1/whoami` (the caller's identity and grants, so a client can show only what the role may
 * do; the routes still enforce) and `GET /v1/tenant-summary` (tenants per phase, counted by the
 * database, so an overview never fetches the fleet to count it).
 */
import type { ApiApp, ApiContext } from './api-deps.js';
import { grantsOf, isUnidentified } from './auth.js';
import { TenantSummaryQuery, TenantSummarySchema, WhoAmISchema } from './schemas-overview.js';

export function registerOverviewRoutes(app: ApiApp, ctx: ApiContext): void {
  app.get(
    '/v1/whoami',
    {
      schema: {
        operationId: 'whoAmI',
        summary: 'Who the caller is',
        description:
          "The caller's token name and role and what that role may do (`grants`), and whether the " +
          'server requires a token at all (`authRequired`). No token is needed to ask: without one, ' +
          'a server with tokens answers `authenticated: false`, no role and no grants (a client then ' +
          'asks for a token); a token that is sent must be valid (else 401).',
        tags: ['auth'],
        // The token is optional: anonymous, or a bearer token.
        security: [{}, { bearerAuth: [] }],
        response: { 200: WhoAmISchema },
      },
      config: { access: 'identify' },
    },
    async (request) => {
      const { principal } = request;
      const authRequired = ctx.options.tokens.length > 0;
      const known = !isUnidentified(principal, authRequired);
      return {
        name: principal.name,
        role: known ? principal.role : null,
        authenticated: principal.authenticated,
        authRequired,
        grants: known ? grantsOf(principal.role) : [],
      };
    },
  );

  app.get(
    '/v1/tenant-summary',
    {
      schema: {
        operationId: 'summarizeTenants',
        summary: 'Count tenants by phase',
        description:
          'How many tenants are in each phase (every phase listed, archived included) and how many ' +
          'are not archived, optionally of one `provider`. Counted by the database from an index.',
        tags: ['tenants'],
        querystring: TenantSummaryQuery,
        response: { 200: TenantSummarySchema },
      },
    },
    async (request) => {
      const phases = await ctx.deps.store.tenants.countByPhase({ provider: request.query.provider });
      const total = Object.entries(phases).reduce(
        (sum, [phase, n]) => (phase === 'archived' ? sum : sum + n),
        0,
      );
      return { total, phases };
    },
  );
}
