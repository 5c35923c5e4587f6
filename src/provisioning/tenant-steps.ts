/**
 * Durable building blocks of the tenant workflows (docs/architecture.md, "Workflows and the retry policy"):
 * `compute`, `awaitCompute`, `health` and `setStatus`, each a journaled call on the generic workflow context.
 * Step results never carry the spec (which may hold secrets) — only ids, statuses and public resources.
 */
import { executionPromiseKey, type CallbackPayload } from '../domain/compute-callback.js';
import { ComputeError, type ComputeErrorShape } from '../domain/compute-error.js';
import { InvalidTransitionError, NotFoundError, PreconditionFailedError } from '../domain/errors.js';
import type { HeldJournal } from '../domain/held-journal.js';
import type { TraceContext } from '../domain/tracing.js';
import type { RetryPolicyOverride } from '../domain/retry-policy.js';
import { statusWriteOf, type TenantChange, type TenantStatusWrite } from '../domain/tenant-change.js';
import type { ComputeOperation, Endpoint, ExecutionStatus, Phase, Tenant } from '../domain/tenant.js';
import type { JournalChange, StepOptions, WorkflowContext } from '../workflow/context.js';
import type { ProvisioningDeps } from './provisioning-deps.js';

/** The tenant as a run sees it when it starts: public fields only. */
export interface TenantSnapshot {
  readonly id: string;
  readonly name: string;
  readonly phase: Phase;
  readonly generation: number;
  readonly observedGeneration: number;
  readonly retryPolicy: RetryPolicyOverride | null;
  /** `spec.provider` (whose timeout a call gets when the policy sets none); absent in older journals. */
  readonly provider?: string | undefined;
}

export type ComputeOutcome =
  | {
      readonly ok: true;
      readonly resources: Readonly<Record<string, string>>;
      readonly endpoints: readonly Endpoint[];
      /** The endpoints are not known (a callback written before callbacks carried them). */
      readonly endpointsUnknown?: true;
    }
  | { readonly ok: false; readonly error: ComputeErrorShape };

/** What the run's first step (`start`) returns: the tenant as read, and the phase afterwards. */
export interface Started {
  readonly snapshot: TenantSnapshot;
  readonly phase: Phase;
}

/**
 * Runs begun before `start` merged the read of the tenant and the start change journaled `load`
 * then `status:start`; they replay those two steps (Restate: runs submitted with layout 3 or older).
 */
const MERGED_START: JournalChange = { formerFirstCall: 'load', restateLayout: 4 };

/** Pause between two looks for executions still in flight before a delete. */
const QUIET_POLL_MS = 250;

/** Pages of succeeded executions `runtimeMatches` reads, newest first, before giving up. */
const APPLIED_LOOKUP_PAGES = 20;

/** How many times `awaitCompute` waits (and then queries) before calling the execution lost. */
const AWAIT_ROUNDS = 3;

/**
 * A started execution is awaited next (`awaitCompute`'s first round). The step's first write is
 * the execution's insert, which carries the run's held journal entries.
 */
const AWAIT_FOLLOWS: StepOptions<{ executionId: string; attempt: number } | null> = {
  waitFollows: (started) =>
    started && { kind: 'promise', key: executionPromiseKey(started.executionId, started.attempt) },
  journalsWithFirstWrite: true,
};

/** A status step's first write is the tenant's change, which carries the run's held journal entries. */
const STATUS_WRITE: StepOptions<Phase> = { journalsWithFirstWrite: true };

/** The health step only reads (the runtime, through the provider): held entries stay held across it. */
const READ_ONLY: StepOptions<ComputeOutcome> = { readOnly: true };

/**
 * The tenant as this run last read or wrote it (effective spec), and whether the run has waited
 * since — a durable sleep or wait, where time passes and other writers act.
 */
interface KnownTenant {
  readonly tenant: Tenant;
  readonly waitedSince: boolean;
}

export class TenantSteps {
  /**
   * One read of the tenant per run instead of one per step (docs/architecture.md, "The write path
   * in statements"): each step that needs the tenant takes the one this run last read or wrote.
   * That is safe because every tenant write of the run is a compare-and-set on the version the run
   * knows (`changeFrom`): a concurrent change makes it fail, and the step reads again and decides
   * again. The one read that must be fresh is the compute step's, which acts outside the database
   * (it starts an execution with the tenant's spec and must not start one behind a delete): it
   * reads again once the run has waited. Empty when the process starts (re)running the run, so a
   * replay after a crash reads first.
   */
  private known: KnownTenant | undefined;

  constructor(
    private readonly ctx: WorkflowContext,
    private readonly deps: ProvisioningDeps,
    readonly tenantId: string,
  ) {}

  /**
   * The run's first step: reads the tenant and applies `change` (made from what was read) through
   * the state machine, as `setStatus` does; returns the snapshot and the phase afterwards, or null
   * when the tenant no longer exists. One durable step (one journal entry, one `ctx.run`) instead
   * of a read and a write of their own. Runs begun before (`MERGED_START`) replay their two steps,
   * `load` then `status:start`. At least once, like every step: a re-run after a crash that came
   * after the tenant write reads the tenant as written and applies the change again, which changes
   * nothing (the phase is already the working one, the workflow status and conditions the same)
   * unless the tenant changed meanwhile — then it is applied to the tenant as it is now.
   */
  async start(change: (tenant: TenantSnapshot) => Omit<TenantChange, 'actor'>): Promise<Started | null> {
    if (this.ctx.begunBefore(MERGED_START)) {
      const snapshot = await this.snapshot(MERGED_START.formerFirstCall);
      if (!snapshot) return null;
      return { snapshot, phase: await this.setStatus('start', change(snapshot)) };
    }
    return this.ctx.step('start', async (trace) => {
      const offered = this.deps.handoff?.take(this.ctx.runId);
      if (offered?.id === this.tenantId) {
        const snapshot = toSnapshot(offered);
        const applied = await this.changeOffered(offered, change(snapshot), trace);
        if (applied) return { snapshot, phase: applied.status.phase };
      }
      const tenant = await this.deps.tenants.get(this.tenantId);
      if (!tenant) return null;
      const snapshot = toSnapshot(tenant);
      const applied = await this.apply(change(snapshot), {}, trace, tenant);
      return { snapshot, phase: applied.status.phase };
    });
  }

  /**
   * `change` applied to the tenant the reconcile that started this run read (`ProvisioningDeps.
   * handoff`), as a compare-and-set on its version: the tenant afterwards when it wrote, so the
   * offered tenant was the tenant as it is, exactly what a read would have returned. Undefined when
   * it did not write — the tenant changed since (stale version), or the change is refused or a
   * no-op, which only a fresh read may decide: the caller then reads and applies as before.
   */
  private async changeOffered(
    offered: Tenant,
    change: Omit<TenantChange, 'actor'>,
    trace: TraceContext | undefined,
  ): Promise<Tenant | undefined> {
    try {
      const applied = await this.deps.tenants.changeFrom(
        offered,
        { ...change, actor: `workflow:${this.ctx.runId}` },
        trace,
      );
      if (!applied.changed) return undefined;
      this.remember(offered, applied.tenant);
      return applied.tenant;
    } catch (error) {
      if (error instanceof PreconditionFailedError || error instanceof InvalidTransitionError)
        return undefined;
      throw error;
    }
  }

  snapshot(name: string): Promise<TenantSnapshot | null> {
    return this.ctx.step(name, async () => {
      const tenant = await this.deps.tenants.get(this.tenantId);
      this.known = tenant && { tenant, waitedSince: false };
      return tenant ? toSnapshot(tenant) : null;
    });
  }

  /**
   * Applies a tenant change through the state machine and returns the phase afterwards. A phase
   * change the table refuses (someone deleted the tenant meanwhile) is not an error of this run:
   * nothing is written and the current phase is returned, for the workflow to stand down. With
   * `onlyFrom`, the change applies only while the tenant is in that phase (compare-and-set on the
   * version): `deleting → failed` is a legal move, but not one a provision run may make.
   */
  setStatus(
    name: string,
    change: Omit<TenantChange, 'actor'>,
    options: { onlyFrom?: Phase } = {},
  ): Promise<Phase> {
    return this.ctx.step(
      `status:${name}`,
      async (trace, journal) => {
        const applied = await this.apply(change, options, trace, undefined, journal);
        return applied.status.phase;
      },
      STATUS_WRITE,
    );
  }

  /**
   * Applies `change` to the tenant this run knows, as a compare-and-set on its version; when that
   * is stale (a concurrent change), reads the tenant again and decides again. Returns the tenant
   * afterwards — or, when the change does not apply (a phase change the table refuses: someone
   * deleted the tenant meanwhile; or the tenant has left `onlyFrom`), the tenant as it is, unchanged.
   * A refusal or a no-op is only believed from a fresh read: `read`, when the caller has just read
   * the tenant, or a read of its own. The change carries the step's held `journal` entries, if any.
   */
  private async apply(
    change: Omit<TenantChange, 'actor'>,
    options: { onlyFrom?: Phase },
    trace?: TraceContext,
    read?: Tenant,
    journal?: HeldJournal,
  ): Promise<Tenant> {
    if (read) this.known = { tenant: read, waitedSince: false };
    for (let justRead = read; ; justRead = undefined) {
      const fresh = justRead !== undefined || this.known === undefined;
      const current = justRead ?? this.known?.tenant ?? (await this.requireTenant());
      if (options.onlyFrom !== undefined && current.status.phase !== options.onlyFrom) {
        if (fresh) return current;
        this.known = undefined;
        continue;
      }
      try {
        const applied = await this.deps.tenants.changeFrom(
          current,
          { ...change, actor: `workflow:${this.ctx.runId}` },
          trace,
          journal,
        );
        if (!applied.changed && !fresh) {
          this.known = undefined;
          continue;
        }
        this.remember(current, applied.tenant);
        return applied.tenant;
      } catch (error) {
        if (error instanceof PreconditionFailedError) {
          this.known = undefined;
          continue;
        }
        if (!(error instanceof InvalidTransitionError)) throw error;
        if (fresh) return current;
        this.known = undefined;
      }
    }
  }

  /**
   * Keeps `after` (what a change of `before` wrote) as the tenant this run knows, with `before`'s
   * effective spec — the same spec while the generation is the same; an archived tenant (its secrets
   * erased) or a new generation is read again when next needed.
   */
  private remember(before: Tenant, after: Tenant): void {
    const sameSpec = after.generation === before.generation && after.status.phase !== 'archived';
    this.known = sameSpec ? { tenant: { ...after, spec: before.spec }, waitedSince: false } : undefined;
  }

  /** The tenant this run knows, read when it knows none. */
  private async knownTenant(): Promise<Tenant> {
    return this.known?.tenant ?? this.requireTenant();
  }

  /** The tenant as known since the run's last wait, read when the run has waited since. */
  private async freshTenant(): Promise<Tenant> {
    if (this.known && !this.known.waitedSince) return this.known.tenant;
    return this.requireTenant();
  }

  /** Marks the known tenant as older than a wait the run is about to make. */
  private waiting(): void {
    if (this.known) this.known = { ...this.known, waitedSince: true };
  }

  /**
   * Starts (or finds) the tracked execution for this attempt and shows it on the tenant
   * (`status.compute`), in one step: a new execution's insert makes that change of the tenant
   * itself where the store can (`StartComputeRequest.show`, the compare-and-set `apply` would make
   * on the tenant this run knows); else, or when the tenant changed since, `apply` makes it. It
   * applies the tenant's CURRENT spec and generation: a run that started for an older generation
   * converges on the newest spec rather than on one nobody wants.
   * Starts nothing (null) once the tenant has left `workingPhase` — e.g. it was deleted while this
   * run backed off — so a stale run never makes a runtime behind a delete. The step declares the
   * wait that follows a start, `awaitCompute`'s (`StepOptions.waitFollows`).
   */
  compute(operation: ComputeOperation, attempt: number, timeoutMs: number, workingPhase: Phase) {
    return this.ctx.step(
      `compute:${operation}#${attempt}`,
      async (trace, journal) => {
        const tenant = await this.freshTenant();
        if (tenant.status.phase !== workingPhase) return null;
        const shows = (executionId: string, status: ExecutionStatus) => ({
          status: { compute: { executionId, operation, status } },
        });
        const asked: { write: TenantStatusWrite | null } = { write: null };
        const { shown, ...started } = await this.deps.compute.start({
          tenant: { id: tenant.id, name: tenant.name, spec: tenant.spec },
          operation,
          workflowRunId: this.ctx.runId,
          generation: tenant.generation,
          timeoutMs,
          trace,
          ...(journal && { journal }),
          show: (executionId, status) => {
            const change = { ...shows(executionId, status), actor: `workflow:${this.ctx.runId}` };
            asked.write = statusWriteOf(tenant, change, new Date().toISOString());
            return asked.write;
          },
        });
        if (shown === 'written' && asked.write) {
          this.remember(tenant, asked.write.after);
        } else {
          // A stale `show` is what `apply`'s own compare-and-set would have met: the tenant changed
          // since the run knew it. `apply` then reads it again and decides again, as here.
          if (shown === 'stale') this.known = undefined;
          await this.apply(shows(started.executionId, started.status), {}, trace, undefined, journal);
        }
        return { ...started, generation: tenant.generation };
      },
      AWAIT_FOLLOWS,
    );
  }

  /**
   * Waits for the execution's callback; when none arrives in time, queries the execution (the
   * fallback). An execution still unsettled after every round counts as PROVIDER_TIMEOUT.
   */
  async awaitCompute(executionId: string, attempt: number, timeoutMs: number): Promise<ComputeOutcome> {
    for (let round = 1; round <= AWAIT_ROUNDS; round++) {
      const key = executionPromiseKey(executionId, attempt);
      this.waiting();
      const waited = await this.ctx.awaitPromise<CallbackPayload>(key, { timeoutMs });
      if (waited.resolved && waited.value) return outcomeOf(waited.value);
      const queried = await this.ctx.step(`query:${executionId}#${attempt}.${round}`, () =>
        this.queryExecution(executionId, attempt),
      );
      if (queried) return queried;
    }
    const lost = new ComputeError('PROVIDER_TIMEOUT', `execution ${executionId} did not settle in time`);
    return { ok: false, error: lost.toJSON() };
  }

  /** Health is part of "ready": the runtime must exist, run and pass its check, seen by the engine. */
  health(name: string): Promise<ComputeOutcome> {
    return this.ctx.step(
      `health:${name}`,
      async (trace) => {
        // The runtime this run just made or changed; a concurrent change is caught by the settle.
        const tenant = await this.knownTenant();
        const observed = await this.deps.compute.describe(
          { id: tenant.id, name: tenant.name, spec: tenant.spec },
          trace,
        );
        if (observed.exists && observed.running && observed.healthy) {
          return { ok: true, resources: observed.resources, endpoints: observed.endpoints } as const;
        }
        const error = new ComputeError('HEALTH_CHECK_FAILED', describeUnhealthy(observed));
        return { ok: false, error: error.toJSON() } as const;
      },
      READ_ONLY,
    );
  }

  /**
   * The outcome as the execution recorded it, endpoints included: for an operation whose provider
   * itself waited for the runtime's health, when the callback did not carry the endpoints.
   */
  recorded(name: string, executionId: string, attempt: number): Promise<ComputeOutcome | null> {
    return this.ctx.step(`recorded:${name}`, () => this.queryExecution(executionId, attempt));
  }

  /**
   * Whether the runtime runs the config that execution `executionId` was started with: true when
   * the newest provision or update that succeeded had the same effective config hash. A suspend or
   * resume keeps the runtime as it was made; when the spec's config changed meanwhile (or that
   * provision/update is no longer on record), the tenant's generation stays unobserved and the
   * controller applies it with an update once the tenant is running again.
   */
  runtimeMatches(name: string, executionId: string): Promise<boolean> {
    return this.ctx.step(`matches:${name}`, async () => {
      const execution = await this.deps.compute.get(executionId);
      if (!execution) return false;
      const applied = await this.lastApplied();
      return applied !== null && applied === execution.configHash;
    });
  }

  /** A random delay, journaled so a replay sleeps the same amount. */
  delay(name: string, compute: () => number): Promise<number> {
    return this.ctx.step(`delay:${name}`, () => Promise.resolve(compute()));
  }

  /**
   * Waits until no provision or update of the tenant is still in flight (from a cancelled run, or
   * an orphan another process is re-driving): a delete that ran first would be undone by it. Every
   * provider call is bounded by its timeout, so this ends; after `maxWaitMs` the delete goes ahead.
   */
  async awaitQuiet(maxWaitMs: number): Promise<void> {
    const rounds = Math.max(1, Math.ceil(maxWaitMs / QUIET_POLL_MS));
    for (let round = 1; round <= rounds; round++) {
      const busy = await this.ctx.step(`in-flight#${round}`, async () => {
        const pending = await this.deps.compute.list({
          tenantId: this.tenantId,
          status: 'pending',
          limit: 10,
        });
        const running = await this.deps.compute.list({
          tenantId: this.tenantId,
          status: 'running',
          limit: 10,
        });
        return [...pending.items, ...running.items].filter((execution) => execution.operation !== 'delete')
          .length;
      });
      if (busy === 0) return;
      this.waiting();
      await this.ctx.sleep(`in-flight#${round}`, QUIET_POLL_MS, { state: 'waiting' });
    }
  }

  sleep(name: string, ms: number): Promise<void> {
    this.waiting();
    return this.ctx.sleep(name, ms, { state: 'backing-off' });
  }

  /** Config hash of the newest succeeded provision or update of the tenant, or null. */
  private async lastApplied(): Promise<string | null> {
    let cursor: string | undefined;
    for (let page = 0; page < APPLIED_LOOKUP_PAGES; page++) {
      const { items, nextCursor } = await this.deps.compute.list({
        tenantId: this.tenantId,
        status: 'succeeded',
        limit: 100,
        cursor,
      });
      const applied = items.find((e) => e.operation === 'provision' || e.operation === 'update');
      if (applied) return applied.configHash;
      if (nextCursor === null) return null;
      cursor = nextCursor;
    }
    return null;
  }

  private async queryExecution(executionId: string, attempt: number): Promise<ComputeOutcome | null> {
    const execution = await this.deps.compute.get(executionId);
    if (!execution || execution.attempt !== attempt) return null;
    if (execution.status === 'succeeded') {
      return { ok: true, resources: execution.resources, endpoints: execution.endpoints };
    }
    if (execution.status === 'failed' && execution.error) return { ok: false, error: execution.error };
    return null;
  }

  private async requireTenant(): Promise<Tenant> {
    const tenant = await this.deps.tenants.get(this.tenantId);
    if (!tenant) throw new NotFoundError('tenant', this.tenantId);
    this.known = { tenant, waitedSince: false };
    return tenant;
  }
}

/** What a run journals of `tenant` when it starts (exported for tests that write old journals). */
export function toSnapshot(tenant: Tenant): TenantSnapshot {
  return {
    id: tenant.id,
    name: tenant.name,
    phase: tenant.status.phase,
    generation: tenant.generation,
    observedGeneration: tenant.status.observedGeneration,
    retryPolicy: tenant.spec.retryPolicy,
    provider: tenant.spec.provider,
  };
}

function outcomeOf(payload: CallbackPayload): ComputeOutcome {
  if (payload.status === 'succeeded') {
    const { resources, endpoints } = payload;
    return endpoints
      ? { ok: true, resources, endpoints }
      : { ok: true, resources, endpoints: [], endpointsUnknown: true };
  }
  const error = payload.error ?? new ComputeError('INTERNAL', 'execution failed without an error').toJSON();
  return { ok: false, error };
}

function describeUnhealthy(observed: { exists: boolean; running: boolean }): string {
  if (!observed.exists) return 'runtime does not exist';
  if (!observed.running) return 'runtime is not running';
  return 'runtime is running but its health check fails';
}
