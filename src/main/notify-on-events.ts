/**
 * The store as this process's writers see it: every committed write that appended tenant events
 * (tenant create/change, execution insert/transition, `appendEvent`) tells the change signal — the
 * event feed, which then reads the log once on the next turn for every event stream. The log is the
 * truth and the feed also polls slowly (other replicas' writes arrive that way); the signal is only
 * about latency. A refused write (it threw) signals nothing. Reads pass straight through.
 */
import type { ComputeExecutionRepository, Store, TenantRepository } from '../store/store.js';

/** Told after events were committed; cheap and safe to call often (the feed coalesces). */
export interface ChangeSignal {
  changed(): void;
}

export function notifyOnEvents(store: Store, signal: ChangeSignal): Store {
  const after =
    <A extends unknown[], R>(write: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const result = await write(...args);
      signal.changed();
      return result;
    };
  return {
    dialect: store.dialect,
    stats: store.stats,
    tenants: signallingTenants(store.tenants, after),
    events: store.events,
    runs: store.runs,
    steps: store.steps,
    executions: signallingExecutions(store.executions, after),
    callbacks: store.callbacks,
    idempotency: store.idempotency,
    audit: store.audit,
    retention: store.retention,
    serverSecrets: store.serverSecrets,
    resealSecrets: (options) => store.resealSecrets(options),
    appendEvent: after((tenantId, event) => store.appendEvent(tenantId, event)),
    ping: () => store.ping(),
    probeWrite: () => store.probeWrite(),
    migrate: () => store.migrate(),
    migrationStatus: () => store.migrationStatus(),
    close: () => store.close(),
  };
}

type After = <A extends unknown[], R>(write: (...args: A) => Promise<R>) => (...args: A) => Promise<R>;

function signallingTenants(tenants: TenantRepository, after: After): TenantRepository {
  return {
    create: after((input) => tenants.create(input)),
    get: (idOrName) => tenants.get(idOrName),
    list: (query) => tenants.list(query),
    change: after((idOrName, change, options) => tenants.change(idOrName, change, options)),
    purge: after((id, audit) => tenants.purge(id, audit)),
    listArchivedByName: (name, limit) => tenants.listArchivedByName(name, limit),
    listSummaries: (afterId, limit, scope) => tenants.listSummaries(afterId, limit, scope),
    listReady: (afterId, limit) => tenants.listReady(afterId, limit),
    count: () => tenants.count(),
  };
}

function signallingExecutions(
  executions: ComputeExecutionRepository,
  after: After,
): ComputeExecutionRepository {
  return {
    insertIfAbsent: after((execution) => executions.insertIfAbsent(execution)),
    transition: after((executionId, transition) => executions.transition(executionId, transition)),
    get: (executionId) => executions.get(executionId),
    history: (executionId) => executions.history(executionId),
    list: (query) => executions.list(query),
    claimOrphans: (owner, now, leaseMs, limit) => executions.claimOrphans(owner, now, leaseMs, limit),
    renewLease: (executionId, owner, until) => executions.renewLease(executionId, owner, until),
    releaseLeases: (owner, at) => executions.releaseLeases(owner, at),
  };
}
