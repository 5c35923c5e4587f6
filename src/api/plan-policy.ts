/**
 * The plan policy of tenant writes (config `policy.rawSpecs`, default `admin`): a caller below that
 * role may write only tenants made from a plan, overriding only what the plan's `allowedOverrides`
 * (JSON Pointer prefixes of `config`) list. A raw spec from such a caller is 403 POLICY_VIOLATION;
 * an override outside the list is 422 POLICY_VIOLATION naming each path. With no token configured
 * every caller is the admin, so nothing is refused.
 */
import { PolicyViolationError } from '../domain/errors.js';
import { overridesOutside, type PlanRevision } from '../domain/plan.js';
import type { JsonObject } from '../domain/tenant.js';
import type { ApiOptions } from './api-deps.js';
import type { Principal, Role } from './auth.js';

/** What the policy reads: the configured least role for raw specs (an `ApiContext` is one). */
export interface PolicyContext {
  readonly options: Pick<ApiOptions, 'rawSpecs'>;
}

const RANK: Readonly<Record<Role, number>> = { viewer: 0, operator: 1, admin: 2 };

/** Whether `principal` may write raw specs and override anything. */
export function mayWriteRawSpecs(ctx: PolicyContext, principal: Principal): boolean {
  return RANK[principal.role] >= RANK[ctx.options.rawSpecs ?? 'admin'];
}

export function assertPlanPolicy(
  ctx: PolicyContext,
  principal: Principal,
  plan: PlanRevision | undefined,
  overrides: JsonObject,
): void {
  if (mayWriteRawSpecs(ctx, principal)) return;
  const least = ctx.options.rawSpecs ?? 'admin';
  if (!plan) {
    throw new PolicyViolationError(
      `role '${principal.role}' may only write tenants made from a plan (policy.rawSpecs: ${least}); set spec.plan`,
      [{ path: 'spec.plan', message: `is required for role '${principal.role}'` }],
    );
  }
  const outside = overridesOutside(overrides, plan.allowedOverrides);
  if (outside.length === 0) return;
  throw new PolicyViolationError(
    `plan '${plan.name}' does not allow overriding ${outside.join(', ')}` +
      ` (allowedOverrides: ${plan.allowedOverrides.length > 0 ? plan.allowedOverrides.join(', ') : 'none'})`,
    outside.map((pointer) => ({
      path: `spec.config${pointer.replaceAll('/', '.')}`,
      message: `${pointer} is not in the allowedOverrides of plan '${plan.name}'`,
    })),
    422,
  );
}
