/**
 * Delivers the webhook outbox (docs/architecture.md, "Webhooks and callbacks"). A drain leases, in
 * one transaction, due deliveries across webhooks: up to two rounds of each endpoint's slots
 * (`maxConcurrencyPerEndpoint` requests in flight per endpoint) counting what this process holds.
 * The first round is sent at once; the second waits here for slots, so a freed slot is refilled
 * without a round trip to the store. The drain never waits for an HTTP answer, so a slow or dead
 * endpoint only ever holds its own slots — never another endpoint's deliveries, the callback
 * dispatcher or any API request. `maxInFlight` bounds the requests in flight in all.
 *
 * A slot is freed when the endpoint answers; the outcome is then recorded under the lease,
 * batched with the other outcomes that finished meanwhile (one transaction for many:
 * write-batcher.ts). A lease covers a wait for a slot (one attempt's timeout), the attempt and
 * its recording; a delivery whose lease ran short while it waited is not sent (it is claimed
 * again). An attempt that a crash cut short is retried, with the same `webhook-id`, once its
 * lease expires: at least once.
 *
 * Wake-ups (drain-loop.ts): `wake()` after a commit that queued deliveries (the store's
 * `webhooks` change signal), a freed slot, a recorded outcome, a timer on the next due row, and a
 * slow poll (other replicas' writes).
 *
 * Each attempt is a span `webhook deliver`, a child of the span that queued the delivery (the
 * request or workflow step whose transaction wrote the event; a trace of its own when none was
 * recorded), and is counted in the webhook metrics (docs/operations.md).
 */
import { errorMessage, StoreUnavailableError } from '../domain/errors.js';
import type { Logger } from '../domain/logger.js';
import { NO_WEBHOOK_METRICS, secondsSince, type WebhookMetrics } from '../domain/metrics.js';
import {
  contextFromHeaders,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  startSpan,
  type Span,
} from '../domain/tracing.js';
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

/** A leased delivery waiting in this process for a free slot of its endpoint. */
interface Ready {
  readonly target: WebhookTarget;
  readonly delivery: ClaimedDelivery;
  readonly leaseUntil: number;
}

export class WebhookDispatcher {
  private readonly loop: DrainLoop;
  /** Requests in flight, by webhook id: a slot is held from the send to the endpoint's answer. */
  private readonly sending = new Map<string, number>();
  private sendingTotal = 0;
  /**
   * Leased deliveries waiting for a slot, by webhook id: up to one more round of each endpoint's
   * slots, so a freed slot is refilled at once instead of after a drain's round trip.
   */
  private readonly ready = new Map<string, Ready[]>();
  private readyTotal = 0;
  /** Every attempt from its send until its outcome is recorded (or given up). */
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
   * Stops claiming and sending; attempts in flight get `graceMs` to finish, then are cut off
   * unrecorded. Their leases, and those of deliveries still waiting for a slot, run out and the
   * deliveries are attempted again (by this process after a restart, or by another replica).
   */
  async stop(graceMs = 0): Promise<void> {
    await this.loop.stop();
    this.ready.clear();
    this.readyTotal = 0;
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

  /**
   * Leases what is due, up to two rounds of each endpoint's slots (and of `maxInFlight`) counting
   * what this process holds already; the lease covers a wait of one attempt's timeout for a slot,
   * then the attempt itself and its recording.
   */
  private async drain(): Promise<void> {
    const { maxInFlight, maxConcurrencyPerEndpoint: perEndpoint, timeoutMs } = this.options;
    for (;;) {
      const room = 2 * maxInFlight - this.sendingTotal - this.readyTotal;
      if (!this.loop.running || room <= 0) return;
      const held = new Map(this.sending);
      for (const [id, queue] of this.ready) held.set(id, (held.get(id) ?? 0) + queue.length);
      const now = this.now();
      const leaseUntil = now + 2 * timeoutMs + LEASE_MARGIN_MS;
      const { claims, failures } = await this.deps.webhooks.claimDue({
        owner: this.deps.ownerId,
        now,
        leaseUntil,
        limit: room,
        perWebhook: 2 * perEndpoint,
        inFlight: held,
      });
      // One webhook's failure (a secret that no longer opens) never holds up the others.
      for (const { webhookId, error } of failures) {
        this.deps.logger.error({ err: error, webhookId }, 'webhook deliveries could not be claimed');
      }
      let claimed = 0;
      for (const { target, deliveries } of claims) {
        const queue = this.ready.get(target.webhookId) ?? [];
        for (const delivery of deliveries) queue.push({ target, delivery, leaseUntil });
        this.ready.set(target.webhookId, queue);
        this.readyTotal += deliveries.length;
        claimed += deliveries.length;
      }
      this.pumpAll();
      // Short of the limit, the claim took everything due that this process may hold: another
      // claim would find nothing (each freed slot and each committed event wake the loop).
      if (claimed < room) return;
    }
  }

  /** Starts waiting deliveries while their endpoints (and the process) have free slots. */
  private pumpAll(): void {
    for (const webhookId of [...this.ready.keys()]) this.pump(webhookId);
  }

  private pump(webhookId: string): void {
    const queue = this.ready.get(webhookId);
    if (!queue) return;
    const { maxConcurrencyPerEndpoint: perEndpoint, maxInFlight, timeoutMs } = this.options;
    while (
      this.loop.running &&
      queue.length > 0 &&
      (this.sending.get(webhookId) ?? 0) < perEndpoint &&
      this.sendingTotal < maxInFlight
    ) {
      const next = queue.shift()!;
      this.readyTotal--;
      // Too little lease left for an attempt and its recording: leave it to run out (the
      // delivery is claimed again) rather than risk a second holder sending it too.
      if (this.now() + timeoutMs + LEASE_MARGIN_MS > next.leaseUntil) continue;
      this.launch(next.target, next.delivery);
    }
    if (queue.length === 0) this.ready.delete(webhookId);
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

  /** The endpoint answered (or the attempt ended): its slot goes to the next waiting delivery. */
  private release(webhookId: string): void {
    const left = (this.sending.get(webhookId) ?? 1) - 1;
    if (left > 0) this.sending.set(webhookId, left);
    else this.sending.delete(webhookId);
    this.sendingTotal--;
    this.pump(webhookId);
    if (this.sendingTotal < this.options.maxInFlight) this.pumpAll();
    this.wake();
  }

  private async attempt(target: WebhookTarget, delivery: ClaimedDelivery): Promise<void> {
    const number = delivery.attempts + 1;
    // The span continues the trace of whatever queued the delivery (stored with it), never the
    // context that happened to wake this drain.
    const { span } = startSpan('webhook deliver', {
      parent:
        delivery.traceparent === null
          ? ROOT_CONTEXT
          : contextFromHeaders({ traceparent: delivery.traceparent }),
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
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: result.error ?? `status ${String(result.statusCode)}`,
    });
  }
}
