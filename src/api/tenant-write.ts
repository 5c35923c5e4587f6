/**
 * The read-decide-write loop shared by PUT, PATCH, DELETE and retry. With `If-Match` the client's
 * version is the guard (stale → 412). Without it the API still guards its own read-modify-write with
 * the version it read, and on losing a race simply reads again and re-decides (up to 3 times), so
 * a concurrent writer is never silently overwritten.
 */
import type { FastifyRequest } from 'fastify';
import { NotFoundError, PreconditionFailedError } from '../domain/errors.js';
import type { TenantChange } from '../domain/tenant-change.js';
import type { Tenant } from '../domain/tenant.js';
import type { TriggerSource } from '../domain/workflow-run.js';
import type { ApiContext } from './api-deps.js';
import { expectedVersion } from './tenant-view.js';

const MAX_ATTEMPTS = 3;

export async function requireTenant(ctx: ApiContext, idOrName: string): Promise<Tenant> {
  const tenant = await ctx.deps.store.tenants.get(idOrName);
  if (!tenant) throw new NotFoundError('tenant', idOrName);
  return tenant;
}

export interface WriteResult {
  readonly tenant: Tenant;
  readonly changed: boolean;
}

/**
 * `decide` sees the current tenant and returns the change to make, or null for "nothing to do"
 * (the tenant is returned as is). It may throw (validation, conflict) and is re-run after a race.
 */
export async function writeTenant(
  ctx: ApiContext,
  request: FastifyRequest,
  idOrName: string,
  decide: (current: Tenant) => TenantChange | null,
): Promise<WriteResult> {
  const ifMatch = expectedVersion(request);
  for (let attempt = 1; ; attempt++) {
    const current = await requireTenant(ctx, idOrName);
    if (ifMatch !== undefined && ifMatch !== current.version) {
      throw new PreconditionFailedError(ifMatch, current.version);
    }
    const change = decide(current);
    if (change === null) return { tenant: current, changed: false };
    try {
      const applied = await ctx.deps.store.tenants.change(current.id, change, {
        expectedVersion: current.version,
      });
      return { tenant: applied.tenant, changed: applied.changed };
    } catch (error) {
      const lostRace = error instanceof PreconditionFailedError && ifMatch === undefined;
      if (!lostRace || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

/** Wakes the controller after a committed write; a failure here never fails the request. */
export function wake(
  ctx: ApiContext,
  request: FastifyRequest,
  tenantId: string,
  source: TriggerSource,
): void {
  try {
    ctx.deps.trigger.enqueue(tenantId, source);
  } catch (error) {
    request.log.warn({ err: error, tenantId }, 'could not wake the controller; the next resync will');
  }
}
