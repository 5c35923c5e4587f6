/**
 * The compute manager: implements `ComputeApi` (see compute-api.ts for the contract of `start`) on
 * top of the provider registry and an execution ledger (`store.executions`).
 *
 * Exactly-once driving: the row is inserted `pending` (idempotent on the deterministic id) and the
 * provider is called only by the caller that wins the compare-and-set to `running`; concurrent
 * `start` calls in one process are also coalesced in memory. The winner holds a lease on the row
 * while the provider call runs; `open()` starts a loop that re-drives executions whose owner died
 * (orphan-recovery.ts). `close(graceMs)` stops the loop, gives in-flight calls the grace to settle,
 * abandons the rest without settling them and releases their leases for another process to take.
 */
import { flushHeld, type HeldJournal } from '../domain/held-journal.js';
import { withContext, type TraceContext } from '../domain/tracing.js';
import type { ComputeExecution } from '../domain/compute-execution.js';
import type { ConfigHasher } from '../domain/config-hasher.js';
import { errorMessage, UnavailableError } from '../domain/errors.js';
import { silentLogger, type Logger } from '../domain/logger.js';
import type { ExecutionStatus } from '../domain/tenant.js';
import type {
  ComputeApi,
  ExecutionQuery,
  ExecutionView,
  LogQuery,
  LogTenant,
  StartComputeRequest,
  StartedExecution,
} from './compute-api.js';
import type { ExecutionLedger } from './execution-ledger.js';
import {
  newPendingExecution,
  planFor,
  startResult,
  toRunning,
  type ExecutionPlan,
  type StartResult,
} from './execution-records.js';
import { ExecutionRunner } from './execution-runner.js';
import { recoverOne, recoverOrphans, type RecoveryDeps, type TenantLookup } from './orphan-recovery.js';
import { callProvider } from './provider-call.js';
import type { LogLine, ObservedRuntime } from './provider.js';
import { readRuntimeLogs } from './runtime-logs.js';
import type { ProviderRegistry } from './provider-registry.js';

export const DEFAULT_LEASE_MS = 15_000;

export interface ComputeManagerOptions {
  readonly ledger: ExecutionLedger;
  readonly registry: ProviderRegistry;
  /** The server's keyed hash of effective configs (execution ids and records derive from it). */
  readonly hasher: ConfigHasher;
  /** Lease owner id of this process; unique per process (e.g. `<hostname>:<pid>:<uuid>`). */
  readonly instanceId: string;
  /** Current tenant spec, to rebuild the config of orphans (`(id) => store.tenants.get(id)`). */
  readonly tenants?: TenantLookup;
  readonly logger?: Logger;
  /** Lease on an in-flight execution; renewed every third of it. Default 15 000 ms. */
  readonly leaseMs?: number;
  /**
   * How often `open()`'s loop looks for orphans. Default a third of `leaseMs`: executions another
   * process released at a clean stop wait at most that long, a dead owner's at most the lease plus it.
   */
  readonly recoveryIntervalMs?: number;
  /** Orphans claimed per pass. Default 50. */
  readonly recoveryBatchSize?: number;
  /** Clock (epoch ms); tests may shift it. */
  readonly now?: () => number;
}

export class ComputeManager implements ComputeApi {
  private readonly deps: RecoveryDeps;
  private readonly runner: ExecutionRunner;
  private readonly starting = new Map<string, Promise<StartResult & Pick<StartedExecution, 'shown'>>>();
  private readonly recoveryIntervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private recovering: Promise<number> | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: ComputeManagerOptions) {
    const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    const base = {
      ledger: options.ledger,
      registry: options.registry,
      owner: options.instanceId,
      leaseMs,
      log: (options.logger ?? silentLogger).child({ component: 'compute-manager' }),
      now: options.now ?? Date.now,
    };
    this.runner = new ExecutionRunner(base);
    this.deps = {
      ...base,
      runner: this.runner,
      hasher: options.hasher,
      tenants: options.tenants,
      batchSize: options.recoveryBatchSize ?? 50,
    };
    this.recoveryIntervalMs = options.recoveryIntervalMs ?? Math.max(1, Math.floor(leaseMs / 3));
  }

  /** Starts the orphan-recovery loop (one pass at once, then every `recoveryIntervalMs`). Idempotent. */
  open(): void {
    if (this.closed) throw new UnavailableError('compute manager is closed');
    if (this.timer) return;
    this.timer = setInterval(() => void this.recoverOrphans(), this.recoveryIntervalMs);
    this.timer.unref();
    void this.recoverOrphans();
  }

  /**
   * Clean stop: `start` rejects from now on and the recovery loop ends. Provider calls in flight get
   * up to `graceMs` to finish and settle; the rest are abandoned without being marked failed (lease
   * renewal stops with them). Then every lease this process still holds is released, so another
   * process re-drives those executions at its next recovery pass (or at once, when the workflow
   * waiting for one asks for it) instead of after the lease ran out.
   */
  async close(graceMs = 0): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    clearInterval(this.timer);
    this.closing = this.stop(graceMs);
    return this.closing;
  }

  private async stop(graceMs: number): Promise<void> {
    await settlesWithin(this.runner.idle(), graceMs);
    await this.runner.abandonAll('compute manager closing');
    await this.recovering?.catch(() => 0);
    await Promise.allSettled(this.starting.values());
    const { ledger, owner, now, log } = this.deps;
    try {
      const released = await ledger.releaseLeases(owner, now());
      if (released > 0) log.info({ released }, 'released the leases of unfinished compute executions');
    } catch (error) {
      log.warn({ err: errorMessage(error) }, 'could not release execution leases; they expire on their own');
    }
  }

  /** One recovery pass (also run by the loop); returns how many orphans were re-driven. */
  recoverOrphans(): Promise<number> {
    if (this.closed) return Promise.resolve(0);
    this.recovering ??= recoverOrphans(this.deps)
      .catch((error: unknown) => {
        this.deps.log.warn({ err: errorMessage(error) }, 'orphaned execution recovery pass failed');
        return 0;
      })
      .finally(() => (this.recovering = undefined));
    return this.recovering;
  }

  /** Resolves once no provider call is in flight in this process. */
  idle(): Promise<void> {
    return this.runner.idle();
  }

  async start(request: StartComputeRequest): Promise<StartedExecution> {
    if (this.closed) throw new UnavailableError('compute manager is closed');
    const plan = this.plan(request);
    const returnsHealthy = this.deps.registry.get(plan.provider).provider.returnsHealthy === true;
    const started = this.starting.get(plan.executionId);
    if (started) {
      // Another caller's start writes the execution: this caller's held entries go on their own,
      // and its `show` is not made (that caller's, if any, was).
      await flushHeld(request.journal);
      const { shown: _theirs, ...result } = await started;
      return { ...result, returnsHealthy };
    }
    const own = this.startPlanned(plan, request.journal, request.show).finally(() =>
      this.starting.delete(plan.executionId),
    );
    this.starting.set(plan.executionId, own);
    return { ...(await own), returnsHealthy };
  }

  async get(executionId: string): Promise<ExecutionView | undefined> {
    const execution = await this.deps.ledger.get(executionId);
    if (!execution) return undefined;
    return { ...execution, history: await this.deps.ledger.history(executionId) };
  }

  async list(
    query: ExecutionQuery,
  ): Promise<{ items: readonly ComputeExecution[]; nextCursor: string | null }> {
    const page = await this.deps.ledger.list(query);
    return { items: page.items, nextCursor: page.nextCursor };
  }

  /**
   * Describes with the same effective config provision/update get (defaults merged, then validated
   * as the runner does), so the provider looks where the tenant's runtime lives.
   */
  async describe(tenant: StartComputeRequest['tenant'], trace?: TraceContext): Promise<ObservedRuntime> {
    const { registry } = this.deps;
    const type = registry.resolveProvider(tenant.spec.provider);
    const config = registry.mergedConfig(type, tenant.spec.config);
    const request = { tenant: { id: tenant.id, name: tenant.name }, config };
    return callProvider(registry, {
      type,
      config,
      what: `${type} describe of tenant ${tenant.name}`,
      run: (provider, signal) => withContext(trace, () => provider.describe(request, signal)),
    });
  }

  logs(tenant: LogTenant, query: LogQuery, signal: AbortSignal): AsyncIterable<LogLine> {
    return readRuntimeLogs(this.deps.registry, tenant, query, signal);
  }

  async listRunning(specProvider: string): Promise<ReadonlySet<string> | null> {
    const { registry } = this.deps;
    const type = registry.resolveProvider(specProvider);
    if (!registry.get(type).provider.listRunning) return null;
    return callProvider(registry, {
      type,
      what: `${type} runtime listing`,
      run: (provider, signal) => provider.listRunning!(signal),
    });
  }

  /** Resolves the provider, merges defaults and derives the deterministic id. Pure apart from throwing. */
  private plan(request: StartComputeRequest): ExecutionPlan {
    const { registry, hasher } = this.deps;
    const plan = planFor(registry, hasher, {
      tenant: request.tenant,
      provider: registry.resolveProvider(request.tenant.spec.provider),
      specConfig: request.tenant.spec.config,
      operation: request.operation,
      workflowRunId: request.workflowRunId,
      generation: request.generation,
      timeoutMs: request.timeoutMs,
    });
    return request.trace === undefined ? plan : { ...plan, trace: request.trace };
  }

  /**
   * A new execution is inserted leased to this process and moved to `running` in the same write
   * (`insertIfAbsent` with the move): the winner of the insert is the winner of the move. The
   * insert carries the starting step's held journal entries (or writes them first), before
   * anything acts on the provider. It may also make the caller's `show` (the execution shown on
   * its tenant, as it is inserted: `running`), which then comes back as `shown`.
   */
  private async startPlanned(
    plan: ExecutionPlan,
    journal?: HeldJournal,
    show?: StartComputeRequest['show'],
  ): Promise<StartResult & Pick<StartedExecution, 'shown'>> {
    const { ledger, owner, leaseMs, now } = this.deps;
    const startedAt = now();
    const pending = newPendingExecution(plan, startedAt, owner, leaseMs);
    const at = new Date(startedAt).toISOString();
    const running = toRunning(pending, { from: 'pending', attempt: pending.attempt, owner, at });
    const write = show?.(plan.executionId, 'running') ?? undefined;
    const { execution, created, shown } = await ledger.insertIfAbsent(pending, running, journal, write);
    if (created) {
      if (execution.status !== 'running') return this.claim(execution, plan, 'pending', execution.attempt);
      this.runner.launch(execution, plan);
      return { ...startResult(execution), ...(shown && { shown }) };
    }
    switch (execution.status) {
      case 'succeeded':
        return startResult(execution);
      case 'failed':
        return this.claim(execution, plan, 'failed', execution.attempt + 1);
      default:
        return this.resumeIfOrphaned(execution, plan);
    }
  }

  /** CAS `from` → running; the winner (and only it) holds the lease and launches the provider call. */
  private async claim(
    row: ComputeExecution,
    plan: ExecutionPlan,
    from: ExecutionStatus,
    attempt: number,
  ): Promise<StartResult> {
    const { ledger, owner, leaseMs, now } = this.deps;
    const at = new Date(now()).toISOString();
    const running = await ledger.transition(row.executionId, toRunning(row, { from, attempt, owner, at }));
    if (!running) return startResult((await ledger.get(row.executionId)) ?? row);
    const leased = row.leaseOwner === owner && (row.leaseExpiresAt ?? 0) > now() + leaseMs / 2;
    if (leased || (await ledger.renewLease(row.executionId, owner, now() + leaseMs)))
      this.runner.launch(running, plan);
    return startResult(running);
  }

  /** A pending/running row: alive → as is; ours and stuck in pending → claim; lease expired → recover. */
  private async resumeIfOrphaned(row: ComputeExecution, plan: ExecutionPlan): Promise<StartResult> {
    const { owner, now } = this.deps;
    if (this.runner.has(row.executionId)) return startResult(row);
    if (row.status === 'pending' && row.leaseOwner === owner)
      return this.claim(row, plan, 'pending', row.attempt);
    if (row.leaseExpiresAt === null || row.leaseExpiresAt <= now()) {
      await recoverOne(this.deps, row, plan);
      return startResult((await this.deps.ledger.get(row.executionId)) ?? row);
    }
    return startResult(row);
  }
}

/** Waits for `work` at most `ms`; never rejects. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<void> {
  if (ms <= 0) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([work.catch(() => undefined), timeout]);
  clearTimeout(timer);
}
