/**
 * The event feed: one reader of the event log for the whole process, fanning each batch out to every
 * subscriber (the SSE streams of `GET /v1/events`), each with its own cursor and tenant filter.
 *
 * Wake-ups: `changed()` — subscribed to the store's `events` change signal, so it runs after every
 * committed write in this process that appended events — schedules one read on the next turn of the
 * event loop, however many writes and subscribers there are; a slow poll (`pollIntervalMs`) picks
 * up what other replicas wrote. The log is read only while somebody is subscribed. Reads use
 * `listSince`, which returns settled events only, so the feed's head never passes an event that
 * commits later.
 *
 * A subscriber resuming from behind the head catches up from the store itself and then continues
 * with the feed's batches (event-subscription.ts has the hand-over).
 */
import { errorMessage, UnavailableError } from '../domain/errors.js';
import type { Logger } from '../domain/logger.js';
import type { TenantEvent } from '../domain/tenant-event.js';
import type { TenantEventRepository } from '../store/store.js';
import { FeedSubscription, type EventSubscription } from './event-subscription.js';

export interface EventFeedOptions {
  readonly events: Pick<TenantEventRepository, 'listSince' | 'listByTenant' | 'latestSeq'>;
  /** How often the log is read for other replicas' writes while anyone is subscribed. */
  readonly pollIntervalMs: number;
  /**
   * Live events one subscriber may have waiting when the next batch comes; past it the subscriber
   * is ended (`overflow`). A subscriber holds at most this plus one page.
   */
  readonly maxQueuedEvents: number;
  readonly logger: Logger;
  /** Events per store read. Default 500. */
  readonly pageSize?: number;
}

export interface SubscribeRequest {
  /** Resume after this seq; absent = from the current end of the log. */
  readonly afterSeq?: number | undefined;
  /** Only this tenant's events. */
  readonly tenantId?: string | undefined;
}

const DEFAULT_PAGE = 500;

export class EventFeed {
  /** Every event up to here has been handed to the subscribers of its time. */
  private head = 0;
  private readonly everything = new Set<FeedSubscription>();
  private readonly byTenant = new Map<string, Set<FeedSubscription>>();
  private subscribers = 0;
  private reading: Promise<void> | null = null;
  private again = false;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failing = false;
  private readonly pageSize: number;

  constructor(private readonly options: EventFeedOptions) {
    this.pageSize = options.pageSize ?? DEFAULT_PAGE;
  }

  /** Starts the slow poll. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.read(), this.options.pollIntervalMs);
    this.timer.unref();
  }

  /** Ends every subscription and stops reading; resolves once a read in flight is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const subscription of [...this.everything, ...[...this.byTenant.values()].flatMap((s) => [...s])])
      subscription.close();
    await this.reading;
  }

  /** New events were committed in this process: one read on the next turn, however many calls. */
  changed(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.read();
    });
  }

  async subscribe(request: SubscribeRequest): Promise<EventSubscription> {
    if (this.stopped) throw new UnavailableError('the event feed has stopped');
    const first = this.subscribers === 0;
    if (first) await this.refreshHead();
    if (this.stopped) throw new UnavailableError('the event feed has stopped');
    // From here to `add`, synchronously: the hand-over point is the head at registration.
    const { tenantId } = request;
    const { events } = this.options;
    const subscription = new FeedSubscription({
      afterSeq: request.afterSeq ?? this.head,
      tenantId,
      catchUpTo: this.head,
      read:
        tenantId === undefined
          ? (after, limit) => events.listSince(after, limit)
          : (after, limit) => events.listByTenant(tenantId, { afterSeq: after, limit }),
      pageSize: this.pageSize,
      maxQueued: this.options.maxQueuedEvents,
      onEnd: (ended) => this.remove(ended),
    });
    this.add(subscription);
    // Wake-ups while nobody listened read nothing: look once now rather than at the next poll.
    if (first) this.changed();
    return subscription;
  }

  /** Nobody was subscribed, so the head may be stale: move it to the log's end (never backwards). */
  private async refreshHead(): Promise<void> {
    const latest = await this.options.events.latestSeq();
    // Once someone subscribed meanwhile, only reading may move the head: a jump would skip events.
    if (this.subscribers === 0) this.head = Math.max(this.head, latest);
  }

  private add(subscription: FeedSubscription): void {
    const { tenantId } = subscription;
    if (tenantId === undefined) this.everything.add(subscription);
    else {
      let set = this.byTenant.get(tenantId);
      if (!set) this.byTenant.set(tenantId, (set = new Set()));
      set.add(subscription);
    }
    this.subscribers += 1;
  }

  private remove(subscription: FeedSubscription): void {
    const { tenantId } = subscription;
    const set = tenantId === undefined ? this.everything : this.byTenant.get(tenantId);
    if (!set?.delete(subscription)) return;
    if (tenantId !== undefined && set.size === 0) this.byTenant.delete(tenantId);
    this.subscribers -= 1;
  }

  /** Reads everything after the head (one read at a time; a wake-up meanwhile reads once more). */
  private read(): void {
    if (this.stopped || this.subscribers === 0) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.readNew().finally(() => {
      this.reading = null;
      if (!this.again) return;
      this.again = false;
      this.read();
    });
  }

  private async readNew(): Promise<void> {
    try {
      for (;;) {
        const page = await this.options.events.listSince(this.head, this.pageSize);
        this.dispatch(page);
        if (page.length < this.pageSize || this.stopped) break;
      }
      if (this.failing) this.options.logger.info('reading the event log works again');
      this.failing = false;
    } catch (error) {
      // Once per outage: the poll retries every interval and would flood the log.
      if (!this.failing)
        this.options.logger.warn({ err: errorMessage(error) }, 'reading the event log failed');
      this.failing = true;
    }
  }

  /** Hands a page to every subscriber as one batch (tenant subscribers: their tenant's part). */
  private dispatch(page: readonly TenantEvent[]): void {
    const fresh = page.filter((event) => event.seq > this.head);
    if (fresh.length === 0) return;
    this.head = fresh[fresh.length - 1]!.seq;
    for (const subscription of this.everything) subscription.offer(fresh);
    if (this.byTenant.size === 0) return;
    const perTenant = new Map<string, TenantEvent[]>();
    for (const event of fresh) {
      if (!this.byTenant.has(event.tenantId)) continue;
      const events = perTenant.get(event.tenantId);
      if (events) events.push(event);
      else perTenant.set(event.tenantId, [event]);
    }
    for (const [tenantId, events] of perTenant)
      for (const subscription of this.byTenant.get(tenantId) ?? []) subscription.offer(events);
  }
}
