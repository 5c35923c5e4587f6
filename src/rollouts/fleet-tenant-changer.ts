/**
 * The port through which a rollout changes tenants, and its implementation over the tenant's
 * ordinary write path. Every change is what an API write by the rollout's creator would be: the
 * member's current spec (someone else's edits since the snapshot included: merge semantics) with
 * the rollout's merge patch applied, checked by the same rules as a PATCH (`SpecValidator`), written
 * as a generation bump with its events, after which the controller runs the ordinary update
 * workflow. A plan-revision change moves a plan tenant to that revision of its plan, as a PUT naming
 * it would. A rollback is the tenant rollback (`POST /v1/tenants/{id}/rollback`) to the generation
 * the tenant had before the rollout's change: that revision's spec, re-checked, as a new
 * generation. Each write and the member's own row commit in one transaction (the store's
 * `applyChange`/`rollback`), so a member is changed at most once, whatever crashes.
 */
import type { TraceContext } from '../domain/tracing.js';
import { deepEqualJson } from '../domain/canonical-json.js';
import { ConflictError, errorMessage, LessorError } from '../domain/errors.js';
import type { PlanRevision } from '../domain/plan.js';
import type { TenantChange } from '../domain/tenant-change.js';
import { rolloutActor, type Rollout, type RolloutChange, type RolloutMember } from '../domain/rollout.js';
import type { Tenant, TenantSpec } from '../domain/tenant.js';
import type {
  MemberDecision,
  MemberEventOf,
  PlanRepository,
  RolloutRepository,
  TenantRepository,
  TenantRevisionRepository,
} from '../store/store.js';

/** Who a rollout writes as: its creator. */
export interface ChangeWriter {
  readonly name: string;
  readonly role: Rollout['createdByRole'];
}

export interface ChangeProblem {
  readonly code: string;
  readonly message: string;
  readonly problems?: readonly { readonly path: string; readonly message: string }[];
}

export type ChangePlan =
  | { readonly ok: true; readonly spec: TenantSpec; readonly changed: boolean }
  | { readonly ok: false; readonly error: ChangeProblem };

/** A refusal a validator reports with its own stable code (one the domain's errors do not name). */
export class ChangeRefused extends Error {
  constructor(readonly problem: ChangeProblem) {
    super(problem.message);
  }
}

/** Plan revisions by `planKey`: read before a write's transaction, which is safe as they never change. */
export type PlanRevisions = ReadonlyMap<string, PlanRevision>;

export function planKey(name: string, revision: number): string {
  return `${name}@${revision}`;
}

/** The rules of a spec write (provider schema, plan policy, privileged fields), as the API applies them. */
export interface SpecValidator {
  /**
   * The spec `tenant` gets from `change` (a plan revision is looked up in `plans`); throws a
   * LessorError (or ChangeRefused) when the result is not acceptable.
   */
  changedSpec(tenant: Tenant, change: RolloutChange, writer: ChangeWriter, plans: PlanRevisions): TenantSpec;
  /**
   * The tenant rollback to `toGeneration` (spec `stored`), exactly as `POST
   * /v1/tenants/{id}/rollback` makes it, written by `writer` as `actor`; ConflictError when there is
   * nothing to roll back (the tenant has that spec already).
   */
  rollbackChange(
    tenant: Tenant,
    toGeneration: number,
    stored: TenantSpec,
    writer: ChangeWriter & { readonly actor: string },
    plans: PlanRevisions,
  ): TenantChange;
}

export interface FleetTenantChanger {
  /** Reads what checking `change` on `tenants` needs besides them (their plans' revisions). */
  prepare(change: RolloutChange, tenants: readonly Tenant[]): Promise<PlanRevisions>;
  /** What `change` would do to `tenant`, nothing written (the dry run, per member). */
  dryRun(tenant: Tenant, change: RolloutChange, writer: ChangeWriter, plans: PlanRevisions): ChangePlan;
  /**
   * Changes the member's tenant (once): the member ends `inProgress`, or `skipped`/`failed`
   * untouched; `eventOf` names the event written with its new state. The tenant's reconcile
   * continues `trace`.
   */
  apply(
    rollout: Rollout,
    member: RolloutMember,
    eventOf?: MemberEventOf,
    trace?: TraceContext,
  ): Promise<RolloutMember>;
  /**
   * Rolls the member's tenant back to the generation it had before the rollout changed it, through
   * the tenant rollback (once): the member ends `rollingBack`, or `rolledBack` when there is
   * nothing to do (its error says why). `eventOf` as for `apply`.
   */
  rollBack(
    rollout: Rollout,
    member: RolloutMember,
    eventOf?: MemberEventOf,
    trace?: TraceContext,
  ): Promise<RolloutMember>;
}

/** Phases in which a tenant's spec can no longer change: such members are skipped. */
const GONE: ReadonlySet<string> = new Set(['deleting', 'archived']);

/** Plan revisions kept once read (they never change); a bound keeps a long-lived server's cache small. */
const PLAN_CACHE_LIMIT = 1_000;

export class PatchTenantChanger implements FleetTenantChanger {
  private readonly planCache = new Map<string, PlanRevision>();

  constructor(
    private readonly deps: {
      readonly rollouts: Pick<RolloutRepository, 'applyChange' | 'rollback'>;
      readonly tenants: Pick<TenantRepository, 'get'>;
      readonly revisions: Pick<TenantRevisionRepository, 'get'>;
      readonly plans: Pick<PlanRepository, 'revision'>;
      readonly validator: SpecValidator;
      /** Wakes the controller for a tenant whose spec was written; `trace`: the writer's. */
      readonly wake: (tenantId: string, trace?: TraceContext) => void;
    },
  ) {}

  async prepare(change: RolloutChange, tenants: readonly Tenant[]): Promise<PlanRevisions> {
    if (!('planRevision' in change)) return new Map();
    const names = new Set<string>();
    for (const tenant of tenants) if (tenant.spec.plan) names.add(tenant.spec.plan.name);
    return this.loadPlans([...names].map((name) => ({ name, revision: change.planRevision })));
  }

  dryRun(tenant: Tenant, change: RolloutChange, writer: ChangeWriter, plans: PlanRevisions): ChangePlan {
    try {
      const spec = this.deps.validator.changedSpec(tenant, change, writer, plans);
      return { ok: true, spec, changed: !deepEqualJson(spec, tenant.spec) };
    } catch (error) {
      return { ok: false, error: problemOf(error) };
    }
  }

  /** `trace`: the tick's trace context, the parent of the member's reconcile. */
  async apply(
    rollout: Rollout,
    member: RolloutMember,
    eventOf?: MemberEventOf,
    trace?: TraceContext,
  ): Promise<RolloutMember> {
    const writer = { name: rollout.createdBy, role: rollout.createdByRole };
    // The plan of the tenant as read now; the decision below sees the locked row (a plan changed
    // in between finds no revision loaded for it and fails the member, naming the plan).
    const current =
      'planRevision' in rollout.change ? await this.deps.tenants.get(member.tenantId) : undefined;
    const plans = await this.prepare(rollout.change, current ? [current] : []);
    const decide = (tenant: Tenant | undefined): MemberDecision => {
      if (!tenant) return { kind: 'skip', reason: 'the tenant no longer exists' };
      if (GONE.has(tenant.status.phase))
        return { kind: 'skip', reason: `the tenant is ${tenant.status.phase}` };
      const plan = this.dryRun(tenant, rollout.change, writer, plans);
      if (!plan.ok) return { kind: 'fail', error: { code: plan.error.code, message: plan.error.message } };
      const message = `rollout ${rollout.id}, wave ${member.wave}`;
      return {
        kind: 'change',
        change: {
          actor: rolloutActor(rollout.id),
          spec: plan.spec,
          audit: [{ type: 'Audit', reason: 'RolloutChange', message }],
        },
        merged: tenant.generation !== member.snapshotGeneration,
      };
    };
    const applied = await this.deps.rollouts.applyChange(rollout.id, member.ordinal, decide, eventOf);
    if (applied.state === 'inProgress') this.deps.wake(applied.tenantId, trace);
    return applied;
  }

  async rollBack(
    rollout: Rollout,
    member: RolloutMember,
    eventOf?: MemberEventOf,
    trace?: TraceContext,
  ): Promise<RolloutMember> {
    const writer = { name: rollout.createdBy, role: rollout.createdByRole, actor: rolloutActor(rollout.id) };
    const from = member.fromGeneration;
    // The revision of the generation before the change (revisions never change); the member's own
    // copy of that spec stands in when the revision is gone (purged with an archived tenant).
    const revision = from === null ? undefined : await this.deps.revisions.get(member.tenantId, from);
    const ref = revision?.spec.plan;
    const plans = ref ? await this.loadPlans([ref]) : new Map<string, PlanRevision>();
    const decide = (tenant: Tenant | undefined, previous: TenantSpec): MemberDecision => {
      if (!tenant) return { kind: 'skip', reason: 'the tenant no longer exists' };
      if (GONE.has(tenant.status.phase))
        return { kind: 'skip', reason: `the tenant is ${tenant.status.phase}` };
      const stored = revision?.spec ?? previous;
      try {
        const change = this.deps.validator.rollbackChange(tenant, from ?? 0, stored, writer, plans);
        return { kind: 'change', change, merged: false };
      } catch (error) {
        if (error instanceof ConflictError) return { kind: 'skip', reason: error.message };
        const problem = problemOf(error);
        return { kind: 'fail', error: { code: problem.code, message: problem.message } };
      }
    };
    const applied = await this.deps.rollouts.rollback(rollout.id, member.ordinal, decide, eventOf);
    if (applied.state === 'rollingBack') this.deps.wake(applied.tenantId, trace);
    return applied;
  }

  private async loadPlans(
    refs: readonly { readonly name: string; readonly revision: number }[],
  ): Promise<Map<string, PlanRevision>> {
    const found = new Map<string, PlanRevision>();
    for (const { name, revision } of refs) {
      const key = planKey(name, revision);
      let plan = this.planCache.get(key);
      if (!plan) {
        plan = await this.deps.plans.revision(name, revision);
        if (plan && this.planCache.size < PLAN_CACHE_LIMIT) this.planCache.set(key, plan);
      }
      if (plan) found.set(key, plan);
    }
    return found;
  }
}

function problemOf(error: unknown): ChangeProblem {
  if (error instanceof ChangeRefused) return error.problem;
  if (!(error instanceof LessorError)) return { code: 'INTERNAL', message: errorMessage(error) };
  const problems = (error.details as { problems?: ChangeProblem['problems'] }).problems;
  return { code: error.code, message: error.message, ...(problems && problems.length > 0 && { problems }) };
}
