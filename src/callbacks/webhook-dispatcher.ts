/**
 * Delivers the webhook outbox (docs/architecture.md, "Webhooks and callbacks"). A drain leases, in
 * one transaction, due deliveries across webhooks — up to each webhook's free slots (at most
 * `maxConcurrencyPerEndpoint` requests in flight per endpoint) and `maxInFlight` in all — and
 * sends each on its own: the drain never waits for an HTTP answer, so a slow or dead endpoint only
 * ever holds its own slots — never another endpoint's deliveries, the callback dispatcher or any
 * API request. A slot is freed when the endpoint answers; the outcome is then recorded under the
 * lease, batched with the other outcomes that finished meanwhile (one transaction for many, see
 * write-batcher.ts). A lease is longer than an attempt's timeout plus the recording, so an attempt
 * that a crash cut short is retried (same `webhook-id`) once it expires: at least once.
 *
 * Wake-ups (drain-loop.ts): `wake()` after a commit that queued deliveries (the store's
 * `webhooks` change signal), a freed slot, a recorded outcome, a timer on the next due row, and a
 * slow poll (other replicas' writes).
 *
 * Each attempt is a span `webhook deliver` (a trace of its own) and is counted in the webhook
 * metrics (docs/operations.md).
 */
import { errorMessage, StoreUnavailableError } from '../domain/errors.js';
import type { Logger } from '../domain/logger.js';
import { NO_WEBHOOK_METRICS, secondsSince, type WebhookMetrics } from '../domain/metrics.js';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, startSpan, type Span } from '../domain/tracing.js';
import { decideAfterAttempt, type AttemptResult, type RetrySchedule } from '../domain/webhook-retry.js';
import { webhookHeaders } from '../domain/webhook-signature.js';
import type { DeliveryStatus, WebhookEvent } from '../domain/webhook.js';
import type {
  AttemptOutcome,
  AttemptRecord,
  ClaimedDelivery,
  WebhookRepository,
  WebhookTarget,
} from '../store/webhook-store.js';
import { DrainLoop } from './drain-loop.js';
import { AttemptAbortedError, type SendWebhook } from './webhook-sender.js';
import { WriteBatcher } from './write-batcher.js';

export interface WebhookDispatcherOptions extends RetrySchedule {
  readonly timeoutMs: number;
  readonly maxConcurrencyPerEndpoint: number;
  readonly maxInFlight: number;
  readonly pollIntervalMs: number;
}

/** The body of an event as it goes out: the API's view of the resource it carries. */
export type WebhookRenderer = (event: WebhookEvent) => unknown;

export interface WebhookDispatcherDeps {
  readonly webhooks: Pick<WebhookRepository, 'claimDue' | 'recordAttempts' | 'nextDueAt'>;
  readonly send: SendWebhook;
  readonly render: WebhookRenderer;
  /** Lease owner: unique per process. */
  readonly ownerId: string;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly metrics?: WebhookMetrics;
}

/** Extra lease beyond an attempt's timeout: recording the outcome must fit in it. */
const LEASE_MARGIN_MS = 15_000;
/** Outcomes recorded per transaction at most. */
const OUTCOMES_PER_COMMIT = 256;

export class WebhookDispatcher {
  private readonly loop: DrainLoop;
  /** Requests in flight, by webhook id (a slot is held from the claim to the endpoint's answer). */
  private readonly sending = new Map<string, number>();
  private sendingTotal = 0;
  /** Every attempt from its claim until its outcome is recorded (or given up). */
  private readonly attempts = new Set<Promise<void>>();
  private readonly outcomes: WriteBatcher<AttemptOutcome, boolean>;
  private abort = new AbortController();

  constructor(
    private readonly deps: WebhookDispatcherDeps,
    private readonly options: WebhookDispatcherOptions,
  ) {
    this.loop = new DrainLoop({
      drain: () => this.drain(),
      nextDueAt: () => this.deps.webhooks.nextDueAt(),
      pollIntervalMs: options.pollIntervalMs,
      // Due already, yet the drain claimed nothing: every due endpoint is at its limit, and each
      // freed slot wakes the dispatcher anyway.
      whenPastDue: 'poll',
      onError: (error) => this.deps.logger.warn({ err: error }, 'webhook drain failed; will retry'),
      now: () => this.now(),
    });
    this.outcomes = new WriteBatcher(
      (outcomes) => this.deps.webhooks.recordAttempts(this.deps.ownerId, outcomes),
      OUTCOMES_PER_COMMIT,
    );
  }

  start(): void {
    this.abort = new AbortController();
    this.loop.start();
  }

  /**
   * Stops claiming; attempts in flight get `graceMs` to finish, then are cut off unrecorded (their
   * leases run out and the deliveries are attempted again, by this process after a restart or by
   * another replica).
   */
  async stop(graceMs = 0): Promise<void> {
    await this.loop.stop();
    if (this.attempts.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([Promise.allSettled([...this.attempts]), grace]);
      clearTimeout(timer);
    }
    this.abort.abort();
    await Promise.allSettled([...this.attempts]);
  }

  /** Drain now (coalesced: a wake during a drain runs one more drain afterwards). */
  wake(): void {
    this.loop.wake();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const room = this.options.maxInFlight - this.sendingTotal;
      if (!this.loop.running || room <= 0) return;
      const now = this.now();
      const { claims, failures } = await this.deps.webhooks.claimDue({
        owner: this.deps.ownerId,
        now,
        leaseUntil: now + this.options.timeoutMs + LEASE_MARGIN_MS,
        limit: room,
        perWebhook: this.options.maxConcurrencyPerEndpoint,
        inFlight: new Map(this.sending),
      });
      // One webhook's failure (a secret that no longer opens) never holds up the others.
      for (const { webhookId, error } of failures) {
        this.deps.logger.error({ err: error, webhookId }, 'webhook deliveries could not be claimed');
      }
      let claimed = 0;
      for (const { target, deliveries } of claims) {
        for (const delivery of deliveries) this.launch(target, delivery);
        claimed += deliveries.length;
      }
      if (claimed === 0) return;
    }
  }

  private launch(target: WebhookTarget, delivery: ClaimedDelivery): void {
    this.sending.set(target.webhookId, (this.sending.get(target.webhookId) ?? 0) + 1);
    this.sendingTotal++;
    const attempt = this.attempt(target, delivery)
      .catch((error: unknown) => {
        if (error instanceof AttemptAbortedError) return;
        this.deps.logger.warn(
          { err: error, webhookId: target.webhookId, messageId: delivery.messageId },
          'webhook attempt could not be recorded; its lease will expire and it is retried',
        );
      })
      .finally(() => {
        this.attempts.delete(attempt);
        this.wake();
      });
    this.attempts.add(attempt);
  }

  private release(webhookId: string): void {
    const left = (this.sending.get(webhookId) ?? 1) - 1;
    if (left > 0) this.sending.set(webhookId, left);
    else this.sending.delete(webhookId);
    this.sendingTotal--;
    this.wake();
  }

  private async attempt(target: WebhookTarget, delivery: ClaimedDelivery): Promise<void> {
    const number = delivery.attempts + 1;
    // A root span: a drain runs in whatever context woke it (often an API request's).
    const { span } = startSpan('webhook deliver', {
      parent: ROOT_CONTEXT,
      kind: SpanKind.CLIENT,
      attributes: {
        'lessor.webhook.id': target.webhookId,
        'lessor.webhook.message_id': delivery.messageId,
        'lessor.webhook.event_type': delivery.eventType,
        'lessor.webhook.attempt': number,
      },
    });
    try {
      const body = JSON.stringify(this.deps.render(delivery.event));
      const started = this.now();
      const headers = webhookHeaders(target.secrets, delivery.messageId, body, started);
      let result: AttemptResult;
      try {
        result = await this.send(target.url, headers, body);
      } finally {
        this.release(target.webhookId);
      }
      const finished = this.now();
      const decision = decideAfterAttempt(
        result,
        { attempt: number, windowStart: delivery.windowStart, now: finished },
        this.options,
        this.deps.random,
      );
      const record: AttemptRecord = {
        attempt: {
          attempt: number,
          startedAt: new Date(started).toISOString(),
          durationMs: finished - started,
          statusCode: result.statusCode,
          error: result.error,
        },
        ...decision,
      };
      const recorded = await this.outcomes.add({
        webhookId: target.webhookId,
        messageId: delivery.messageId,
        record,
      });
      endAttemptSpan(span, result, decision.status, recorded);
      if (recorded) this.observe(delivery, decision.status);
      this.log(target, delivery, number, result, decision.status, recorded);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
      throw error;
    } finally {
      span.end();
    }
  }

  private observe(delivery: ClaimedDelivery, status: DeliveryStatus): void {
    const metrics = this.deps.metrics ?? NO_WEBHOOK_METRICS;
    if (status === 'delivered') {
      metrics.deliveries.inc({ outcome: 'delivered' });
      metrics.deliveryLag.observe({}, secondsSince(delivery.queuedAt, this.now()));
    } else if (status === 'dead') {
      metrics.deliveries.inc({ outcome: 'dead' });
      metrics.deadLetters.inc({});
    } else {
      metrics.deliveries.inc({ outcome: 'failed' });
    }
  }

  private async send(url: string, headers: Record<string, string>, body: string): Promise<AttemptResult> {
    try {
      return await this.deps.send({
        url,
        headers,
        body,
        timeoutMs: this.options.timeoutMs,
        signal: this.abort.signal,
      });
    } catch (error) {
      if (error instanceof AttemptAbortedError || error instanceof StoreUnavailableError) throw error;
      return { statusCode: null, error: errorMessage(error) };
    }
  }

  private log(
    target: WebhookTarget,
    delivery: ClaimedDelivery,
    attempt: number,
    result: AttemptResult,
    status: string,
    recorded: boolean,
  ): void {
    const fields = {
      webhookId: target.webhookId,
      messageId: delivery.messageId,
      eventType: delivery.eventType,
      attempt,
      statusCode: result.statusCode,
      status,
      ...(result.error !== null && { error: result.error }),
      ...(!recorded && { leaseLost: true }),
    };
    // Called on the logger, not detached: pino's methods need their `this`.
    if (status === 'dead' || status === 'failed') this.deps.logger.warn(fields, 'webhook delivery failed');
    else this.deps.logger.debug(fields, 'webhook attempt');
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}

function endAttemptSpan(span: Span, result: AttemptResult, status: DeliveryStatus, recorded: boolean): void {
  span.setAttributes({
    'lessor.webhook.outcome': status,
    'lessor.webhook.recorded': recorded,
    ...(result.statusCode !== null && { 'http.response.status_code': result.statusCode }),
  });
  if (status !== 'delivered') {
    span.setStatus({ code: SpanStatusCode.ERROR, message: result.error ?? `status ${result.statusCode}` });
  }
}
