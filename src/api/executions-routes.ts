/** `GET /v1/compute/executions/{executionId}`: one compute execution with its status history. */
import { NotFoundError } from '../domain/errors.js';
import type { ApiApp, ApiContext } from './api-deps.js';
import { ExecutionParams } from './schemas-query.js';
import { ExecutionWithHistorySchema } from './schemas-resources.js';

export function registerExecutionRoutes(app: ApiApp, ctx: ApiContext): void {
  app.get(
    '/v1/compute/executions/:executionId',
    {
      schema: {
        operationId: 'getExecution',
        summary: 'Get a compute execution with its history',
        description:
          'One provider operation (provision, update or delete) as Lessor tracked it: its status ' +
          '(pending → running → succeeded | failed), attempts, the resources and endpoints it ' +
          'reported, a classified error when it failed, and every status change in `history`.',
        tags: ['compute'],
        params: ExecutionParams,
        response: { 200: ExecutionWithHistorySchema },
      },
    },
    async (request) => {
      const execution = await ctx.deps.executions.get(request.params.executionId);
      if (!execution) throw new NotFoundError('compute execution', request.params.executionId);
      return execution;
    },
  );
}
