/**
 * Delivers the callback outbox (docs/architecture.md, "Callbacks and the event stream") to the workflow
 * engine: a settled execution resolves the waiting run's durable promise. At-least-once: a row is marked
 * delivered only after the engine accepted it, and the engine ignores duplicates. Failed deliveries back off
 * exponentially; after the last attempt the row is parked as dead, visible and re-drivable through the API. A
 * delivery that fails because Lessor's store is unavailable is no failure of the callback: it counts no
 * attempt, and the whole drain waits for the next poll.
 *
 * Wake-ups (drain-loop.ts): `handOff(callbacks)` right after a commit that queued callbacks (the
 * store's `subscribeCallbacks`: the normal path, no poll delay), with the rows themselves, which the
 * drain delivers without reading the outbox; `wake()` (a redrive), the start, a timer on the next
 * due row and a slow poll, after which the drain reads the due rows: those a crash left (a row
 * handed over but not yet delivered when the process died is still `pending`), other replicas'
 * and retries. The next due row is looked up after a poll and after a drain that recorded a
 * failure (the only ways a row due later appears in this process); a drain of handed-over rows that
 * delivered everything keeps the armed timer, which saves a query per callback on the create path.
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

/** Handed-over rows held beyond this many wait for the poll instead (a bound on memory). */
const MAX_HELD_BATCHES = 10;

export class CallbackDispatcher {
  private readonly loop: DrainLoop;
  /** Rows this process committed and handed over, not yet taken by a drain; their order kept. */
  private held: CallbackRecord[] = [];

  constructor(
    private readonly deps: CallbackDispatcherDeps,
    private readonly options: CallbackDispatcherOptions,
  ) {
    this.loop = new DrainLoop({
      drain: (full) => this.drain(full),
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
    this.held = [];
  }

  /** Drain the due rows now (coalesced: a wake during a drain runs one more drain afterwards). */
  wake(): void {
    this.loop.wake();
  }

  /**
   * Delivers `callbacks`, rows just committed in this process, without reading them back. Only a
   * hint: the rows are `pending` in the outbox, so what is not delivered here (the dispatcher is
   * stopped, holds too many, or the process dies first) is delivered from there.
   */
  handOff(callbacks: readonly CallbackRecord[]): void {
    if (!this.loop.running) return;
    if (this.held.length + callbacks.length > MAX_HELD_BATCHES * this.batchSize()) {
      this.loop.wake();
      return;
    }
    this.held.push(...callbacks);
    this.loop.wakeForHeld();
  }

  /** The held rows first, then (`full`) the due rows of the outbox, which may include held ones. */
  private async drain(full: boolean): Promise<void> {
    const batchSize = this.batchSize();
    try {
      while (this.held.length > 0 && this.loop.running) {
        await this.deliverAll(this.held.splice(0, batchSize));
      }
    } catch (error) {
      // The rows are pending in the outbox: let the next look-ahead find them due.
      this.loop.lookAhead();
      throw error;
    }
    if (!full) return;
    for (;;) {
      const due = await this.deps.callbacks.listDue(this.now(), batchSize);
      // A row handed over while the list was read may be in it: deliver it once, from the list.
      const listed = new Set(due.map((callback) => callback.id));
      this.held = this.held.filter((callback) => !listed.has(callback.id));
      await this.deliverAll(due);
      if (due.length < batchSize || !this.loop.running) return;
    }
  }

  /**
   * Hands each callback to the engine, then marks those it accepted delivered in one statement: a
   * drain of many rows (under load) costs one update, not one per row. At-least-once as before: a
   * crash before the update leaves the rows pending, and the engine ignores their redelivery.
   */
  private async deliverAll(callbacks: readonly CallbackRecord[]): Promise<void> {
    const accepted = (await Promise.all(callbacks.map((callback) => this.deliver(callback)))).filter(
      (callback) => callback !== undefined,
    );
    if (accepted.length === 0) return;
    try {
      await this.deps.callbacks.markDelivered(
        accepted.map((callback) => callback.id),
        new Date(this.now()).toISOString(),
      );
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      await Promise.all(accepted.map((callback) => this.recordFailure(callback, error)));
      return;
    }
    for (const callback of accepted) this.observeDelivered(callback);
  }

  private batchSize(): number {
    return this.options.batchSize ?? 200;
  }

  /** The callback when the engine accepted it (to be marked delivered), undefined when it failed. */
  private async deliver(callback: CallbackRecord): Promise<CallbackRecord | undefined> {
    try {
      if (isSettledStatus(callback.payload.status)) {
        const key = executionPromiseKey(callback.executionId, callback.payload.attempt);
        await this.deps.engine.resolvePromise(callback.workflowRunId, key, callback.payload);
      }
      return callback;
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      await this.recordFailure(callback, error);
      return undefined;
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
