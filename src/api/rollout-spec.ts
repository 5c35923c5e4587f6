/**
 * The `SpecValidator` a rollout changes tenants with: a member's changed spec is exactly what a
 * PATCH of the rollout's merge patch by the rollout's creator would store — the patch merged into
 * the current spec, parsed like a PUT body, `"***"` placeholders kept as the stored secrets, the
 * creator's right to each touched field checked (and the plan policy: a creator who may not write
 * raw specs cannot change them through a rollout), the config validated by the provider. Tenants
 * made from a plan are refused: they move between plan revisions.
 */
import { ChangeRefused, type ChangeWriter, type SpecValidator } from '../rollouts/fleet-tenant-changer.js';
import type { RolloutChange } from '../domain/rollout.js';
import type { Tenant, TenantSpec } from '../domain/tenant.js';
import { applyMergePatch } from './merge-patch.js';
import { HttpProblem } from './problem.js';
import { PolicyViolationError } from '../domain/errors.js';
import { parsePatchedSpec, resolveSpecWithPlan, type SpecContext } from './tenant-spec.js';

export function apiSpecValidator(ctx: SpecContext): SpecValidator {
  return {
    changedSpec(tenant: Tenant, change: RolloutChange, writer: ChangeWriter): TenantSpec {
      // A plan tenant's config is its plan revision plus allowed overrides: a patch rollout would
      // have to check both against a plan read outside this decision, so such members are refused.
      if (tenant.spec.plan) {
        throw new PolicyViolationError(
          `tenant '${tenant.name}' is made from plan '${tenant.spec.plan.name}': a patch rollout does not change plan tenants`,
          [{ path: 'spec.plan', message: 'is set; move plan tenants between plan revisions instead' }],
          422,
        );
      }
      const principal = { name: writer.name, role: writer.role, authenticated: true };
      const patched = parsePatchedSpec(applyMergePatch(tenant.spec, change.patch));
      const sentConfig = change.patch.config;
      try {
        return resolveSpecWithPlan(ctx, patched, { principal, sentConfig }, undefined, tenant).spec;
      } catch (error) {
        // An HTTP-layer refusal (FORBIDDEN for an admin-only field) keeps its code in the member's error.
        if (!(error instanceof HttpProblem)) throw error;
        const { problems } = error.options;
        throw new ChangeRefused({
          code: error.code,
          message: error.message,
          ...(problems && problems.length > 0 && { problems }),
        });
      }
    },
  };
}
