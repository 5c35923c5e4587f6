/**
 * The retention service: every `sweepIntervalMs`, one pass deletes — kind by kind, in batches of
 * `batchSize`, yielding to the event loop between batches — the records settled for longer than
 * their kind's window (`RetentionRepository` says which records may go and which stay). A window
 * of 0 days keeps that kind forever. Audit records are not a kind: nothing here deletes them.
 *
 * Passes are incremental: each remembers, per kind, the last row it examined, and the next pass
 * starts after it. Rows kept because they define current state (a tenant's newest run of an
 * action, the execution its status names) stay past their window for good, and at 100 000 tenants
 * there are hundreds of thousands of them: an hourly pass that read them all again would cost more
 * than everything else it does. A full pass — from the oldest row — runs first after start and
 * then every `fullSweepIntervalMs`; it deletes what stopped defining current state since (the run
 * a newer one superseded). Several replicas may sweep at once: their batches take turns (see
 * `SqlDialect.lockRetentionSweep`) and a row is deleted once.
 */
import { setImmediate as turn } from 'node:timers/promises';
import type { Logger } from '../domain/logger.js';
import type { RetentionCursor, RetentionKind, RetentionRepository } from './store.js';

/**
 * Dependents before what they depend on: callbacks and executions before runs, then events;
 * webhook deliveries and finished rollouts (with their members) depend on none of them.
 */
const KINDS: readonly RetentionKind[] = [
  'callbacks',
  'executions',
  'runs',
  'events',
  'webhookDeliveries',
  'rollouts',
];

const DAY_MS = 86_400_000;

/** A replica's first pass comes this soon after start (or after one interval, if shorter). */
const FIRST_PASS_DELAY_MS = 60_000;

export type RetentionOptions = Readonly<Record<RetentionKind, { readonly days: number }>> & {
  readonly sweepIntervalMs: number;
  readonly fullSweepIntervalMs: number;
  readonly batchSize: number;
};

export interface RetentionSweeperDeps {
  readonly retention: RetentionRepository;
  readonly logger: Logger;
  readonly now?: () => number;
}

export type RetentionCounts = Record<RetentionKind, number>;

export interface RetentionPass {
  /** Started from the oldest rows (rather than where the previous pass stopped). */
  readonly full: boolean;
  readonly examined: RetentionCounts;
  readonly deleted: RetentionCounts;
  readonly ms: number;
}

const zeroCounts = (): RetentionCounts => ({
  webhookDeliveries: 0,
  rollouts: 0,
  callbacks: 0,
  executions: 0,
  runs: 0,
  events: 0,
});

export class RetentionSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RetentionPass> | null = null;
  private stopped = false;
  /** Per kind, the last row the previous passes examined. */
  private readonly resumeAfter = new Map<RetentionKind, RetentionCursor>();
  private lastFullPassAt: number | null = null;

  constructor(
    private readonly deps: RetentionSweeperDeps,
    private readonly options: RetentionOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(Math.min(FIRST_PASS_DELAY_MS, this.options.sweepIntervalMs));
  }

  /** No new pass starts; a running one ends after its current batch, and is waited for. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** Runs a pass now, or joins the one running. Rejects when the store fails. */
  pass(): Promise<RetentionPass> {
    this.running ??= this.sweep().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.timedPass(), delayMs);
    this.timer.unref();
  }

  private async timedPass(): Promise<void> {
    try {
      const pass = await this.pass();
      const deleted = KINDS.reduce((sum, kind) => sum + pass.deleted[kind], 0);
      if (deleted > 0) this.deps.logger.info(pass, 'retention pass deleted expired records');
      else this.deps.logger.debug(pass, 'retention pass found nothing to delete');
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'retention pass failed; the next one retries');
    }
    this.schedule(this.options.sweepIntervalMs);
  }

  private async sweep(): Promise<RetentionPass> {
    const timer = performance.now();
    const started = this.now();
    const full =
      this.lastFullPassAt === null || started - this.lastFullPassAt >= this.options.fullSweepIntervalMs;
    if (full) this.resumeAfter.clear();
    const examined = zeroCounts();
    const deleted = zeroCounts();
    for (const kind of KINDS) {
      const days = this.options[kind].days;
      if (days <= 0 || this.stopped) continue;
      const olderThan = new Date(started - days * DAY_MS).toISOString();
      await this.sweepKind(kind, olderThan, { examined, deleted });
    }
    if (full && !this.stopped) this.lastFullPassAt = started;
    return { full, examined, deleted, ms: Math.round(performance.now() - timer) };
  }

  private async sweepKind(
    kind: RetentionKind,
    olderThan: string,
    totals: { examined: RetentionCounts; deleted: RetentionCounts },
  ): Promise<void> {
    const limit = this.options.batchSize;
    for (;;) {
      const after = this.resumeAfter.get(kind) ?? null;
      const batch = await this.deps.retention.sweep(kind, { olderThan, after, limit });
      totals.examined[kind] += batch.examined;
      totals.deleted[kind] += batch.deleted;
      if (batch.last) this.resumeAfter.set(kind, batch.last);
      if (batch.examined < limit || this.stopped) return;
      await turn();
    }
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
