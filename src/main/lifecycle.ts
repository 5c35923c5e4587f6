/**
 * The running services of one Lessor process and how they stop. Services are registered in start
 * order; `stop(graceMs)` stops them in reverse order under ONE deadline for the whole stop:
 *
 * - each service's stop gets the time left until the deadline as its grace (0 once it has passed),
 *   so a late service still releases its resources, only without waiting for work in flight;
 * - a stop that overruns its grace by more than `overrunMs` is left running (and logged), so one
 *   stuck service cannot hold the process beyond the deadline for long;
 * - a failing stop is logged, never thrown: every stop runs;
 * - `stop` is idempotent: a second call waits for the first.
 *
 * Adding a service is one line: `await lifecycle.start('name', () => s.start(), (g) => s.stop(g))`.
 */
import type { Logger } from '../domain/logger.js';

/** Stops a service; `graceMs` is how long it may wait for its work in flight. */
export type StopService = (graceMs: number) => Promise<void> | void;

export interface LifecycleOptions {
  readonly logger: Logger;
  /** How long past its grace a stop is waited for before the next one runs. */
  readonly overrunMs?: number;
  readonly now?: () => number;
}

interface Registered {
  readonly name: string;
  readonly stop: StopService;
}

const DEFAULT_OVERRUN_MS = 1_000;

export class Lifecycle {
  private readonly services: Registered[] = [];
  private stopping: Promise<void> | undefined;
  private readonly now: () => number;
  private readonly overrunMs: number;

  constructor(private readonly options: LifecycleOptions) {
    this.now = options.now ?? Date.now;
    this.overrunMs = options.overrunMs ?? DEFAULT_OVERRUN_MS;
  }

  /** Registers the stop of something already running (a connection pool, a listening server). */
  onStop(name: string, stop: StopService): void {
    if (this.stopping) throw new Error(`cannot register '${name}': the lifecycle is stopping`);
    this.services.push({ name, stop });
  }

  /** Starts a service and registers its stop; a start that throws registers nothing. */
  async start(name: string, start: () => Promise<void> | void, stop: StopService): Promise<void> {
    await start();
    this.onStop(name, stop);
  }

  /** Stops every registered service, newest first, within `graceMs` in total. Idempotent. */
  stop(graceMs: number): Promise<void> {
    this.stopping ??= this.stopAll(graceMs);
    return this.stopping;
  }

  private async stopAll(graceMs: number): Promise<void> {
    const started = this.now();
    const deadline = started + Math.max(0, graceMs);
    for (const service of [...this.services].reverse()) {
      await this.stopOne(service, Math.max(0, deadline - this.now()));
    }
    this.options.logger.info({ graceMs, tookMs: this.now() - started }, 'lessor stopped');
  }

  private async stopOne(service: Registered, graceMs: number): Promise<void> {
    const { logger } = this.options;
    const started = this.now();
    let timer: NodeJS.Timeout | undefined;
    const overrun = new Promise<'overrun'>((resolve) => {
      timer = setTimeout(() => resolve('overrun'), graceMs + this.overrunMs);
    });
    const stopping = Promise.resolve()
      .then(() => service.stop(graceMs))
      .then(
        () => 'stopped' as const,
        (error: unknown) => {
          logger.warn({ err: error, lifecycleService: service.name }, 'stopping a service failed');
          return 'failed' as const;
        },
      );
    const outcome = await Promise.race([stopping, overrun]);
    clearTimeout(timer);
    if (outcome === 'overrun')
      logger.warn(
        { lifecycleService: service.name, graceMs },
        'a service did not stop within its grace; moving on',
      );
    else
      logger.debug(
        { lifecycleService: service.name, graceMs, tookMs: this.now() - started },
        'service stopped',
      );
  }
}
