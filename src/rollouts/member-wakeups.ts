/**
 * In-process news for the rollouts driven here: the tenants whose run ended in this process since a
 * driver last looked (docs/decisions.md, "A rollout ticks when its members' runs end"). A member's
 * tenant changes phase when its run ends, so a driver waiting between ticks is woken by it and
 * reads just those members instead of every member in flight. Nothing here is durable or needed
 * for correctness: a driver still reads every member in flight on its fallback poll, which also
 * catches runs that ended in another process.
 */

/** Tenants a subscription keeps before it asks for a full read instead. */
const MAX_PENDING = 5_000;

/** What happened since the last `take`: tenants whose runs ended, or too many to name. */
export type MemberNews =
  { readonly kind: 'tenants'; readonly tenantIds: readonly string[] } | { readonly kind: 'all' };

export interface MemberSubscription {
  /** The news since the last call, cleared. */
  take(): MemberNews;
  /** Resolves at the first news (at once when some is waiting), after `ms`, or when stopped. */
  wait(ms: number): Promise<void>;
  close(): void;
}

export class MemberWakeups {
  private readonly subscriptions = new Set<Subscription>();
  private stopped = false;

  /** A run of `tenantId` ended in this process. */
  runEnded(tenantId: string): void {
    for (const subscription of this.subscriptions) subscription.add(tenantId);
  }

  /** Ends every wait at once; drivers then tick once per step, as without wake-ups. */
  stop(): void {
    this.stopped = true;
    for (const subscription of this.subscriptions) subscription.wakeUp();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  subscribe(): MemberSubscription {
    const subscription = new Subscription(() => this.subscriptions.delete(subscription));
    this.subscriptions.add(subscription);
    return subscription;
  }
}

class Subscription implements MemberSubscription {
  private pending = new Set<string>();
  private overflow = false;
  private waiter: (() => void) | undefined;

  constructor(private readonly onClose: () => void) {}

  add(tenantId: string): void {
    if (this.pending.size >= MAX_PENDING) this.overflow = true;
    else this.pending.add(tenantId);
    this.wakeUp();
  }

  wakeUp(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  take(): MemberNews {
    const news: MemberNews = this.overflow
      ? { kind: 'all' }
      : { kind: 'tenants', tenantIds: [...this.pending] };
    this.pending = new Set();
    this.overflow = false;
    return news;
  }

  wait(ms: number): Promise<void> {
    if (this.pending.size > 0 || this.overflow) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wakeUp(), ms);
      this.waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  close(): void {
    this.wakeUp();
    this.onClose();
  }
}
