/**
 * Tenants as the compute path must see them: a tenant made from a plan stores only its overrides,
 * so before a provider is asked to provision, update, describe or re-attach it, its spec becomes
 * the effective one — the pinned plan revision's config with the overrides merged onto it (JSON
 * merge patch), and the plan's retry policy when the tenant sets none. Plan revisions are
 * immutable, so this is deterministic and may run inside a workflow step. A raw spec passes as it is.
 */
import { ValidationError } from '../domain/errors.js';
import { planConfig } from '../domain/plan.js';
import type { Tenant, TenantSpec } from '../domain/tenant.js';
import type { PlanRepository, TenantRepository } from '../store/store.js';

export type PlanRevisions = Pick<PlanRepository, 'revision'>;

/** The spec a tenant runs with. Throws ValidationError when its plan revision is gone. */
export async function effectiveSpec(plans: PlanRevisions, spec: TenantSpec): Promise<TenantSpec> {
  if (!spec.plan) return spec;
  const revision = await plans.revision(spec.plan.name, spec.plan.revision);
  if (!revision) {
    const message = `plan '${spec.plan.name}' revision ${spec.plan.revision} no longer exists`;
    throw new ValidationError(message, [{ path: 'spec.plan', message }]);
  }
  return {
    ...spec,
    config: planConfig(revision.spec.config, spec.config),
    retryPolicy: spec.retryPolicy ?? revision.spec.retryPolicy,
  };
}

/** The tenant with its effective spec. */
export async function withEffectiveSpec(plans: PlanRevisions, tenant: Tenant): Promise<Tenant> {
  if (!tenant.spec.plan) return tenant;
  return { ...tenant, spec: await effectiveSpec(plans, tenant.spec) };
}

/**
 * `tenants` whose reads answer effective specs: what the tenant workflows and the compute manager
 * are given. Writes pass through (they never carry a spec on this path).
 */
export function effectiveTenants<T extends Pick<TenantRepository, 'get'>>(
  tenants: T,
  plans: PlanRevisions,
): T {
  return new Proxy(tenants, {
    get(target, key, receiver) {
      if (key === 'get') {
        return async (idOrName: string) => {
          const tenant = await target.get(idOrName);
          return tenant && withEffectiveSpec(plans, tenant);
        };
      }
      const getWithRuns = (target as Partial<Pick<TenantRepository, 'getWithRuns'>>).getWithRuns;
      if (key === 'getWithRuns' && getWithRuns) {
        return async (id: string, runLimit: number) => {
          const read = await getWithRuns.call(target, id, runLimit);
          return read && { ...read, tenant: await withEffectiveSpec(plans, read.tenant) };
        };
      }
      const value: unknown = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
