/**
 * The webhook port: subscriptions, their outbox of deliveries, and the dispatcher's claims.
 *
 * Invariants every implementation keeps:
 * - Delivery rows are written by the transaction of the event they report (webhook-outbox.ts);
 *   one row per (webhook, message), so the message id — the `webhook-id` header — never changes
 *   across attempts, retries by hand included.
 * - A delivery is attempted by one dispatcher at a time: `claimDue` leases rows (skipping rows
 *   another transaction holds) and `recordAttempts` applies each outcome only while the caller
 *   still holds that row's lease. A lease that runs out (a crashed process) makes the row
 *   claimable again: at least once.
 * - Both are batches, one transaction each whatever their size: a busy outbox costs a few commits
 *   per drain, not two per delivery.
 * - Signing secrets are sealed at rest under the secrets key, bound to their webhook; every
 *   method returns them in plaintext only through `claim` (the dispatcher) and `create`/`rotate`'s
 *   callers, who made them.
 */
import type {
  DeliveryStatus,
  Webhook,
  WebhookAttempt,
  WebhookDelivery,
  WebhookEvent,
  WebhookSecrets,
} from '../domain/webhook.js';

/** A page of a list (the shape of the store's `Page`, declared here: store.ts imports this file). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

export interface NewWebhook {
  readonly url: string;
  readonly description: string;
  readonly events: readonly string[];
  readonly enabled: boolean;
  /** `whsec_…`, made by the caller (shown to the client once). */
  readonly secret: string;
}

export interface WebhookPatch {
  readonly url?: string;
  readonly description?: string;
  readonly events?: readonly string[];
  /** Enabling clears `disabledReason`. */
  readonly enabled?: boolean;
}

/** Where a claimed delivery goes and how it is signed. */
export interface WebhookTarget {
  readonly webhookId: string;
  readonly url: string;
  readonly secrets: WebhookSecrets;
}

export interface ClaimedDelivery {
  readonly webhookId: string;
  readonly messageId: string;
  readonly eventType: string;
  readonly event: WebhookEvent;
  /** Attempts made before this claim. */
  readonly attempts: number;
  /** Epoch ms: start of the retry window. */
  readonly windowStart: number;
  /** Epoch ms the delivery was queued (the event's commit). */
  readonly queuedAt: number;
  /** W3C traceparent of the context that queued it; null when none was recorded. */
  readonly traceparent: string | null;
}

/** What `claimDue` may lease. */
export interface ClaimRequest {
  readonly owner: string;
  readonly now: number;
  readonly leaseUntil: number;
  /** Most deliveries leased in all. */
  readonly limit: number;
  /** Most deliveries of one webhook in flight, counting `inFlight`. */
  readonly perWebhook: number;
  /** Deliveries the caller has in flight, by webhook id (absent: none). */
  readonly inFlight: ReadonlyMap<string, number>;
}

/** One webhook's leased deliveries, with where they go. */
export interface WebhookClaim {
  readonly target: WebhookTarget;
  readonly deliveries: readonly ClaimedDelivery[];
}

export interface ClaimResult {
  readonly claims: readonly WebhookClaim[];
  /**
   * Webhooks whose deliveries were leased but cannot be sent (a secret that no longer opens):
   * their leases run out and they are claimed again later; the others are unaffected.
   */
  readonly failures: readonly { readonly webhookId: string; readonly error: unknown }[];
}

/** One attempt's outcome for `recordAttempts`. */
export interface AttemptOutcome {
  readonly webhookId: string;
  readonly messageId: string;
  readonly record: AttemptRecord;
}

/** Fleet-wide counts of the outbox (metrics). */
export interface WebhookOutboxStats {
  readonly pending: number;
  readonly dead: number;
}

/** What an attempt ended in, and what becomes of the delivery. */
export interface AttemptRecord {
  readonly attempt: WebhookAttempt;
  readonly status: DeliveryStatus;
  /** Epoch ms of the next attempt (status pending). */
  readonly nextAttemptAt?: number;
  /** Disable the webhook (an endpoint that answered 410 Gone), giving this reason. */
  readonly disableWebhook?: string;
}

export type RetryOutcome = 'retried' | 'pending' | 'missing';

export interface WebhookRepository {
  create(input: NewWebhook): Promise<Webhook>;
  get(id: string): Promise<Webhook | undefined>;
  /** Oldest first, keyset-paginated by id. */
  list(query: { limit: number; cursor?: string | undefined }): Promise<Page<Webhook>>;
  update(id: string, patch: WebhookPatch): Promise<Webhook | undefined>;
  /** Deletes the webhook with its deliveries; false when there was none. */
  delete(id: string): Promise<boolean>;
  /** `secret` signs from now on; the one it replaces keeps signing until `previousExpiresAt` (epoch ms). */
  rotateSecret(id: string, secret: string, previousExpiresAt: number): Promise<Webhook | undefined>;
  /** Queues `event` for this one webhook (the signed ping), whatever its filters. */
  queue(id: string, event: WebhookEvent): Promise<WebhookDelivery | undefined>;
  /** Queues `event` for every subscriber in a transaction of its own (no change to pair it with). */
  publish(event: WebhookEvent): Promise<string>;
  /** Newest first. */
  listDeliveries(
    webhookId: string,
    query: { status?: DeliveryStatus | undefined; limit: number; cursor?: string | undefined },
  ): Promise<Page<WebhookDelivery>>;
  getDelivery(webhookId: string, messageId: string): Promise<WebhookDelivery | undefined>;
  /**
   * A delivery that is not pending (delivered, failed, dead) becomes pending now, with a new retry
   * window and its attempts kept; `pending` when it already was.
   */
  retryDelivery(webhookId: string, messageId: string, now: number): Promise<RetryOutcome>;

  /**
   * Leases due, unleased deliveries of enabled webhooks to `owner` until `leaseUntil`, oldest due
   * first per webhook, in one transaction: at most `limit` in all and at most `perWebhook` minus
   * what the caller has in flight for each webhook.
   */
  claimDue(request: ClaimRequest): Promise<ClaimResult>;
  /**
   * Applies each outcome, in one transaction, only while `owner` still holds that delivery's lease;
   * the answer says, per outcome in order, whether it applied.
   */
  recordAttempts(owner: string, outcomes: readonly AttemptOutcome[]): Promise<readonly boolean[]>;
  /** Deliveries pending (of any webhook) and dead, fleet-wide: two indexed counts. */
  outboxStats(): Promise<WebhookOutboxStats>;
  /** When the next delivery of an enabled webhook becomes claimable (epoch ms); null: none pending. */
  nextDueAt(): Promise<number | null>;
}
