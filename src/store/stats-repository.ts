/**
 * Fleet-wide counts for gauges (tenants by phase, active runs, the callback outbox). Each call is
 * one aggregate over an index (`tenants_phase_id`, `workflow_runs_state_wake`,
 * `callbacks_state_next`); callers cache the answer and refresh it at a bounded pace, never per
 * scrape (see src/main/telemetry/fleet-gauges.ts).
 */
import type { StoreContext } from './context.js';
import type {
  ActiveRunCount,
  CallbackOutboxStats,
  ConnectionPoolStats,
  StoreStatsRepository,
} from './store.js';
import { ACTIVE_RUN_STATES } from '../domain/workflow-run.js';

export class KyselyStoreStatsRepository implements StoreStatsRepository {
  constructor(
    private readonly ctx: StoreContext,
    private readonly pool: (() => ConnectionPoolStats) | undefined,
  ) {}

  connectionPool(): ConnectionPoolStats | null {
    return this.pool?.() ?? null;
  }

  async tenantsByPhase(): Promise<Readonly<Record<string, number>>> {
    const rows = await this.ctx.db
      .selectFrom('tenants')
      .select(({ fn }) => ['phase', fn.countAll<number>().as('count')])
      .groupBy('phase')
      .execute();
    return Object.fromEntries(rows.map((row) => [row.phase, Number(row.count)]));
  }

  async activeRuns(): Promise<readonly ActiveRunCount[]> {
    const rows = await this.ctx.db
      .selectFrom('workflow_runs')
      .select(({ fn }) => ['engine', 'workflow', fn.countAll<number>().as('count')])
      .where('state', 'in', [...ACTIVE_RUN_STATES])
      .groupBy(['engine', 'workflow'])
      .execute();
    return rows.map((row) => ({ engine: row.engine, workflow: row.workflow, count: Number(row.count) }));
  }

  async callbackOutbox(): Promise<CallbackOutboxStats> {
    const rows = await this.ctx.db
      .selectFrom('callbacks')
      .select(({ fn }) => ['state', fn.countAll<number>().as('count'), fn.min('created_at').as('oldest')])
      .where('state', 'in', ['pending', 'dead'])
      .groupBy('state')
      .execute();
    const pending = rows.find((row) => row.state === 'pending');
    const dead = rows.find((row) => row.state === 'dead');
    return {
      pending: Number(pending?.count ?? 0),
      dead: Number(dead?.count ?? 0),
      oldestPendingAt: pending?.oldest ?? null,
    };
  }
}
