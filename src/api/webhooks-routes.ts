/**
 * Webhook subscriptions (admin only; docs/api.md, "Webhooks"): create (the signing secret is in
 * that answer only), list, get, patch, delete, rotate the secret, send a signed test ping, list
 * deliveries with their attempts, retry a delivery by hand. A URL is refused unless a delivery
 * could reach it (scheme, credentials, every resolved address public or allowed).
 */
import { z } from 'zod';
import { ConflictError, NotFoundError, UnavailableError, ValidationError } from '../domain/errors.js';
import { newWebhookSecret, WEBHOOK_TEST_EVENT, type Webhook } from '../domain/webhook.js';
import type { WebhookRepository } from '../store/webhook-store.js';
import { DestinationRefusedError } from '../callbacks/webhook-destination.js';
import type { ApiApp, ApiContext, WebhookApi } from './api-deps.js';
import {
  CreateWebhookRequest,
  DeliveriesQuery,
  DeliveryParams,
  PatchWebhookRequest,
  WebhookDeliveryListSchema,
  WebhookDeliverySchema,
  WebhookListSchema,
  WebhookParams,
  WebhookSchema,
  WebhooksQuery,
  WebhookWithSecretSchema,
} from './schemas-webhooks.js';

const tags = ['webhooks'];
const admin = { access: 'admin' as const };
const JSON_OR_MERGE_PATCH = ['application/json', 'application/merge-patch+json'];

/** The webhook ports, or 503 when this server runs without webhooks. */
function ports(ctx: ApiContext): { webhooks: WebhookRepository; api: WebhookApi } {
  const webhooks = ctx.deps.store.webhooks;
  const api = ctx.deps.webhooks;
  if (!webhooks || !api) throw new UnavailableError('webhooks are not available on this server');
  return { webhooks, api };
}

/** 400 unless a delivery to `url` would be allowed right now. */
async function checkUrl(api: WebhookApi, url: string): Promise<void> {
  try {
    await api.guard.check(new URL(url));
  } catch (error) {
    const message =
      error instanceof DestinationRefusedError
        ? error.message
        : `cannot resolve ${new URL(url).hostname}: ${(error as Error).message}`;
    throw new ValidationError(`webhook URL refused: ${message}`, [{ path: 'body.url', message }]);
  }
}

async function found(webhooks: WebhookRepository, id: string): Promise<Webhook> {
  const webhook = await webhooks.get(id);
  if (!webhook) throw new NotFoundError('webhook', id);
  return webhook;
}

export function registerWebhookRoutes(app: ApiApp, ctx: ApiContext): void {
  registerSubscriptionRoutes(app, ctx);
  registerSecretAndTestRoutes(app, ctx);
  registerDeliveryRoutes(app, ctx);
}

function registerSubscriptionRoutes(app: ApiApp, ctx: ApiContext): void {
  app.post(
    '/v1/webhooks',
    {
      schema: {
        operationId: 'createWebhook',
        summary: 'Subscribe an endpoint to events',
        description:
          'Creates a webhook (201). The answer carries the signing secret (`whsec_…`) — the only ' +
          'time it is shown. Deliveries are signed per Standard Webhooks. The URL must be https ' +
          '(unless the server allows http) and resolve to public addresses only (unless the server ' +
          'allows those networks): otherwise 400.',
        tags,
        body: CreateWebhookRequest,
        response: { 201: WebhookWithSecretSchema },
      },
      config: admin,
    },
    async (request, reply) => {
      const { webhooks, api } = ports(ctx);
      await checkUrl(api, request.body.url);
      const secret = newWebhookSecret();
      const webhook = await webhooks.create({ ...request.body, secret });
      return reply
        .code(201)
        .header('location', `/v1/webhooks/${webhook.id}`)
        .send({ ...webhook, secret });
    },
  );

  app.get(
    '/v1/webhooks',
    {
      schema: {
        operationId: 'listWebhooks',
        summary: 'List webhooks',
        description: 'Every webhook, oldest first, without secrets.',
        tags,
        querystring: WebhooksQuery,
        response: { 200: WebhookListSchema },
      },
      config: admin,
    },
    async (request) => {
      const { webhooks } = ports(ctx);
      const { limit, cursor } = request.query;
      return webhooks.list({ limit, cursor });
    },
  );

  app.get(
    '/v1/webhooks/:id',
    {
      schema: {
        operationId: 'getWebhook',
        summary: 'Get a webhook',
        description: 'One webhook, without its secret.',
        tags,
        params: WebhookParams,
        response: { 200: WebhookSchema },
      },
      config: admin,
    },
    async (request) => found(ports(ctx).webhooks, request.params.id),
  );

  app.patch(
    '/v1/webhooks/:id',
    {
      schema: {
        operationId: 'patchWebhook',
        summary: 'Change a webhook',
        description:
          'Changes any of `url`, `events`, `description`, `enabled` (a merge patch: absent fields ' +
          'stay). A new URL is checked as at create. Enabling a webhook that Lessor disabled ' +
          '(410 Gone) resumes deliveries, the pending ones included.',
        tags,
        params: WebhookParams,
        body: PatchWebhookRequest,
        consumes: JSON_OR_MERGE_PATCH,
        response: { 200: WebhookSchema },
      },
      config: { ...admin, mediaTypes: JSON_OR_MERGE_PATCH },
    },
    async (request) => {
      const { webhooks, api } = ports(ctx);
      await found(webhooks, request.params.id);
      if (request.body.url !== undefined) await checkUrl(api, request.body.url);
      const updated = await webhooks.update(request.params.id, request.body);
      if (!updated) throw new NotFoundError('webhook', request.params.id);
      if (updated.enabled) api.wake();
      return updated;
    },
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      schema: {
        operationId: 'deleteWebhook',
        summary: 'Delete a webhook',
        description: 'Deletes the webhook with its deliveries (204); nothing more is sent to it.',
        tags,
        params: WebhookParams,
        response: { 204: z.null().describe('Deleted.') },
      },
      config: admin,
    },
    async (request, reply) => {
      const deleted = await ports(ctx).webhooks.delete(request.params.id);
      if (!deleted) throw new NotFoundError('webhook', request.params.id);
      return reply.code(204).send(null);
    },
  );
}

function registerSecretAndTestRoutes(app: ApiApp, ctx: ApiContext): void {
  app.post(
    '/v1/webhooks/:id/rotate-secret',
    {
      schema: {
        operationId: 'rotateWebhookSecret',
        summary: 'Rotate the signing secret',
        description:
          'Makes a new signing secret, shown in this answer only. The replaced secret keeps ' +
          'signing too (a second signature in `webhook-signature`) for the overlap the server ' +
          'is configured with (24 h by default), so receivers can switch without losing events.',
        tags,
        params: WebhookParams,
        body: z.strictObject({}).nullish(),
        response: { 200: WebhookWithSecretSchema },
      },
      config: admin,
    },
    async (request) => {
      const { webhooks, api } = ports(ctx);
      const secret = newWebhookSecret();
      const overlapUntil = ctx.now().getTime() + api.secretOverlapMs;
      const webhook = await webhooks.rotateSecret(request.params.id, secret, overlapUntil);
      if (!webhook) throw new NotFoundError('webhook', request.params.id);
      return { ...webhook, secret };
    },
  );

  app.post(
    '/v1/webhooks/:id/test',
    {
      schema: {
        operationId: 'testWebhook',
        summary: 'Send a signed test ping',
        description:
          'Queues a `webhook.test` event for this webhook alone, whatever its filters, and sends ' +
          'it at once (202 with the delivery; follow it with the deliveries endpoints). A ' +
          'disabled webhook is 409.',
        tags,
        params: WebhookParams,
        body: z.strictObject({}).nullish(),
        response: { 202: WebhookDeliverySchema },
      },
      config: admin,
    },
    async (request, reply) => {
      const { webhooks, api } = ports(ctx);
      const webhook = await found(webhooks, request.params.id);
      if (!webhook.enabled) throw new ConflictError(`webhook '${webhook.id}' is disabled; enable it first`);
      const delivery = await webhooks.queue(webhook.id, {
        type: WEBHOOK_TEST_EVENT,
        timestamp: ctx.now().toISOString(),
        data: { webhook: { id: webhook.id, url: webhook.url } },
      });
      if (!delivery) throw new NotFoundError('webhook', webhook.id);
      api.wake();
      return reply.code(202).send(delivery);
    },
  );
}

function registerDeliveryRoutes(app: ApiApp, ctx: ApiContext): void {
  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      schema: {
        operationId: 'listWebhookDeliveries',
        summary: "List a webhook's deliveries",
        description:
          'Newest first, each with its attempts (start, duration, status code, error). ' +
          '`status=failed` lists those refused without retry, `status=dead` those whose retries ran out.',
        tags,
        params: WebhookParams,
        querystring: DeliveriesQuery,
        response: { 200: WebhookDeliveryListSchema },
      },
      config: admin,
    },
    async (request) => {
      const { webhooks } = ports(ctx);
      await found(webhooks, request.params.id);
      const { status, limit, cursor } = request.query;
      return webhooks.listDeliveries(request.params.id, { status, limit, cursor });
    },
  );

  app.get(
    '/v1/webhooks/:id/deliveries/:deliveryId',
    {
      schema: {
        operationId: 'getWebhookDelivery',
        summary: 'Get one delivery',
        description: 'One delivery of the webhook with its attempts.',
        tags,
        params: DeliveryParams,
        response: { 200: WebhookDeliverySchema },
      },
      config: admin,
    },
    async (request) => {
      const { id, deliveryId } = request.params;
      const delivery = await ports(ctx).webhooks.getDelivery(id, deliveryId);
      if (!delivery) throw new NotFoundError('delivery', deliveryId);
      return delivery;
    },
  );

  app.post(
    '/v1/webhooks/:id/deliveries/:deliveryId/retry',
    {
      schema: {
        operationId: 'retryWebhookDelivery',
        summary: 'Retry a delivery',
        description:
          'Sends a delivered, failed or dead delivery again, now (202), with the same `webhook-id` ' +
          'and a new retry window. A delivery still pending is 409.',
        tags,
        params: DeliveryParams,
        body: z.strictObject({}).nullish(),
        response: { 202: WebhookDeliverySchema },
      },
      config: admin,
    },
    async (request, reply) => {
      const { webhooks, api } = ports(ctx);
      const { id, deliveryId } = request.params;
      const outcome = await webhooks.retryDelivery(id, deliveryId, ctx.now().getTime());
      if (outcome === 'missing') throw new NotFoundError('delivery', deliveryId);
      if (outcome === 'pending') throw new ConflictError(`delivery '${deliveryId}' is still pending`);
      api.wake();
      const delivery = await webhooks.getDelivery(id, deliveryId);
      if (!delivery) throw new NotFoundError('delivery', deliveryId);
      return reply.code(202).send(delivery);
    },
  );
}
