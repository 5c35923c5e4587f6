/**
 * A store reading for gauges, cached: `get()` answers the last reading while it is younger than
 * `refreshIntervalMs` and reads again otherwise, one reading at a time whatever the scrape rate.
 * A failed reading is logged and keeps the last values (undefined before the first success); the
 * next scrape tries again. Shared by the fleet, webhook and rollout gauges.
 */
import type { Logger } from '../../domain/logger.js';

export interface CachedSnapshotOptions<T> {
  readonly read: () => Promise<T>;
  readonly refreshIntervalMs: number;
  readonly logger: Logger;
  /** What is read, for the log line of a failure: "fleet counts". */
  readonly what: string;
  readonly now?: () => number;
}

export class CachedSnapshot<T> {
  private value: T | undefined;
  private readAt = -Infinity;
  private reading: Promise<T | undefined> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: CachedSnapshotOptions<T>) {
    this.now = options.now ?? Date.now;
  }

  get(): Promise<T | undefined> {
    if (this.now() - this.readAt < this.options.refreshIntervalMs) return Promise.resolve(this.value);
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async read(): Promise<T | undefined> {
    try {
      this.value = await this.options.read();
      this.readAt = this.now();
    } catch (error) {
      this.options.logger.warn(
        { err: error },
        `reading ${this.options.what} for metrics failed; keeping the last ones`,
      );
    }
    return this.value;
  }
}
