/**
 * Webhooks: subscriptions of the user's own HTTP endpoints to Lessor's events, signed per the
 * Standard Webhooks specification (docs/api.md, "Webhooks"). Pure: the types, the event catalogue,
 * subscription filters, and which tenant events become which webhook event.
 */
import { randomBytes } from 'node:crypto';
import type { TenantEventDraft } from './tenant-event.js';

export const TENANT_WEBHOOK_EVENTS = [
  'tenant.created',
  'tenant.ready',
  'tenant.updated',
  'tenant.failed',
  'tenant.suspended',
  'tenant.resumed',
  'tenant.deleted',
] as const;

export const ROLLOUT_WEBHOOK_EVENTS = [
  'rollout.started',
  'rollout.halted',
  'rollout.succeeded',
  'rollout.aborted',
  'rollout.rolled_back',
] as const;

export const WEBHOOK_EVENT_TYPES = [
  ...TENANT_WEBHOOK_EVENTS,
  'execution.failed',
  ...ROLLOUT_WEBHOOK_EVENTS,
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
export type RolloutWebhookEventType = (typeof ROLLOUT_WEBHOOK_EVENTS)[number];

/** The signed ping of `POST /v1/webhooks/{id}/test`: sent whatever the subscription's filters say. */
export const WEBHOOK_TEST_EVENT = 'webhook.test';

/** A filter names one event type, every type of a group (`tenant.*`), or everything (`*`). */
export function isEventFilter(filter: string): boolean {
  if (filter === '*') return true;
  if (filter.endsWith('.*')) {
    const group = filter.slice(0, -1);
    return WEBHOOK_EVENT_TYPES.some((type) => type.startsWith(group));
  }
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(filter);
}

/** The filters that select `type`: itself, its group's wildcard and `*`. */
export function filtersSelecting(type: string): readonly string[] {
  const dot = type.indexOf('.');
  return dot < 0 ? [type, '*'] : [type, `${type.slice(0, dot)}.*`, '*'];
}

export function matchesFilters(filters: readonly string[], type: string): boolean {
  return filtersSelecting(type).some((filter) => filters.includes(filter));
}

/**
 * The webhook event a tenant event stands for, if any. Phases map by where the tenant arrives
 * (ready, failed, archived = deleted, suspended) or leaves (suspended = resumed); a spec change is
 * `tenant.updated`; a compute execution that ends failed is `execution.failed`.
 */
export function webhookEventOf(event: TenantEventDraft): WebhookEventType | undefined {
  switch (event.type) {
    case 'Created':
      return 'tenant.created';
    case 'SpecChanged':
      return 'tenant.updated';
    case 'PhaseChanged':
      return phaseEventOf(event.fromPhase, event.toPhase);
    case 'ExecutionStatusChanged':
      return event.data?.['status'] === 'failed' ? 'execution.failed' : undefined;
    default:
      return undefined;
  }
}

function phaseEventOf(from: string | null, to: string | null): WebhookEventType | undefined {
  if (to === from) return undefined;
  switch (to) {
    case 'ready':
      return from === 'suspended' ? 'tenant.resumed' : 'tenant.ready';
    case 'failed':
      return 'tenant.failed';
    case 'archived':
      return 'tenant.deleted';
    case 'suspended':
      return 'tenant.suspended';
    default:
      return from === 'suspended' && to !== 'deleting' ? 'tenant.resumed' : undefined;
  }
}

/** One event as it waits in the webhook outbox: the wire body minus rendering (see WebhookRenderer). */
export interface WebhookEvent {
  readonly type: string;
  /** RFC 3339; when the event happened. */
  readonly timestamp: string;
  /** `{tenant}`, `{tenant, execution}` or `{rollout}`: the resource as it was, secrets erased. */
  readonly data: Readonly<Record<string, unknown>>;
}

export interface Webhook {
  readonly id: string;
  readonly url: string;
  readonly description: string;
  readonly events: readonly string[];
  readonly enabled: boolean;
  /** Why Lessor disabled it (an endpoint that answered 410 Gone); null when enabled by hand. */
  readonly disabledReason: string | null;
  /** Until when the secret replaced by the last rotation still signs (two signatures); else null. */
  readonly previousSecretExpiresAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** The signing secrets of one webhook, in memory only (sealed at rest). */
export interface WebhookSecrets {
  readonly current: string;
  /** Still signing until `previousExpiresAt` (epoch ms). */
  readonly previous: string | null;
  readonly previousExpiresAt: number | null;
}

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'dead'] as const;
/**
 * pending: waiting for its next attempt; delivered: a 2xx; failed: refused without retry (4xx,
 * redirect, destination not allowed); dead: retries ran out. failed and dead can be retried by hand.
 */
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface WebhookAttempt {
  readonly attempt: number;
  readonly startedAt: string;
  readonly durationMs: number;
  /** The endpoint's HTTP status; null when no response came (timeout, connection error, refused). */
  readonly statusCode: number | null;
  readonly error: string | null;
}

export interface WebhookDelivery {
  /** The message id: the `webhook-id` header, the same on every attempt. */
  readonly id: string;
  readonly webhookId: string;
  readonly eventType: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  /** When the next attempt is due (pending only). */
  readonly nextAttemptAt: string | null;
  /** When the retry window began (creation, or the last retry by hand); dead once it is over. */
  readonly windowStart: string;
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly deliveredAt: string | null;
  readonly attemptLog: readonly WebhookAttempt[];
}

/** `whsec_` + base64 of 32 random bytes, as Standard Webhooks libraries expect. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Message ids: `msg_` + a time-ordered id, so a webhook's deliveries sort by creation. */
export function messageIdOf(id: string): string {
  return `msg_${id.replaceAll('-', '')}`;
}
