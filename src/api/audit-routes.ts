/**
 * `GET /v1/audit` (admin): the audit trail, newest first — records of acts that erase their own
 * history, such as a tenant purge. Records are never changed or deleted.
 */
import type { ApiApp, ApiContext } from './api-deps.js';
import { PageQuery } from './schemas-query.js';
import { AuditRecordListSchema } from './schemas-resources.js';

export function registerAuditRoutes(app: ApiApp, ctx: ApiContext): void {
  app.get(
    '/v1/audit',
    {
      schema: {
        operationId: 'listAuditRecords',
        summary: 'List the audit trail',
        description:
          'Records of acts that erase their own history, newest first: who purged which tenant, and ' +
          'when. Records are never changed or deleted, and outlive the tenant and its events.',
        tags: ['audit'],
        querystring: PageQuery,
        response: { 200: AuditRecordListSchema },
      },
      config: { access: 'admin' },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const page = await ctx.deps.store.audit.list({ limit, cursor });
      return { items: page.items, nextCursor: page.nextCursor };
    },
  );
}
