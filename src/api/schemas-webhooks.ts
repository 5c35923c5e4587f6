/**
 * Wire schemas of the webhook API (docs/api.md, "Webhooks"). Requests are strict; a URL is checked
 * here for shape only — whether Lessor may reach it is the address guard's call in the route.
 */
import { z } from 'zod';
import { DELIVERY_STATUSES, WEBHOOK_EVENT_TYPES } from '../domain/webhook.js';
import { MAX_PAGE, ResourceIdPattern } from './schemas-query.js';

/** Every filter a subscription may name: one type, a group's wildcard, or everything. */
export const EVENT_FILTERS = [...WEBHOOK_EVENT_TYPES, 'tenant.*', 'execution.*', 'rollout.*', '*'] as const;

const url = z
  .string()
  .max(2048)
  .refine((text) => URL.canParse(text), 'must be an absolute URL')
  .describe('Where deliveries are POSTed: https (http only where the server allows it), a public address.');
const events = z
  .array(z.enum(EVENT_FILTERS))
  .min(1)
  .max(EVENT_FILTERS.length)
  .refine((list) => new Set(list).size === list.length, 'must not repeat a filter')
  .describe('Event types to receive: a type (`tenant.ready`), a group (`tenant.*`) or everything (`*`).');
const description = z.string().max(500).describe('Free text for the humans who manage it.');
const enabled = z
  .boolean()
  .describe('Disabled webhooks receive nothing; enabling one clears `disabledReason`.');

export const CreateWebhookRequest = z
  .strictObject({ url, events, description: description.default(''), enabled: enabled.default(true) })
  .meta({ id: 'CreateWebhookRequest' });

export const PatchWebhookRequest = z
  .strictObject({
    url: url.optional(),
    events: events.optional(),
    description: description.optional(),
    enabled: enabled.optional(),
  })
  .meta({ id: 'WebhookPatch' });

const webhookFields = {
  id: z.string(),
  url: z.string(),
  description: z.string(),
  events: z.array(z.string()).readonly(),
  enabled: z.boolean(),
  disabledReason: z.string().nullable().describe('Why Lessor disabled it (the endpoint answered 410 Gone).'),
  previousSecretExpiresAt: z
    .string()
    .nullable()
    .describe('Until when the secret replaced by the last rotation still signs too.'),
  createdAt: z.string(),
  updatedAt: z.string(),
};

export const WebhookSchema = z.object(webhookFields).meta({ id: 'Webhook' });

export const WebhookWithSecretSchema = z
  .object({
    ...webhookFields,
    secret: z.string().describe('The signing secret (`whsec_…`). Shown this once: store it now.'),
  })
  .meta({ id: 'WebhookWithSecret' });

export const WebhookListSchema = z
  .object({ items: z.array(WebhookSchema).readonly(), nextCursor: z.string().nullable() })
  .meta({ id: 'WebhookList' });

const AttemptSchema = z.object({
  attempt: z.number(),
  startedAt: z.string(),
  durationMs: z.number(),
  statusCode: z
    .number()
    .nullable()
    .describe('null when no answer came (timeout, connection error, refused).'),
  error: z.string().nullable(),
});

export const WebhookDeliverySchema = z
  .object({
    id: z.string().describe('The message id, sent as `webhook-id` on every attempt.'),
    webhookId: z.string(),
    eventType: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number(),
    nextAttemptAt: z.string().nullable(),
    windowStart: z.string().describe('Retries stop (dead) once the retry window from here is over.'),
    lastStatusCode: z.number().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    deliveredAt: z.string().nullable(),
    attemptLog: z.array(AttemptSchema).readonly(),
  })
  .meta({ id: 'WebhookDelivery' });

export const WebhookDeliveryListSchema = z
  .object({ items: z.array(WebhookDeliverySchema).readonly(), nextCursor: z.string().nullable() })
  .meta({ id: 'WebhookDeliveryList' });

const id = z.string().regex(ResourceIdPattern, 'is not a valid id');
export const WebhookParams = z.strictObject({ id: id.describe('Webhook id.') });
export const DeliveryParams = z.strictObject({
  id: id.describe('Webhook id.'),
  deliveryId: id.describe('Delivery id (its message id, `msg_…`).'),
});

export const DeliveriesQuery = z.strictObject({
  status: z.enum(DELIVERY_STATUSES).optional().describe('Only deliveries in this status.'),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(50).describe(`Page size, 1-${MAX_PAGE}.`),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_\-.~:=+/]{1,1024}$/, 'must be a cursor returned by a previous page')
    .optional()
    .describe('`nextCursor` of the previous page.'),
});

export const WebhooksQuery = DeliveriesQuery.omit({ status: true });
