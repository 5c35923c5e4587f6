/**
 * Callback outbox and dead letters: `GET /v1/callbacks?state=dead` lists parked callbacks;
 * `POST /v1/callbacks/{id}/redrive` (admin) moves a dead one back to pending with attempts reset.
 */
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import type { ApiApp, ApiContext } from './api-deps.js';
import { CallbackParams, CallbacksQuery } from './schemas-query.js';
import { CallbackListSchema, CallbackSchema } from './schemas-resources.js';

const tags = ['callbacks'];

export function registerCallbackRoutes(app: ApiApp, ctx: ApiContext): void {
  const { callbacks } = ctx.deps.store;

  app.get(
    '/v1/callbacks',
    {
      schema: {
        operationId: 'listCallbacks',
        summary: 'List callbacks; state=dead lists the dead letters',
        description:
          'Every status change of a compute execution is reported to the waiting workflow through a ' +
          'durable outbox of callbacks: `pending` until delivered, then `delivered`. A callback that ' +
          'could not be delivered after the configured attempts is parked as `dead` (a dead letter) ' +
          'until an admin re-drives it. Oldest first.',
        tags,
        querystring: CallbacksQuery,
        response: { 200: CallbackListSchema },
      },
    },
    async (request) => {
      const { state, limit, cursor } = request.query;
      const page = await callbacks.list({ limit, cursor, ...(state && { state }) });
      return { items: page.items, nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/v1/callbacks/:id/redrive',
    {
      schema: {
        operationId: 'redriveCallback',
        summary: 'Re-drive a dead callback',
        description:
          'Moves a dead callback back to `pending` with its attempts reset and wakes the ' +
          'dispatcher (202). A callback that is not dead is 409. The body may be left out.',
        tags,
        params: CallbackParams,
        body: z.strictObject({}).nullish(),
        response: { 202: CallbackSchema },
      },
      config: { access: 'admin' },
    },
    async (request, reply) => {
      const { id } = request.params;
      const existing = await callbacks.get(id);
      if (!existing) throw new NotFoundError('callback', id);
      const redriven = await callbacks.redrive(id, ctx.now().getTime());
      if (!redriven)
        throw new ConflictError(
          `callback '${id}' is ${existing.state}; only a dead callback can be re-driven`,
        );
      ctx.deps.wakeCallbacks?.();
      const current = (await callbacks.get(id)) ?? existing;
      return reply.code(202).send(current);
    },
  );
}
