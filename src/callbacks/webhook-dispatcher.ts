/**
 * Delivers the webhook outbox (docs/architecture.md, "Webhooks and callbacks"). A drain finds
 * webhooks with due deliveries, leases up to the webhook's free slots of them (at most
 * `maxConcurrencyPerEndpoint` in flight per endpoint, `maxInFlight` in all) and sends each on its
 * own: the drain never waits for an HTTP answer, so a slow or dead endpoint only ever holds its
 * own slots — never another endpoint's deliveries, the callback dispatcher or any API request.
 * Each attempt's outcome is recorded under the lease; a lease is longer than an attempt's
 * timeout, so an attempt that a crash cut short is retried (same `webhook-id`) once it expires.
 *
 * Wake-ups: `wake()` after a commit that may have queued deliveries, a finished attempt, a timer
 * on the next due row, and a slow poll (other replicas' writes).
 */
import { errorMessage, StoreUnavailableError } from '../domain/errors.js';
import type { Logger } from '../domain/logger.js';
import { decideAfterAttempt, type AttemptResult, type RetrySchedule } from '../domain/webhook-retry.js';
import { webhookHeaders } from '../domain/webhook-signature.js';
import type { WebhookEvent } from '../domain/webhook.js';
import type { ClaimedDelivery, WebhookRepository, WebhookTarget } from '../store/webhook-store.js';
import { AttemptAbortedError, type SendWebhook } from './webhook-sender.js';

export interface WebhookDispatcherOptions extends RetrySchedule {
  readonly timeoutMs: number;
  readonly maxConcurrencyPerEndpoint: number;
  readonly maxInFlight: number;
  readonly pollIntervalMs: number;
}

/** The body of an event as it goes out: the API's view of the resource it carries. */
export type WebhookRenderer = (event: WebhookEvent) => unknown;

export interface WebhookDispatcherDeps {
  readonly webhooks: Pick<WebhookRepository, 'dueWebhooks' | 'claim' | 'recordAttempt' | 'nextDueAt'>;
  readonly send: SendWebhook;
  readonly render: WebhookRenderer;
  /** Lease owner: unique per process. */
  readonly ownerId: string;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly random?: () => number;
}

/** Extra lease beyond an attempt's timeout: recording the outcome must fit in it. */
const LEASE_MARGIN_MS = 15_000;
const DUE_WEBHOOKS_PER_QUERY = 100;

export class WebhookDispatcher {
  private draining: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  private readonly inFlight = new Map<string, number>();
  private readonly attempts = new Set<Promise<void>>();
  private abort = new AbortController();

  constructor(
    private readonly deps: WebhookDispatcherDeps,
    private readonly options: WebhookDispatcherOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.abort = new AbortController();
    this.wake();
  }

  /**
   * Stops claiming; attempts in flight get `graceMs` to finish, then are cut off unrecorded (their
   * leases run out and the deliveries are attempted again, by this process after a restart or by
   * another replica).
   */
  async stop(graceMs = 0): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.draining;
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
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      } else {
        void this.scheduleNext();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        if (this.stopped || this.total() >= this.options.maxInFlight) return;
        const now = this.now();
        const busy = [...this.inFlight].filter(([, n]) => n >= this.options.maxConcurrencyPerEndpoint);
        const due = await this.deps.webhooks.dueWebhooks(
          now,
          DUE_WEBHOOKS_PER_QUERY,
          busy.map(([id]) => id),
        );
        let claimed = 0;
        for (const webhookId of due) claimed += await this.claimOrSkip(webhookId);
        if (claimed === 0) return;
      }
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'webhook drain failed; will retry');
    }
  }

  /** One webhook's failure (a secret that no longer opens) never holds up the others. */
  private async claimOrSkip(webhookId: string): Promise<number> {
    try {
      return await this.claimFor(webhookId);
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      this.deps.logger.error({ err: error, webhookId }, 'webhook deliveries could not be claimed');
      return 0;
    }
  }

  private async claimFor(webhookId: string): Promise<number> {
    const free = Math.min(
      this.options.maxConcurrencyPerEndpoint - (this.inFlight.get(webhookId) ?? 0),
      this.options.maxInFlight - this.total(),
    );
    if (free <= 0 || this.stopped) return 0;
    const now = this.now();
    const claim = await this.deps.webhooks.claim(webhookId, {
      owner: this.deps.ownerId,
      now,
      leaseUntil: now + this.options.timeoutMs + LEASE_MARGIN_MS,
      limit: free,
    });
    if (!claim) return 0;
    for (const delivery of claim.deliveries) this.launch(claim.target, delivery);
    return claim.deliveries.length;
  }

  private launch(target: WebhookTarget, delivery: ClaimedDelivery): void {
    this.inFlight.set(target.webhookId, (this.inFlight.get(target.webhookId) ?? 0) + 1);
    const attempt = this.attempt(target, delivery)
      .catch((error: unknown) => {
        if (error instanceof AttemptAbortedError) return;
        this.deps.logger.warn(
          { err: error, webhookId: target.webhookId, messageId: delivery.messageId },
          'webhook attempt could not be recorded; its lease will expire and it is retried',
        );
      })
      .finally(() => {
        const left = (this.inFlight.get(target.webhookId) ?? 1) - 1;
        if (left > 0) this.inFlight.set(target.webhookId, left);
        else this.inFlight.delete(target.webhookId);
        this.attempts.delete(attempt);
        this.wake();
      });
    this.attempts.add(attempt);
  }

  private async attempt(target: WebhookTarget, delivery: ClaimedDelivery): Promise<void> {
    const body = JSON.stringify(this.deps.render(delivery.event));
    const started = this.now();
    const headers = webhookHeaders(target.secrets, delivery.messageId, body, started);
    const result = await this.send(target.url, headers, body);
    const finished = this.now();
    const number = delivery.attempts + 1;
    const decision = decideAfterAttempt(
      result,
      { attempt: number, windowStart: delivery.windowStart, now: finished },
      this.options,
      this.deps.random,
    );
    const recorded = await this.deps.webhooks.recordAttempt(
      target.webhookId,
      delivery.messageId,
      this.deps.ownerId,
      {
        attempt: {
          attempt: number,
          startedAt: new Date(started).toISOString(),
          durationMs: finished - started,
          statusCode: result.statusCode,
          error: result.error,
        },
        ...decision,
      },
    );
    this.log(target, delivery, number, result, decision.status, recorded);
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

  private async scheduleNext(): Promise<void> {
    if (this.stopped) return;
    const poll = this.options.pollIntervalMs;
    let wait = poll;
    try {
      const next = await this.deps.webhooks.nextDueAt();
      // Due already, yet the drain claimed nothing: every due endpoint is at its limit, and each
      // finished attempt wakes the dispatcher anyway.
      if (next !== null && next > this.now()) wait = Math.min(poll, next - this.now());
    } catch {
      // Database unavailable: keep polling at the normal pace.
    }
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), wait);
    this.timer.unref();
  }

  private total(): number {
    return this.attempts.size;
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
