/**
 * Delivers the callback outbox (docs/architecture.md, "Callbacks and the event stream") to the workflow
 * engine: a settled execution resolves the waiting run's durable promise. At-least-once: a row is marked
 * delivered only after the engine accepted it, and the engine ignores duplicates. Failed deliveries back off
 * exponentially; after the last attempt the row is parked as dead, visible and re-drivable through the API. A
 * delivery that fails because Lessor's store is unavailable is no failure of the callback: it counts no
 * attempt, and the whole drain waits for the next poll.
 *
 * Wake-ups (drain-loop.ts): `wake()` right after a commit that queued a callback (the store's
 * `callbacks` change signal: the normal path, no poll delay); a timer on the next due row; and a
 * slow poll that also picks up rows written by other replicas. The next due row is looked up after
 * a poll and after a drain that recorded a failure (the only ways a row due later appears in this
 * process); a drain woken by the signal that delivered everything keeps the armed timer, which
 * saves a query per wake-up on the create path.
 */
import { executionPromiseKey, isSettledStatus, type CallbackRecord } from '../domain/compute-callback.js';
import { errorMessage, StoreUnavailableError } from '../domain/errors.js';
import type { Logger } from '../domain/logger.js';
import { NO_METRICS, secondsSince, type CallbackMetrics } from '../domain/metrics.js';
import type { CallbackRepository } from '../store/store.js';
import type { WorkflowEngine } from '../workflow/engine.js';
import { DrainLoop } from './drain-loop.js';

export interface CallbackDispatcherOptions {
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly batchSize?: number;
  readonly pollIntervalMs?: number;
}

export interface CallbackDispatcherDeps {
  readonly callbacks: Pick<
    CallbackRepository,
    'listDue' | 'markDelivered' | 'markAttemptFailed' | 'nextDueAt'
  >;
  readonly engine: Pick<WorkflowEngine, 'resolvePromise'>;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly metrics?: CallbackMetrics;
}

export class CallbackDispatcher {
  private readonly loop: DrainLoop;

  constructor(
    private readonly deps: CallbackDispatcherDeps,
    private readonly options: CallbackDispatcherOptions,
  ) {
    this.loop = new DrainLoop({
      drain: () => this.drain(),
      nextDueAt: () => this.deps.callbacks.nextDueAt(),
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      whenPastDue: 'drain',
      lookAheadAfterCleanDrains: false,
      onError: (error) => this.deps.logger.warn({ err: error }, 'callback drain failed; will retry'),
      now: () => this.now(),
    });
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Drain now (coalesced: a wake during a drain runs one more drain afterwards). */
  wake(): void {
    this.loop.wake();
  }

  private async drain(): Promise<void> {
    const batchSize = this.options.batchSize ?? 200;
    for (;;) {
      const due = await this.deps.callbacks.listDue(this.now(), batchSize);
      await Promise.all(due.map((callback) => this.deliver(callback)));
      if (due.length < batchSize || !this.loop.running) return;
    }
  }

  private async deliver(callback: CallbackRecord): Promise<void> {
    try {
      if (isSettledStatus(callback.payload.status)) {
        const key = executionPromiseKey(callback.executionId, callback.payload.attempt);
        await this.deps.engine.resolvePromise(callback.workflowRunId, key, callback.payload);
      }
      await this.deps.callbacks.markDelivered(callback.id, new Date(this.now()).toISOString());
      this.observeDelivered(callback);
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      await this.recordFailure(callback, error);
    }
  }

  private async recordFailure(callback: CallbackRecord, error: unknown): Promise<void> {
    this.loop.lookAhead();
    const attempts = callback.attempts + 1;
    const dead = attempts >= this.options.maxAttempts;
    const delay = Math.min(this.options.maxBackoffMs, this.options.initialBackoffMs * 2 ** (attempts - 1));
    const fields = { err: error, callbackId: callback.id, executionId: callback.executionId, attempts, dead };
    // Called on the logger, not detached: pino's methods need their `this`.
    if (dead) this.deps.logger.error(fields, 'callback delivery failed');
    else this.deps.logger.warn(fields, 'callback delivery failed');
    await this.deps.callbacks.markAttemptFailed(callback.id, {
      attempts,
      nextAttemptAt: this.now() + delay,
      lastError: errorMessage(error),
      dead,
    });
    const metrics = this.deps.metrics ?? NO_METRICS.callbacks;
    metrics.attempts.inc({ outcome: dead ? 'dead' : 'failed' });
    if (dead) metrics.deadLetters.inc({});
  }

  private observeDelivered(callback: CallbackRecord): void {
    const metrics = this.deps.metrics ?? NO_METRICS.callbacks;
    metrics.attempts.inc({ outcome: 'delivered' });
    const created = Date.parse(callback.createdAt);
    if (Number.isFinite(created)) metrics.deliveryLag.observe({}, secondsSince(created, this.now()));
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
