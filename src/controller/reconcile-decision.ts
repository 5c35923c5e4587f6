/**
 * The reconciler's decision (docs/architecture.md, "The controller"), pure: from the tenant's current state
 * and its runs, what should happen now. Safe to evaluate again at any moment — it never looks at what woke
 * it.
 */
import { getCondition } from '../domain/conditions.js';
import { nextRetry } from '../domain/ids.js';
import { isSuspended, type Tenant, type WorkflowAction } from '../domain/tenant.js';
import type { TenantRun } from '../domain/tenant-run.js';
import { isRunActive } from '../domain/workflow-run.js';

export type ReconcileDecision =
  | { readonly kind: 'none'; readonly reason: string }
  | {
      readonly kind: 'start';
      readonly action: WorkflowAction;
      /** Retry suffix of the deterministic run id: one past the highest of this action and generation. */
      readonly retry: number;
      /** Runs to cancel first (backing-off runs of an older generation, non-delete runs on delete). */
      readonly cancel: readonly string[];
      readonly reason: string;
    }
  | { readonly kind: 'cancel'; readonly cancel: readonly string[]; readonly reason: string }
  /**
   * A run recorded but perhaps never handed to the engine (a crash between the two): start it again
   * under its own id, which every engine treats as a no-op when it already has it.
   */
  | { readonly kind: 'resubmit'; readonly run: TenantRun }
  | { readonly kind: 'set-paused'; readonly paused: boolean; readonly cancel: readonly string[] }
  /** The last run died without settling the tenant (an unexpected error): surface it as failed. */
  | { readonly kind: 'fail'; readonly runId: string; readonly reason: string };

/** `runs` are the tenant's runs, newest first. */
export function decideReconcile(tenant: Tenant, runs: readonly TenantRun[]): ReconcileDecision {
  const { phase } = tenant.status;
  const active = runs.filter((run) => isRunActive(run.state));
  if (phase === 'archived') return none('archived');

  const pausedCondition = getCondition(tenant.status.conditions, 'Paused');
  if (tenant.spec.paused) {
    const backingOff = active.filter((run) => run.state === 'backing-off').map((run) => run.runId);
    if (pausedCondition?.status !== 'True' || backingOff.length > 0) {
      return { kind: 'set-paused', paused: true, cancel: backingOff };
    }
    return none('paused');
  }
  if (pausedCondition?.status === 'True' && pausedCondition.reason === 'SpecPaused') {
    return { kind: 'set-paused', paused: false, cancel: [] };
  }

  const orphaned = active.length === 0 ? runThatDiedUnsettled(tenant, runs) : null;
  if (orphaned)
    return {
      kind: 'fail',
      runId: orphaned.runId,
      reason: `run ${orphaned.runId} failed without settling the tenant`,
    };
  if (phase === 'deleting') return decideDeleting(tenant, runs, active);
  const current = active[0];
  if (current) return decideWithActiveRun(tenant, runs, current);

  const action = desiredAction(tenant, runs);
  if (!action) return none('converged');
  return start(tenant, runs, action, [], `phase ${phase}, generation ${tenant.generation}`);
}

function decideDeleting(
  tenant: Tenant,
  runs: readonly TenantRun[],
  active: readonly TenantRun[],
): ReconcileDecision {
  const others = active.filter((run) => run.action !== 'delete').map((run) => run.runId);
  const deleting = active.find((run) => run.action === 'delete');
  if (deleting) {
    if (others.length > 0) return { kind: 'cancel', cancel: others, reason: 'delete in progress' };
    // Recorded but maybe never handed to the engine (a crash in between), as for any other run.
    return deleting.state === 'pending' ? { kind: 'resubmit', run: deleting } : none('delete in progress');
  }
  return start(tenant, runs, 'delete', others, 'delete requested');
}

function decideWithActiveRun(
  tenant: Tenant,
  runs: readonly TenantRun[],
  current: TenantRun,
): ReconcileDecision {
  // docs/architecture.md, "Tenants and their phases": a healthy run finishes; a run backing off for an older
  // spec gives way at once.
  if (current.generation < tenant.generation && current.state === 'backing-off') {
    const action = isSuspended(tenant.spec)
      ? 'suspend'
      : current.action === 'provision' && tenant.status.observedGeneration === 0
        ? 'provision'
        : 'update';
    return start(tenant, runs, action, [current.runId], 'spec changed while the run was backing off');
  }
  if (current.state === 'pending') return { kind: 'resubmit', run: current };
  return none(`run ${current.runId} is ${current.state}`);
}

/**
 * True when the run that just ended left the tenant with nothing to do, judged without reading the
 * tenant's runs (docs/architecture.md, "The write path in statements"): the tenant records that run
 * as its last, and the decision over that run alone is to do nothing. A newer run would have
 * recorded itself on the tenant at its first step, so the only runs left unseen are older ones,
 * which the decision reads only through the newest. Anything else reads the runs as usual.
 */
export function settledBy(tenant: Tenant, ended: TenantRun): boolean {
  if (ended.tenantId !== tenant.id || isRunActive(ended.state)) return false;
  if (tenant.status.workflow?.runId !== ended.runId) return false;
  return decideReconcile(tenant, [ended]).kind === 'none';
}

/**
 * A working phase (provisioning, updating, deleting) whose latest run failed after the tenant's last
 * change: the workflow could not record its own failure. Restarting would loop; a human must see it.
 * A tenant changed after that run (a retry request, a new spec) is new intent, not this case.
 */
function runThatDiedUnsettled(tenant: Tenant, runs: readonly TenantRun[]): TenantRun | null {
  const latest = runs[0];
  const working =
    tenant.status.phase === 'provisioning' ||
    tenant.status.phase === 'updating' ||
    tenant.status.phase === 'deleting';
  if (!working || !latest || latest.state !== 'failed' || latest.finishedAt === null) return null;
  // The run recorded its own failure on the tenant (its last step), so a later working phase is a
  // human retry that landed before the engine wrote the run's end: new intent, not a dead run.
  const recorded = tenant.status.workflow;
  if (recorded?.runId === latest.runId && recorded.state === 'failed') return null;
  return latest.finishedAt >= tenant.updatedAt ? latest : null;
}

/** What the tenant needs when no run is active, or null when it has converged or needs a human. */
function desiredAction(tenant: Tenant, runs: readonly TenantRun[]): WorkflowAction | null {
  const { phase, observedGeneration } = tenant.status;
  const firstTime = observedGeneration === 0;
  const suspended = isSuspended(tenant.spec);
  switch (phase) {
    case 'requested':
      return 'provision';
    case 'provisioning':
      return 'provision';
    case 'updating':
      return suspended ? 'suspend' : 'update';
    case 'ready':
      // Suspend first: a spec changed together with `suspended` is applied on resume.
      if (suspended) return 'suspend';
      return tenant.generation > observedGeneration ? 'update' : null;
    case 'suspended':
      // Steady while asked to stay suspended, whatever else changed in the spec meanwhile.
      return suspended ? null : 'resume';
    case 'failed': {
      // Failed is steady: only a newer spec than the last run's (or a human retry) moves it on.
      const latest = runs[0];
      if (latest && latest.generation >= tenant.generation) return null;
      if (suspended) return 'suspend';
      return firstTime ? 'provision' : 'update';
    }
    default:
      return null;
  }
}

function start(
  tenant: Tenant,
  runs: readonly TenantRun[],
  action: WorkflowAction,
  cancel: readonly string[],
  reason: string,
): ReconcileDecision {
  return { kind: 'start', action, retry: nextRetry(runs, action, tenant.generation), cancel, reason };
}

function none(reason: string): ReconcileDecision {
  return { kind: 'none', reason };
}
