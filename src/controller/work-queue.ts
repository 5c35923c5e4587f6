/**
 * The controller's work queue (controller-runtime style): keys, not payloads. A key is never handled
 * by two workers at once; enqueues of a queued key collapse; a key enqueued while it is being
 * handled is handled once more afterwards; failures back off per key with full jitter; a token
 * bucket caps the global rate; each handling runs under a timeout.
 */
import type { Logger } from '../domain/logger.js';
import {
  NO_METRICS,
  secondsSince,
  type ControllerMetrics,
  type WorkQueueMetrics,
} from '../domain/metrics.js';

export interface HandleResult {
  /** Handle the key again after this delay (a scheduled re-check, not an error). */
  readonly requeueAfterMs?: number;
}

export interface WorkQueueOptions<S> {
  readonly workers: number;
  readonly ratePerSecond: number;
  readonly timeoutMs: number;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly handle: (key: string, source: S, signal: AbortSignal) => Promise<HandleResult | void>;
  readonly logger: Logger;
  readonly random?: () => number;
  /** The queue's name in metrics (`name` / `controller` label); default `tenants`. */
  readonly name?: string;
  readonly metrics?: { readonly queue: WorkQueueMetrics; readonly controller: ControllerMetrics };
}

export class WorkQueue<S> {
  private readonly ready: string[] = [];
  private readonly sources = new Map<string, S>();
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly idleWaiters: (() => void)[] = [];
  private running = 0;
  private tokens: number;
  private lastRefill = Date.now();
  private refillTimer: NodeJS.Timeout | null = null;
  private stopped = true;
  /** When each queued key was added (ms), for the queue-duration histogram. */
  private readonly addedAt = new Map<string, number>();
  private readonly metrics: NonNullable<WorkQueueOptions<S>['metrics']>;
  private readonly label: { readonly name: string };

  constructor(private readonly options: WorkQueueOptions<S>) {
    this.tokens = options.ratePerSecond;
    this.metrics = options.metrics ?? { queue: NO_METRICS.workQueue, controller: NO_METRICS.controller };
    this.label = { name: options.name ?? 'tenants' };
  }

  start(): void {
    this.stopped = false;
    this.pump();
  }

  /** Adds the key now, or after `delayMs` (an earlier enqueue wins over a later scheduled one). */
  enqueue(key: string, source: S, delayMs = 0): void {
    if (delayMs > 0) return this.schedule(key, source, delayMs);
    if (!this.sources.has(key)) this.sources.set(key, source);
    if (this.active.has(key)) {
      if (!this.dirty.has(key)) this.metrics.queue.adds.inc(this.label);
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.clearTimer(key);
    this.queued.add(key);
    this.ready.push(key);
    this.addedAt.set(key, Date.now());
    this.metrics.queue.adds.inc(this.label);
    this.metrics.queue.depth.set(this.label, this.ready.length);
    this.pump();
  }

  /** Resolves once nothing is queued or being handled (scheduled retries do not count). */
  whenIdle(): Promise<void> {
    if (this.queued.size === 0 && this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking keys; waits up to `graceMs` for handlings in flight. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    if (this.refillTimer) clearTimeout(this.refillTimer);
    this.refillTimer = null;
    if (this.active.size === 0) return;
    await Promise.race([this.whenIdle(), new Promise((r) => setTimeout(r, graceMs).unref())]);
  }

  private schedule(key: string, source: S, delayMs: number): void {
    if (this.queued.has(key) || this.timers.has(key) || this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.enqueue(key, source);
    }, delayMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  private clearTimer(key: string): void {
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
  }

  private pump(): void {
    while (!this.stopped && this.running < this.options.workers && this.ready.length > 0) {
      if (!this.takeToken()) return this.waitForToken();
      const key = this.ready.shift()!;
      this.queued.delete(key);
      this.active.add(key);
      this.running++;
      this.observeTaken(key);
      void this.process(key);
    }
  }

  private takeToken(): boolean {
    const now = Date.now();
    const rate = this.options.ratePerSecond;
    this.tokens = Math.min(rate, this.tokens + ((now - this.lastRefill) / 1000) * rate);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private waitForToken(): void {
    if (this.refillTimer) return;
    const waitMs = Math.ceil(((1 - this.tokens) / this.options.ratePerSecond) * 1000);
    this.refillTimer = setTimeout(() => {
      this.refillTimer = null;
      this.pump();
    }, waitMs);
  }

  private async process(key: string): Promise<void> {
    const source = this.sources.get(key) as S;
    this.sources.delete(key);
    let requeueAfterMs: number | undefined;
    const started = Date.now();
    try {
      const result = await this.handleWithTimeout(key, source);
      this.failures.delete(key);
      requeueAfterMs = result?.requeueAfterMs;
      this.observeHandled(started, requeueAfterMs === undefined ? 'success' : 'requeue_after');
    } catch (error) {
      this.observeHandled(started, 'error');
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      requeueAfterMs = this.backoffMs(failures);
      this.options.logger.warn(
        { err: error, key, failures, retryInMs: requeueAfterMs },
        'reconcile failed; backing off',
      );
    } finally {
      this.active.delete(key);
      this.running--;
      this.metrics.queue.activeWorkers.set(this.label, this.running);
    }
    if (this.dirty.delete(key)) this.enqueue(key, source);
    else if (requeueAfterMs !== undefined) this.enqueue(key, source, requeueAfterMs);
    this.pump();
    if (this.queued.size === 0 && this.active.size === 0)
      this.idleWaiters.splice(0).forEach((resolve) => resolve());
  }

  private observeTaken(key: string): void {
    const { queue } = this.metrics;
    const added = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (added !== undefined) queue.queueDuration.observe(this.label, secondsSince(added, Date.now()));
    queue.depth.set(this.label, this.ready.length);
    queue.activeWorkers.set(this.label, this.running);
  }

  private observeHandled(started: number, result: 'success' | 'requeue_after' | 'error'): void {
    const { queue, controller } = this.metrics;
    const name = this.label.name;
    queue.workDuration.observe(this.label, secondsSince(started, Date.now()));
    controller.reconciles.inc({ controller: name, result });
    if (result === 'error') {
      controller.reconcileErrors.inc({ controller: name });
      queue.retries.inc(this.label);
    }
  }

  private async handleWithTimeout(key: string, source: S): Promise<HandleResult | void> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new Error(`reconcile of ${key} timed out after ${this.options.timeoutMs} ms`));
      }, this.options.timeoutMs);
    });
    try {
      return await Promise.race([this.options.handle(key, source, controller.signal), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private backoffMs(failures: number): number {
    const { initialMs, maxMs } = this.options.backoff;
    const capped = Math.min(maxMs, initialMs * 2 ** (failures - 1));
    return Math.max(1, Math.floor((this.options.random ?? Math.random)() * capped));
  }
}
