/**
 * Gauges of fleet-wide state read from the store — tenants by phase, active runs, the callback
 * outbox — and of the PostgreSQL connection pool. The counts are aggregate queries over indexes
 * (store.stats); they are cached and read again at most once per `refreshIntervalMs`, whatever
 * the scrape rate, so a fleet of 100 000 tenants costs one indexed GROUP BY per interval, never a
 * scan per scrape. A failed refresh keeps the last values (and is retried at the next scrape).
 * The pool gauges cost nothing: they are read from the pool at each scrape.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../domain/logger.js';
import { CachedSnapshot } from './cached-snapshot.js';
import { PHASES } from '../../domain/tenant.js';
import type { ActiveRunCount, CallbackOutboxStats, StoreStatsRepository } from '../../store/store.js';

export const FLEET_METRIC_NAMES = {
  tenants: 'lessor_tenants',
  activeRuns: 'lessor_workflow_runs_active',
  outboxPending: 'lessor_callback_outbox_pending',
  outboxDead: 'lessor_callback_outbox_dead',
  oldestPending: 'lessor_callback_oldest_pending_age_seconds',
  poolConnections: 'lessor_store_pool_connections',
  poolWaiting: 'lessor_store_pool_waiting_queries',
  poolMax: 'lessor_store_pool_max_connections',
} as const;

interface Snapshot {
  readonly tenants: Readonly<Record<string, number>>;
  readonly runs: readonly ActiveRunCount[];
  readonly outbox: CallbackOutboxStats;
}

export interface FleetGaugeOptions {
  readonly stats: StoreStatsRepository;
  readonly refreshIntervalMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

export type FleetSnapshot = CachedSnapshot<Snapshot>;

export function registerFleetGauges(registry: Registry, options: FleetGaugeOptions): FleetSnapshot {
  const { stats } = options;
  const snapshot = new CachedSnapshot<Snapshot>({
    ...options,
    what: 'fleet counts',
    read: async () => {
      const [tenants, runs, outbox] = await Promise.all([
        stats.tenantsByPhase(),
        stats.activeRuns(),
        stats.callbackOutbox(),
      ]);
      return { tenants, runs, outbox };
    },
  });
  const n = FLEET_METRIC_NAMES;
  const now = options.now ?? Date.now;
  new Gauge({
    name: n.tenants,
    help: 'Tenants by phase (cached; refreshed at most once per server.metrics.refreshIntervalMs)',
    labelNames: ['phase'],
    registers: [registry],
    async collect() {
      const value = await snapshot.get();
      if (!value) return;
      for (const phase of PHASES) this.set({ phase }, value.tenants[phase] ?? 0);
    },
  });
  new Gauge({
    name: n.activeRuns,
    help: 'Workflow runs in an active state, by engine and workflow (cached)',
    labelNames: ['engine', 'workflow'],
    registers: [registry],
    async collect() {
      const value = await snapshot.get();
      if (!value) return;
      this.reset();
      for (const { engine, workflow, count } of value.runs) this.set({ engine, workflow }, count);
    },
  });
  outboxGauge(
    registry,
    snapshot,
    n.outboxPending,
    'Callbacks waiting for delivery (cached)',
    (o) => o.pending,
  );
  outboxGauge(registry, snapshot, n.outboxDead, 'Callbacks parked as dead letters (cached)', (o) => o.dead);
  outboxGauge(
    registry,
    snapshot,
    n.oldestPending,
    'Age of the oldest undelivered callback: the delivery backlog (0 when none waits)',
    (o) => (o.oldestPendingAt === null ? 0 : Math.max(0, now() - Date.parse(o.oldestPendingAt)) / 1000),
  );
  registerPoolGauges(registry, options.stats);
  return snapshot;
}

function outboxGauge(
  registry: Registry,
  snapshot: FleetSnapshot,
  name: string,
  help: string,
  read: (outbox: CallbackOutboxStats) => number,
): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    async collect() {
      const value = await snapshot.get();
      if (value) this.set(read(value.outbox));
    },
  });
}

/** Only for a database with a pool (PostgreSQL); SQLite exports none of these. */
function registerPoolGauges(registry: Registry, stats: StoreStatsRepository): void {
  if (stats.connectionPool() === null) return;
  const n = FLEET_METRIC_NAMES;
  new Gauge({
    name: n.poolConnections,
    help: 'PostgreSQL pool connections by state (idle, busy)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const pool = stats.connectionPool();
      if (!pool) return;
      this.set({ state: 'idle' }, pool.idle);
      this.set({ state: 'busy' }, Math.max(0, pool.total - pool.idle));
    },
  });
  new Gauge({
    name: n.poolWaiting,
    help: 'Queries waiting for a PostgreSQL pool connection',
    registers: [registry],
    collect() {
      this.set(stats.connectionPool()?.waiting ?? 0);
    },
  });
  new Gauge({
    name: n.poolMax,
    help: 'Size limit of the PostgreSQL pool (database.poolSize)',
    registers: [registry],
    collect() {
      this.set(stats.connectionPool()?.max ?? 0);
    },
  });
}
