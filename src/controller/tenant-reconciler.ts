/**
 * Reconciles one tenant: reads current state, asks `decideReconcile`, acts (cancel, start a run with
 * its deterministic id, record a condition). Idempotent — starting a run that exists is a no-op —
 * so it is safe to run again at any moment, from any replica.
 */
import type { ComputeApi } from '../compute/compute-api.js';
import type { ConfigHasher } from '../domain/config-hasher.js';
import { nextRetry, workflowRunId } from '../domain/ids.js';
import type { Logger } from '../domain/logger.js';
import type { TenantHandoff } from '../domain/tenant-handoff.js';
import { withTraceparent, type TraceContext } from '../domain/tracing.js';
import { tenantRunsOf, tenantRunTags, tenantSubject, type TenantRun } from '../domain/tenant-run.js';
import { isSuspended, type Tenant, type WorkflowAction } from '../domain/tenant.js';
import { isRunActive, type TriggerSource } from '../domain/workflow-run.js';
import type { TenantRepository, WorkflowRunRepository } from '../store/store.js';
import type { WorkflowEngine } from '../workflow/engine.js';
import { decideReconcile, settledBy, type ReconcileDecision } from './reconcile-decision.js';
import type { HandleResult } from './work-queue.js';

export interface TenantReconcilerDeps {
  readonly tenants: Pick<TenantRepository, 'get' | 'getWithRuns' | 'change'>;
  readonly runs: Pick<WorkflowRunRepository, 'listBySubject'>;
  readonly engine: Pick<WorkflowEngine, 'start' | 'cancel'>;
  readonly compute: Pick<ComputeApi, 'describe'>;
  /** The server's keyed hash: a run's `configHash` is served by the API, so never a plain hash. */
  readonly hasher: ConfigHasher;
  readonly logger: Logger;
  /**
   * Where a run started here finds the tenant this reconcile read, so its first step need not read
   * it again (src/domain/tenant-handoff.ts); the run's workflows must be given the same one.
   */
  readonly handoff?: TenantHandoff;
}

/** Enough history to hold the newest run of each action (the next retry suffix follows it). */
const RUN_HISTORY = 100;

export class TenantReconciler {
  constructor(private readonly deps: TenantReconcilerDeps) {}

  /**
   * `trace`: the reconcile's trace context; a run it starts continues it (its traceparent tag).
   * `ended`: the tenant's run whose end woke this reconcile, if that is what did (see `settledBy`).
   */
  async reconcile(
    tenantId: string,
    source: TriggerSource,
    trace?: TraceContext,
    ended?: TenantRun,
  ): Promise<HandleResult | void> {
    const read = await this.tenantAndRuns(tenantId, ended);
    if (!read) return;
    const { tenant, runs } = read;
    const decision = decideReconcile(tenant, runs);
    await this.act(tenant, decision, source, trace);
    // Clearing the Paused condition is only the first step of resuming: look again at once.
    if (decision.kind === 'set-paused' && !decision.paused) return { requeueAfterMs: 1 };
  }

  /**
   * Drift check of a ready tenant: when the engine no longer has its runtime (removed or stopped
   * behind Lessor's back), start an update run that recreates it.
   */
  async repairDrift(tenantId: string, signal: AbortSignal): Promise<boolean> {
    const tenant = await this.deps.tenants.get(tenantId);
    // A tenant asked to suspend is left to its suspend run, never "repaired" back to running.
    if (!tenant || tenant.status.phase !== 'ready' || tenant.spec.paused || isSuspended(tenant.spec))
      return false;
    const runs = await this.tenantRuns(tenant.id);
    if (runs.some((run) => isRunActive(run.state)) || signal.aborted) return false;
    const observed = await this.deps.compute.describe(tenant);
    if (observed.exists && observed.running) return false;
    const reason = observed.exists ? 'runtime stopped out of band' : 'runtime removed out of band';
    await this.startRun(tenant, 'update', nextRetry(runs, 'update', tenant.generation), 'controller', reason);
    return true;
  }

  private async act(
    tenant: Tenant,
    decision: ReconcileDecision,
    source: TriggerSource,
    trace: TraceContext | undefined,
  ): Promise<void> {
    // Most reconciles log nothing: the child (whose bindings pino serialises) is built only to log.
    const log = () => this.deps.logger.child({ tenantId: tenant.id, tenant: tenant.name, trigger: source });
    switch (decision.kind) {
      case 'none':
        return;
      case 'cancel':
        await this.cancel(decision.cancel, decision.reason);
        return;
      case 'resubmit': {
        const { runId, workflow, input, tags } = decision.run;
        await this.deps.engine.start({ runId, workflow, input, tags: withTraceparent(tags, trace) });
        return;
      }
      case 'set-paused':
        await this.cancel(decision.cancel, 'tenant paused');
        await this.setPaused(tenant, decision.paused);
        log().info({ paused: decision.paused }, 'tenant pause changed');
        return;
      case 'fail':
        await this.failUnsettled(tenant, decision.runId, decision.reason);
        log().warn({ runId: decision.runId }, decision.reason);
        return;
      case 'start': {
        await this.cancel(decision.cancel, decision.reason);
        await this.startRun(tenant, decision.action, decision.retry, source, decision.reason, trace);
        return;
      }
    }
  }

  private async startRun(
    tenant: Tenant,
    action: WorkflowAction,
    retry: number,
    source: TriggerSource,
    reason: string,
    trace?: TraceContext,
  ): Promise<void> {
    const runId = workflowRunId(tenant.id, action, tenant.generation, retry);
    this.deps.handoff?.offer(runId, tenant);
    const { created } = await this.deps.engine.start({
      runId,
      workflow: action,
      input: { tenantId: tenant.id, generation: tenant.generation },
      tags: withTraceparent(
        tenantRunTags({
          tenantId: tenant.id,
          generation: tenant.generation,
          configHash: this.deps.hasher(tenant.spec.config),
          triggerSource: source,
        }),
        trace,
      ),
    });
    if (!created) this.deps.handoff?.withdraw(runId);
    if (created) {
      this.deps.logger.info(
        { tenantId: tenant.id, runId, action, trigger: source, reason },
        'workflow run started',
      );
    }
  }

  /**
   * The tenant and its runs. After a run's end, the tenant first, and its runs only when that run
   * did not leave it settled (`settledBy`: then undefined, nothing to do); else both at once
   * (`getWithRuns`: one statement where a statement is a round trip).
   */
  private async tenantAndRuns(
    tenantId: string,
    ended: TenantRun | undefined,
  ): Promise<{ tenant: Tenant; runs: TenantRun[] } | undefined> {
    if (ended) {
      const tenant = await this.deps.tenants.get(tenantId);
      if (!tenant || settledBy(tenant, ended)) return undefined;
      return { tenant, runs: await this.tenantRuns(tenant.id) };
    }
    const read = await this.deps.tenants.getWithRuns(tenantId, RUN_HISTORY);
    return read && { tenant: read.tenant, runs: tenantRunsOf(read.runs) };
  }

  /** The tenant's runs, newest first. */
  private async tenantRuns(tenantId: string): Promise<TenantRun[]> {
    return tenantRunsOf(await this.deps.runs.listBySubject(tenantSubject(tenantId), RUN_HISTORY));
  }

  private async cancel(runIds: readonly string[], reason: string): Promise<void> {
    for (const runId of runIds) await this.deps.engine.cancel(runId, reason);
  }

  private async setPaused(tenant: Tenant, paused: boolean): Promise<void> {
    await this.deps.tenants.change(tenant.id, {
      actor: 'controller',
      conditions: [
        paused
          ? {
              type: 'Paused',
              status: 'True',
              reason: 'SpecPaused',
              message: 'spec.paused is true; no actions are taken',
            }
          : { type: 'Paused', status: 'False', reason: 'Resumed' },
      ],
    });
  }

  private async failUnsettled(tenant: Tenant, runId: string, reason: string): Promise<void> {
    await this.deps.tenants.change(tenant.id, {
      actor: 'controller',
      phase: { to: 'failed', reason: 'RunFailed', message: reason, runId },
      conditions: [
        { type: 'Reconciling', status: 'False', reason: 'RunFailed' },
        { type: 'Degraded', status: 'True', reason: 'ManualInterventionRequired', message: reason },
      ],
    });
  }
}
