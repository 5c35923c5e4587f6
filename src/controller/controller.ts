/**
 * The controller (docs/architecture.md, "The controller"): wake-up sources (API writes, a change feed from
 * other replicas, periodic resync, drift checks) feed a work queue whose workers hand tenant ids to the
 * reconciler.
 */
import type { ComputeApi } from '../compute/compute-api.js';
import type { Logger } from '../domain/logger.js';
import { NO_METRICS, type Metrics } from '../domain/metrics.js';
import { activeSpanContext, inSpan, type Context, type TraceContext } from '../domain/tracing.js';
import type { TenantRun } from '../domain/tenant-run.js';
import type { TriggerSource } from '../domain/workflow-run.js';
import type {
  ReadyTenantRef,
  TenantEventRepository,
  TenantRepository,
  TenantSummary,
} from '../store/store.js';
import type { ReconcileTrigger } from './reconcile-trigger.js';
import type { TenantReconciler } from './tenant-reconciler.js';
import { WorkQueue } from './work-queue.js';

/** Cross-replica wake-ups (PostgreSQL LISTEN/NOTIFY); in-process only when absent. */
export interface TenantChangeFeed {
  publish(tenantId: string): void;
  subscribe(listener: (tenantId: string) => void): () => void;
}

export interface ControllerOptions {
  readonly workers: number;
  readonly resyncIntervalMs: number;
  readonly driftIntervalMs: number;
  readonly reconcileTimeoutMs: number;
  readonly rateLimitPerSecond: number;
}

export interface ControllerDeps {
  readonly tenants: Pick<TenantRepository, 'listSummaries' | 'listReady'>;
  /** The event log's head: every change to a tenant's phase or spec appends to it. */
  readonly events: Pick<TenantEventRepository, 'latestSeq'>;
  readonly reconciler: Pick<TenantReconciler, 'reconcile' | 'repairDrift'>;
  /** One-sweep runtime listings that spare drift checks a `describe` per running tenant. */
  readonly compute: Pick<ComputeApi, 'listRunning'>;
  readonly feed?: TenantChangeFeed;
  readonly logger: Logger;
  readonly metrics?: Pick<Metrics, 'workQueue' | 'controller'>;
}

const PAGE = 1000;

type Listings = Map<string, Promise<ReadonlySet<string> | null>>;

/**
 * What a drift pass that described no tenant saw: the event log's head when it began and each
 * provider's listing. While neither changes, the next pass would find the same — every ready
 * tenant listed as running — and is skipped without reading the store's tenants.
 */
interface CleanPass {
  readonly seq: number;
  readonly listings: ReadonlyMap<string, ReadonlySet<string>>;
}

export class Controller implements ReconcileTrigger {
  private readonly queue: WorkQueue<TriggerSource>;
  private readonly timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | null = null;
  private driftRunning = false;
  private lastCleanPass: CleanPass | null = null;
  private readonly driftAbort = new AbortController();
  private readonly metrics: Pick<Metrics, 'controller'>;
  /** The trace context of the API write that enqueued a tenant (tracing on only), for its reconcile. */
  private readonly origins = new Map<string, Context>();
  /** The run that just ended, per tenant queued by `runEnded`: its reconcile may skip the runs read. */
  private readonly endedRuns = new Map<string, TenantRun>();

  constructor(
    private readonly deps: ControllerDeps,
    private readonly options: ControllerOptions,
  ) {
    this.metrics = deps.metrics ?? NO_METRICS;
    this.queue = new WorkQueue<TriggerSource>({
      workers: options.workers,
      ratePerSecond: options.rateLimitPerSecond,
      timeoutMs: options.reconcileTimeoutMs,
      backoff: { initialMs: 100, maxMs: 60_000 },
      handle: (tenantId, source) => this.reconcile(tenantId, source),
      logger: deps.logger.child({ component: 'controller' }),
      name: 'tenants',
      metrics: { queue: (deps.metrics ?? NO_METRICS).workQueue, controller: this.metrics.controller },
    });
  }

  /** Called after every committed API write; also tells the other replicas. */
  enqueue(tenantId: string, source: TriggerSource, trace?: TraceContext): void {
    const origin = trace ?? activeSpanContext();
    if (origin) this.origins.set(tenantId, origin);
    this.queue.enqueue(tenantId, source);
    this.deps.feed?.publish(tenantId);
  }

  /**
   * A tenant run ended: look again at once (the spec may have moved on during the run, or asked
   * for the next step). The run goes along as a hint, never as the truth: the reconcile still reads
   * the tenant, and reads its runs whenever the tenant alone does not settle the decision.
   */
  runEnded(run: TenantRun): void {
    this.endedRuns.set(run.tenantId, run);
    this.queue.enqueue(run.tenantId, 'controller');
    this.deps.feed?.publish(run.tenantId);
  }

  async start(): Promise<void> {
    this.unsubscribe =
      this.deps.feed?.subscribe((tenantId) => this.queue.enqueue(tenantId, 'controller')) ?? null;
    this.queue.start();
    await this.resync();
    this.every(this.options.resyncIntervalMs, () => this.resync());
    this.every(this.options.driftIntervalMs, () => this.checkDrift());
  }

  /** Graceful shutdown: stop taking work; in-flight reconciles get `graceMs` to finish. */
  async stop(graceMs: number): Promise<void> {
    this.timers.forEach((timer) => clearInterval(timer));
    this.unsubscribe?.();
    this.driftAbort.abort();
    await this.queue.stop(graceMs);
    this.endedRuns.clear();
  }

  private reconcile(tenantId: string, source: TriggerSource): ReturnType<TenantReconciler['reconcile']> {
    const parent = this.origins.get(tenantId);
    this.origins.delete(tenantId);
    const ended = this.endedRuns.get(tenantId);
    this.endedRuns.delete(tenantId);
    const attributes = { 'lessor.tenant.id': tenantId, 'lessor.trigger': source };
    return inSpan('reconcile', { attributes, ...(parent && { parent }) }, (_span, trace) =>
      this.deps.reconciler.reconcile(tenantId, source, trace, ended),
    );
  }

  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }

  /**
   * One pass over the tenants that may need action (keyset pages; the store leaves settled tenants
   * out, so an idle fleet costs next to nothing); enqueues them.
   */
  async resync(): Promise<number> {
    let afterId: string | null = null;
    let enqueued = 0;
    for (;;) {
      const page: readonly TenantSummary[] = await this.deps.tenants.listSummaries(
        afterId,
        PAGE,
        'unsettled',
      );
      for (const tenant of page) {
        if (needsAttention(tenant)) {
          this.queue.enqueue(tenant.id, 'controller');
          enqueued++;
        }
      }
      if (page.length < PAGE) return enqueued;
      afterId = page[page.length - 1]!.id;
    }
  }

  /**
   * Asks the engines about every ready, unpaused tenant; repairs runtimes that died or were removed. A
   * provider that lists its running runtimes in one sweep is asked once per pass, and only the tenants it
   * does not list are described one by one (docs/decisions.md, "Controller passes at scale") — a listing can
   * only spare work, never hide a dead runtime. A pass is skipped when nothing changed since a pass that
   * described nobody (see CleanPass): at 100 000 idle tenants that is most passes.
   */
  async checkDrift(): Promise<number> {
    if (this.driftRunning) return 0;
    this.driftRunning = true;
    const listings: Listings = new Map();
    try {
      // Read before the pass: a change made while it runs moves the head past what is recorded.
      const seq = await this.deps.events.latestSeq();
      if (await this.unchangedSinceCleanPass(seq, listings)) return 0;
      this.lastCleanPass = null;
      let afterId: string | null = null;
      let described = 0;
      let repaired = 0;
      for (;;) {
        const page: readonly ReadyTenantRef[] = await this.deps.tenants.listReady(afterId, PAGE);
        const running = new Map<string, ReadonlySet<string> | null>();
        for (const provider of new Set(page.map((tenant) => tenant.provider))) {
          running.set(provider, await this.runningOn(provider, listings));
        }
        for (const tenant of page) {
          if (this.driftAbort.signal.aborted) return repaired;
          if (running.get(tenant.provider)?.has(tenant.id)) continue;
          described++;
          if (await this.repairOne(tenant.id)) repaired++;
        }
        if (page.length < PAGE) break;
        afterId = page[page.length - 1]!.id;
      }
      if (described === 0) this.lastCleanPass = { seq, listings: await settledListings(listings) };
      return repaired;
    } finally {
      this.driftRunning = false;
    }
  }

  /** True when the event log's head and every listing are as the last clean pass saw them. */
  private async unchangedSinceCleanPass(seq: number, listings: Listings): Promise<boolean> {
    const clean = this.lastCleanPass;
    if (!clean || clean.seq !== seq) return false;
    for (const [provider, before] of clean.listings) {
      const now = await this.runningOn(provider, listings);
      if (!now || !sameMembers(now, before)) return false;
    }
    return true;
  }

  /** The provider's listing for this pass (asked once); null when it has none or listing failed. */
  private runningOn(provider: string, listings: Listings): Promise<ReadonlySet<string> | null> {
    let listing = listings.get(provider);
    if (!listing) {
      listing = this.deps.compute.listRunning(provider).catch((error: unknown) => {
        this.deps.logger.warn({ err: error, provider }, 'runtime listing failed; describing each tenant');
        return null;
      });
      listings.set(provider, listing);
    }
    return listing;
  }

  private async repairOne(tenantId: string): Promise<boolean> {
    try {
      const repaired = await this.deps.reconciler.repairDrift(tenantId, this.driftAbort.signal);
      if (repaired) this.metrics.controller.driftRepairs.inc({ controller: 'tenants' });
      return repaired;
    } catch (error) {
      this.deps.logger.warn({ err: error, tenantId }, 'drift check failed');
      return false;
    }
  }

  private every(intervalMs: number, task: () => Promise<unknown>): void {
    const timer = setInterval(() => {
      task().catch((error: unknown) =>
        this.deps.logger.warn({ err: error }, 'periodic controller task failed'),
      );
    }, intervalMs);
    timer.unref();
    this.timers.push(timer);
  }
}

/**
 * Copies of the listings a pass got (a provider may hand out the same set again, changed since);
 * a failed listing is left out — a pass that got one described that provider's tenants anyway.
 */
async function settledListings(listings: Listings): Promise<ReadonlyMap<string, ReadonlySet<string>>> {
  const settled = new Map<string, ReadonlySet<string>>();
  for (const [provider, listing] of listings) {
    const running = await listing;
    if (running) settled.set(provider, new Set(running));
  }
  return settled;
}

function sameMembers(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const id of a) if (!b.has(id)) return false;
  return true;
}

function needsAttention(tenant: TenantSummary): boolean {
  if (tenant.phase === 'archived') return false;
  if (tenant.phase === 'ready' || tenant.phase === 'failed')
    return tenant.generation > tenant.observedGeneration;
  return true;
}
