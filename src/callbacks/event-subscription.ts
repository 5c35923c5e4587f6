/**
 * One subscriber of the event feed (event-feed.ts): a cursor, an optional tenant filter and a
 * bounded queue of live events.
 *
 * Hand-over without gaps or duplicates: the feed registers the subscription and records its own
 * head H in the same synchronous step. Every event after H reaches the queue through the feed;
 * events after the subscriber's cursor up to H are read from the store here, in bounded pages,
 * before the queue is drained (H is a settled position of the log, so no event at or below it can
 * commit later). Queued events at or below the cursor are dropped, so each event is handed out
 * once, in `seq` order.
 *
 * A subscriber that still has `maxQueued` events waiting when the next batch comes is ended with
 * `overflow` instead of letting the queue grow: its client reconnects with the last id it got and
 * catches up from the store.
 */
import type { TenantEvent } from '../domain/tenant-event.js';

/** Why a subscription ended: its consumer closed it, it fell too far behind, or a store read failed. */
export interface SubscriptionEnd {
  readonly reason: 'closed' | 'overflow' | 'failed';
  readonly error?: unknown;
}

export interface EventSubscription {
  /**
   * The next events after the cursor, oldest first and never empty; waits until there are some.
   * Null once the subscription has ended. One consumer: do not call it again before it settled.
   */
  next(): Promise<readonly TenantEvent[] | null>;
  /** Settles once, when the subscription ends (also while `next` or the consumer is busy). */
  readonly ended: Promise<SubscriptionEnd>;
  close(): void;
}

/** Reads events after `afterSeq` from the store, oldest first (the catch-up before the hand-over). */
export type CatchUpRead = (afterSeq: number, limit: number) => Promise<readonly TenantEvent[]>;

export interface SubscriptionSetup {
  readonly afterSeq: number;
  readonly tenantId: string | undefined;
  /** The feed's head when the subscription was registered: the store serves events up to it. */
  readonly catchUpTo: number;
  readonly read: CatchUpRead;
  readonly pageSize: number;
  readonly maxQueued: number;
  /** Called once when the subscription ends (the feed forgets it). */
  readonly onEnd: (subscription: FeedSubscription) => void;
}

export class FeedSubscription implements EventSubscription {
  readonly ended: Promise<SubscriptionEnd>;
  readonly tenantId: string | undefined;
  private cursor: number;
  private queue: TenantEvent[] = [];
  private end: SubscriptionEnd | null = null;
  private resolveEnded!: (end: SubscriptionEnd) => void;
  private wake: (() => void) | undefined;

  constructor(private readonly setup: SubscriptionSetup) {
    this.cursor = setup.afterSeq;
    this.tenantId = setup.tenantId;
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  /** A batch of live events from the feed (already matching the tenant filter), in order. Synchronous. */
  offer(events: readonly TenantEvent[]): void {
    if (this.end) return;
    if (this.queue.length >= this.setup.maxQueued) return this.finish({ reason: 'overflow' });
    this.queue.push(...events);
    this.wake?.();
  }

  async next(): Promise<readonly TenantEvent[] | null> {
    for (;;) {
      if (this.end) return null;
      const events = this.cursor < this.setup.catchUpTo ? await this.catchUp() : this.takeQueued();
      if (events.length > 0) return events;
      if (this.cursor >= this.setup.catchUpTo && this.queue.length === 0 && !this.end)
        await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  close(): void {
    this.finish({ reason: 'closed' });
  }

  private finish(end: SubscriptionEnd): void {
    if (this.end) return;
    this.end = end;
    this.queue = [];
    this.wake?.();
    this.resolveEnded(end);
    this.setup.onEnd(this);
  }

  /** One page from the store, cut at the hand-over point. */
  private async catchUp(): Promise<TenantEvent[]> {
    const { read, pageSize, catchUpTo } = this.setup;
    let page: readonly TenantEvent[];
    try {
      page = await read(this.cursor, pageSize);
    } catch (error) {
      this.finish({ reason: 'failed', error });
      return [];
    }
    const before = page.filter((event) => event.seq <= catchUpTo);
    const more = before.length === pageSize;
    this.cursor = more ? before[before.length - 1]!.seq : Math.max(this.cursor, catchUpTo);
    return before.filter((event) => this.tenantId === undefined || event.tenantId === this.tenantId);
  }

  private takeQueued(): TenantEvent[] {
    const events = this.queue.filter((event) => event.seq > this.cursor);
    this.queue = [];
    if (events.length > 0) this.cursor = events[events.length - 1]!.seq;
    return events;
  }
}
