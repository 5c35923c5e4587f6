/**
 * The port through which a rollout changes tenants, and its implementation over the tenant's
 * ordinary write path. Every change is what an API write by the rollout's creator would be: the
 * member's current spec (someone else's edits since the snapshot included: merge semantics) with
 * the rollout's merge patch applied, checked by the same rules as a PATCH (`SpecValidator`), written
 * as a generation bump with its events, after which the controller runs the ordinary update
 * workflow. A rollback writes back the spec the tenant had before the rollout's change, again as a
 * new generation. Each write and the member's own row commit in one transaction (the store's
 * `applyChange`/`rollback`), so a member is changed at most once, whatever crashes.
 */
import { deepEqualJson } from '../domain/canonical-json.js';
import { errorMessage, LessorError } from '../domain/errors.js';
import { rolloutActor, type Rollout, type RolloutChange, type RolloutMember } from '../domain/rollout.js';
import type { Tenant, TenantSpec } from '../domain/tenant.js';
import type { MemberDecision, RolloutRepository } from '../store/store.js';

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

/** The rules of a spec write (provider schema, privileged fields), as the API applies them. */
export interface SpecValidator {
  /** The spec `tenant` gets from `change`; throws a LessorError when the result is not acceptable. */
  changedSpec(tenant: Tenant, change: RolloutChange, writer: ChangeWriter): TenantSpec;
}

export interface FleetTenantChanger {
  /** What `change` would do to `tenant`, nothing written (the dry run, per member). */
  dryRun(tenant: Tenant, change: RolloutChange, writer: ChangeWriter): ChangePlan;
  /** Changes the member's tenant (once): the member ends `inProgress`, or `skipped`/`failed` untouched. */
  apply(rollout: Rollout, member: RolloutMember): Promise<RolloutMember>;
  /** Writes the member's previous spec back (once): the member ends `rollingBack` (or `rolledBack` when there is nothing to do). */
  rollBack(rollout: Rollout, member: RolloutMember): Promise<RolloutMember>;
}

/** Phases in which a tenant's spec can no longer change: such members are skipped. */
const GONE: ReadonlySet<string> = new Set(['deleting', 'archived']);

export class PatchTenantChanger implements FleetTenantChanger {
  constructor(
    private readonly deps: {
      readonly rollouts: Pick<RolloutRepository, 'applyChange' | 'rollback'>;
      readonly validator: SpecValidator;
      /** Wakes the controller for a tenant whose spec was written. */
      readonly wake: (tenantId: string) => void;
    },
  ) {}

  dryRun(tenant: Tenant, change: RolloutChange, writer: ChangeWriter): ChangePlan {
    try {
      const spec = this.deps.validator.changedSpec(tenant, change, writer);
      return { ok: true, spec, changed: !deepEqualJson(spec, tenant.spec) };
    } catch (error) {
      return { ok: false, error: problemOf(error) };
    }
  }

  async apply(rollout: Rollout, member: RolloutMember): Promise<RolloutMember> {
    const writer = { name: rollout.createdBy, role: rollout.createdByRole };
    const decide = (tenant: Tenant | undefined): MemberDecision => {
      if (!tenant) return { kind: 'skip', reason: 'the tenant no longer exists' };
      if (GONE.has(tenant.status.phase))
        return { kind: 'skip', reason: `the tenant is ${tenant.status.phase}` };
      const plan = this.dryRun(tenant, rollout.change, writer);
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
    const applied = await this.deps.rollouts.applyChange(rollout.id, member.ordinal, decide);
    if (applied.state === 'inProgress') this.deps.wake(applied.tenantId);
    return applied;
  }

  async rollBack(rollout: Rollout, member: RolloutMember): Promise<RolloutMember> {
    const decide = (tenant: Tenant | undefined, previous: TenantSpec): MemberDecision => {
      if (!tenant) return { kind: 'skip', reason: 'the tenant no longer exists' };
      if (GONE.has(tenant.status.phase))
        return { kind: 'skip', reason: `the tenant is ${tenant.status.phase}` };
      const message = `rollout ${rollout.id} rolls back to generation ${member.fromGeneration ?? '?'}`;
      return {
        kind: 'change',
        change: {
          actor: rolloutActor(rollout.id),
          spec: previous,
          audit: [{ type: 'Audit', reason: 'RolloutRollback', message }],
        },
        merged: false,
      };
    };
    const applied = await this.deps.rollouts.rollback(rollout.id, member.ordinal, decide);
    if (applied.state === 'rollingBack') this.deps.wake(applied.tenantId);
    return applied;
  }
}

function problemOf(error: unknown): ChangeProblem {
  if (error instanceof ChangeRefused) return error.problem;
  if (!(error instanceof LessorError)) return { code: 'INTERNAL', message: errorMessage(error) };
  const problems = (error.details as { problems?: ChangeProblem['problems'] }).problems;
  return { code: error.code, message: error.message, ...(problems && problems.length > 0 && { problems }) };
}
