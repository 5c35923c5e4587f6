/**
 * Keeps this process's leases alive: every third of `leaseMs`, renews each held run whose lease is
 * older than half a tick (short runs finish before they ever need a renewal), so a renewal starts
 * with about two thirds of the lease left — slack for a slow database. A refused renewal means
 * another process owns the run now: its handle stops with `lease-lost`.
 *
 * Every third tick (about once per lease) also re-checks runs waiting on a promise: the safety net
 * for a lost notification.
 */
import type { Logger } from '../../domain/logger.js';
import type { ResolvedOptions } from './options.js';
import type { RunHandle } from './run-handle.js';
import type { RunWriter } from './run-writer.js';

export interface LeaseKeeperDeps {
  readonly writer: Pick<RunWriter, 'renew'>;
  readonly options: ResolvedOptions;
  readonly log: Logger;
  handles(): Iterable<RunHandle>;
}

export class LeaseKeeper {
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  private ticks = 0;

  constructor(private readonly deps: LeaseKeeperDeps) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.tickMs());
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    const recheck = ++this.ticks % 3 === 0;
    try {
      const renewals: Promise<void>[] = [];
      for (const handle of this.deps.handles()) {
        // A failed run still writes its end under its lease; a stopped or cancelled one writes nothing.
        const ending = handle.termination.kind;
        if (ending === 'stopped' || ending === 'cancelled') continue;
        if (recheck) handle.recheck();
        if (this.needsRenewal(handle)) renewals.push(this.renew(handle));
      }
      await Promise.all(renewals);
    } finally {
      this.ticking = false;
    }
  }

  private tickMs(): number {
    return Math.max(1, Math.floor(this.deps.options.leaseMs / 3));
  }

  private needsRenewal(handle: RunHandle): boolean {
    const { leaseMs, now } = this.deps.options;
    return handle.leaseExpiresAt - now() < leaseMs - this.tickMs() / 2;
  }

  private async renew(handle: RunHandle): Promise<void> {
    const { writer, log } = this.deps;
    try {
      if (!(await writer.renew(handle)))
        log.warn({ runId: handle.runId }, 'lease lost: another process owns the run now');
    } catch (error) {
      log.warn({ err: error, runId: handle.runId }, 'lease renewal failed; retrying at the next tick');
    }
  }
}
