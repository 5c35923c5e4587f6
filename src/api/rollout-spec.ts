/**
 * The `SpecValidator` a rollout changes tenants with: a member's changed spec is exactly what a
 * PATCH of the rollout's merge patch by the rollout's creator would store — the patch merged into
 * the current spec, parsed like a PUT body, `"***"` placeholders kept as the stored secrets, the
 * creator's right to each touched field checked (and the plan policy: a creator who may not write
 * raw specs cannot change them through a rollout), the config validated by the provider. Tenants
 * made from a plan are refused by a patch: they move between plan revisions (`{planRevision}`),
 * checked as a PUT naming that revision. A member's rollback is the tenant rollback's own change
 * (`rollbackChangeOf`).
 */
import {
  ChangeRefused,
  planKey,
  type PlanRevisions,
  type SpecValidator,
} from '../rollouts/fleet-tenant-changer.js';
import type { TenantChange } from '../domain/tenant-change.js';
import type { Principal } from './auth.js';
import { rollbackChangeOf, specRequestOf } from './tenant-commands.js';
import type { RolloutChange } from '../domain/rollout.js';
import type { JsonObject } from '../domain/tenant.js';
import type { ProviderCatalog } from './api-deps.js';
import type { Tenant, TenantSpec } from '../domain/tenant.js';
import { applyMergePatch } from './merge-patch.js';
import { HttpProblem } from './problem.js';
import { PolicyViolationError, ValidationError } from '../domain/errors.js';
import { parsePatchedSpec, resolveSpecWithPlan, type SpecContext } from './tenant-spec.js';

export function apiSpecValidator(ctx: SpecContext): SpecValidator {
  return {
    changedSpec(tenant, change, writer, plans): TenantSpec {
      const principal = { name: writer.name, role: writer.role, authenticated: true };
      if ('planRevision' in change)
        return planRevisionSpec(ctx, tenant, change.planRevision, principal, plans);
      // A plan tenant's config is its plan revision plus allowed overrides: a patch rollout would
      // have to check both against a plan read outside this decision, so such members are refused.
      if (tenant.spec.plan) {
        throw new PolicyViolationError(
          `tenant '${tenant.name}' is made from plan '${tenant.spec.plan.name}': a patch rollout does not change plan tenants`,
          [{ path: 'spec.plan', message: 'is set; move plan tenants between plan revisions instead' }],
          422,
        );
      }
      const patched = parsePatchedSpec(applyMergePatch(tenant.spec, change.patch));
      const sentConfig = change.patch.config;
      return refusing(
        () => resolveSpecWithPlan(ctx, patched, { principal, sentConfig }, undefined, tenant).spec,
      );
    },
    rollbackChange(tenant, toGeneration, stored, writer, plans): TenantChange {
      const principal = { name: writer.name, role: writer.role, authenticated: true };
      const ref = stored.plan;
      const plan = ref ? plans.get(planKey(ref.name, ref.revision)) : undefined;
      if (ref && !plan) throw noRevision(ref.name, ref.revision);
      return refusing(
        () =>
          rollbackChangeOf(ctx, tenant, toGeneration, stored, plan, { principal, actor: writer.actor })
            .change,
      );
    },
  };
}

/**
 * The spec of a plan tenant moved to `revision` of its plan: what a PUT of the same spec naming
 * that revision would store (its overrides kept and checked against the revision's policy). A
 * tenant not made from a plan, or whose plan has no such revision, is refused.
 */
function planRevisionSpec(
  ctx: SpecContext,
  tenant: Tenant,
  revision: number,
  principal: Principal,
  plans: PlanRevisions,
): TenantSpec {
  const ref = tenant.spec.plan;
  if (!ref) {
    throw new ValidationError(
      `tenant '${tenant.name}' is not made from a plan: a plan revision does not apply`,
      [{ path: 'spec.plan', message: 'is not set' }],
    );
  }
  const plan = plans.get(planKey(ref.name, revision));
  if (!plan) throw noRevision(ref.name, revision);
  const request = { ...specRequestOf(tenant.spec), plan: { name: ref.name, revision } };
  const writer = { principal, sentConfig: undefined };
  return refusing(() => resolveSpecWithPlan(ctx, request, writer, plan, tenant).spec);
}

function noRevision(plan: string, revision: number): ValidationError {
  return new ValidationError(`plan '${plan}' has no revision ${revision}`, [
    { path: 'spec.plan.revision', message: `plan '${plan}' has no revision ${revision}` },
  ]);
}

/** Runs a spec check; an HTTP-layer refusal (FORBIDDEN for an admin-only field) keeps its code in the member's error. */
function refusing<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof HttpProblem)) throw error;
    const { problems } = error.options;
    throw new ChangeRefused({
      code: error.code,
      message: error.message,
      ...(problems && problems.length > 0 && { problems }),
    });
  }
}

/** Members may span providers: a config value secret for any of them reads as `"***"`. */
export function redactRolloutChange(providers: ProviderCatalog, change: RolloutChange): RolloutChange {
  if (!('patch' in change)) return change;
  const config = change.patch.config;
  if (config === null || typeof config !== 'object' || Array.isArray(config)) return change;
  let redacted = config as JsonObject;
  for (const provider of providers.list()) redacted = providers.redactSecrets(provider.type, redacted);
  return { patch: { ...change.patch, config: redacted } };
}
