/**
 * How a webhook event leaves Lessor: `{type, timestamp, data}` with the resources it carries as
 * the API shows them — a tenant through the same view as `GET /v1/tenants/{id}` (secret config
 * values `***`), an execution and a rollout with credential-named values masked.
 */
import type { Tenant } from '../domain/tenant.js';
import type { WebhookEvent } from '../domain/webhook.js';
import type { ProviderCatalog } from './api-deps.js';
import { redactDeep, tenantView, tenantWire } from './tenant-view.js';

export function renderWebhookEvent(event: WebhookEvent, providers: ProviderCatalog): unknown {
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event.data)) {
    data[key] =
      key === 'tenant' && value !== null && typeof value === 'object'
        ? tenantWire(tenantView(value as Tenant, providers))
        : redactDeep(value, providers);
  }
  return { type: event.type, timestamp: event.timestamp, data };
}
