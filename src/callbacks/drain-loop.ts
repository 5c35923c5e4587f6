/**
 * The wake-up discipline of an outbox dispatcher (docs/architecture.md, "Webhooks and callbacks"),
 * shared by the callback and the webhook dispatchers: one drain at a time; a `wake()` during a
 * drain runs exactly one more drain after it (wakes coalesce, none is lost); after each drain a
 * timer is set for the next due row (`nextDueAt`), never later than the poll interval, so rows
 * written by other replicas and retries that come due are picked up without a wake. A poll (the
 * timer when no row was known to be due by then) asks `nextDueAt` first and drains only when a row
 * is due: the same pick-up time, one query per idle poll.
 *
 * With `lookAheadAfterCleanDrains: false`, a drain woken by `wake()` keeps the armed timer instead
 * of asking `nextDueAt` again: the owner knows that such a drain cannot have made a later row due
 * unless it says so with `lookAhead()` (e.g. it recorded a failed delivery, due again later). This
 * saves a query per wake-up on the create path; the timer and polls still look ahead.
 *
 * `wakeForHeld()` is a wake for work the owner holds in memory (rows handed over after their
 * commit): the drain it starts is told `full: false`, and needs not look for due rows, unless a
 * `wake()`, the start or a timer asked for a drain meanwhile (wakes coalesce into one drain, which
 * is full if any of them was).
 *
 * What a drain does is the owner's: the loop only calls it, reports what it throws, and carries on
 * at the next wake or poll.
 */

export interface DrainLoopOptions {
  /**
   * One pass over the due rows (`full`), or over what the owner holds in memory only (see
   * `wakeForHeld`). A throw is reported through `onError`; the loop goes on.
   */
  readonly drain: (full: boolean) => Promise<void>;
  /** Epoch ms at which the next row becomes due; null when none is pending. */
  readonly nextDueAt: () => Promise<number | null>;
  readonly pollIntervalMs: number;
  /**
   * What a due time already past after a drain means. `drain`: drain again at once (the drain
   * stopped at a batch's end). `poll`: the due rows wait for capacity the drain could not get,
   * and whatever frees capacity wakes the loop, so wait for that or the poll.
   */
  readonly whenPastDue: 'drain' | 'poll';
  readonly onError: (error: unknown) => void;
  readonly now?: () => number;
  /** Default true: ask `nextDueAt` after every drain. See the module comment for false. */
  readonly lookAheadAfterCleanDrains?: boolean;
}

export class DrainLoop {
  private draining: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  /** The running drain was started by the timer, or its owner asked: look up the next due row after it. */
  private lookAheadPending = true;
  /** A wake since the last drain started asked for a full one (not only `wakeForHeld`). */
  private fullPending = true;

  constructor(private readonly options: DrainLoopOptions) {}

  get running(): boolean {
    return !this.stopped;
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Stops waking; resolves once the drain in progress (if any) has returned. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.draining;
  }

  /** After the drain in progress, look up the next due row (a row due later may have appeared). */
  lookAhead(): void {
    this.lookAheadPending = true;
  }

  /** Drain now, or once more after the drain in progress. */
  wake(): void {
    this.fullPending = true;
    this.wakeForHeld();
  }

  /** As `wake()`, for what the owner holds in memory only: the drain is not full unless asked. */
  wakeForHeld(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    const full = this.fullPending;
    this.fullPending = false;
    this.draining = this.drainOnce(full).finally(() => {
      this.draining = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wakeForHeld();
      } else if (this.options.lookAheadAfterCleanDrains !== false || this.lookAheadPending || !this.timer) {
        this.lookAheadPending = false;
        void this.scheduleNext();
      }
    });
  }

  private async drainOnce(full: boolean): Promise<void> {
    try {
      await this.options.drain(full);
    } catch (error) {
      this.options.onError(error);
    }
  }

  /**
   * Looks up the next due row and arms the timer for it, or for the poll when it is further away
   * or unknown. With `drainIfDue` (a poll found no row known to be due at its time), a row already
   * due is drained at once instead, and otherwise nothing is drained: an idle outbox then costs one
   * small query per poll rather than a drain (for webhooks, a claiming transaction) plus this query.
   */
  private async scheduleNext(drainIfDue = false): Promise<void> {
    if (this.stopped) return;
    const poll = this.options.pollIntervalMs;
    let wait = poll;
    let forDueRow = false;
    try {
      const next = await this.options.nextDueAt();
      const now = (this.options.now ?? Date.now)();
      if (drainIfDue && next !== null && next <= now) {
        this.wakeUnlessDraining();
        return;
      }
      if (next !== null && (next > now || this.options.whenPastDue === 'drain')) {
        wait = Math.max(0, Math.min(poll, next - now));
        forDueRow = next - now <= poll;
      }
    } catch {
      // Database unavailable: a poll drains anyway (the drain reports the failure); then the
      // polls go on at the normal pace.
      if (drainIfDue) {
        this.wakeUnlessDraining();
        return;
      }
    }
    // A wake while `nextDueAt` ran has started a drain, which schedules again when it ends.
    if (this.stopped || this.draining) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.lookAheadPending = true;
      if (forDueRow) this.wake();
      else void this.scheduleNext(true);
    }, wait);
    this.timer.unref();
  }

  private wakeUnlessDraining(): void {
    if (!this.stopped && !this.draining) this.wake();
  }
}
