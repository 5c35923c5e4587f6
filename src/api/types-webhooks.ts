/** Wire types of the webhook API, inferred from its zod schemas. Type-only. */
import type { z } from 'zod';
import type {
  CreateWebhookRequest,
  PatchWebhookRequest,
  WebhookDeliveryListSchema,
  WebhookDeliverySchema,
  WebhookListSchema,
  WebhookSchema,
  WebhookWithSecretSchema,
} from './schemas-webhooks.js';

export type CreateWebhookInput = z.input<typeof CreateWebhookRequest>;
export type WebhookPatchInput = z.input<typeof PatchWebhookRequest>;
export type WebhookResource = z.output<typeof WebhookSchema>;
export type WebhookWithSecret = z.output<typeof WebhookWithSecretSchema>;
export type WebhookList = z.output<typeof WebhookListSchema>;
export type WebhookDeliveryResource = z.output<typeof WebhookDeliverySchema>;
export type WebhookDeliveryList = z.output<typeof WebhookDeliveryListSchema>;
export interface DeliveriesParams {
  readonly status?: WebhookDeliveryResource['status'];
  readonly limit?: number;
  readonly cursor?: string;
}
