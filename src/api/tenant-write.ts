/**
 * The read-decide-write loop shared by PUT, PATCH, DELETE, retry and rollback. With `If-Match` the
 * client's version is the guard (stale → 412). Without it the API still guards its own
 * read-modify-write with the version it read, and on losing a race simply reads again and
 * re-decides (up to 3 times), so a concurrent writer is never silently overwritten. A dry run
 * decides exactly as a write would — every check included — and applies the change in memory only.
 */
import type { FastifyRequest } from 'fastify';
import { NotFoundError, PreconditionFailedError } from '../domain/errors.js';
import { applyTenantChange, type TenantChange } from '../domain/tenant-change.js';
import type { Tenant } from '../domain/tenant.js';
import type { TriggerSource } from '../domain/workflow-run.js';
import type { TraceContext } from '../domain/tracing.js';
import type { ApiContext } from './api-deps.js';
import { requestTraceContext } from './request-trace.js';
import { expectedVersion } from './tenant-view.js';

const MAX_ATTEMPTS = 3;

export async function requireTenant(ctx: ApiContext, idOrName: string): Promise<Tenant> {
  const tenant = await ctx.deps.store.tenants.get(idOrName);
  if (!tenant) throw new NotFoundError('tenant', idOrName);
  return tenant;
}

export interface WriteResult {
  /** The tenant after the write (for a dry run: as it would be). */
  readonly tenant: Tenant;
  readonly changed: boolean;
  /** The tenant the change was decided on. */
  readonly before: Tenant;
}

export interface WriteOptions {
  /** `If-Match`: the version the tenant must still be at. */
  readonly ifMatch?: number | undefined;
  /** Decide and apply in memory only: nothing stored, no event, no run. */
  readonly dryRun?: boolean | undefined;
  /** The request's trace context: the webhook events the write queues continue it. */
  readonly trace?: TraceContext | undefined;
}

/**
 * `decide` sees the current tenant and returns the change to make, or null for "nothing to do"
 * (the tenant is returned as is). It may throw (validation, conflict) and is re-run after a race.
 */
export type Decide = (current: Tenant) => TenantChange | null | Promise<TenantChange | null>;

export async function writeTenantWith(
  ctx: ApiContext,
  idOrName: string,
  decide: Decide,
  options: WriteOptions = {},
): Promise<WriteResult> {
  const { ifMatch } = options;
  for (let attempt = 1; ; attempt++) {
    const current = await requireTenant(ctx, idOrName);
    if (ifMatch !== undefined && ifMatch !== current.version) {
      throw new PreconditionFailedError(ifMatch, current.version);
    }
    const change = await decide(current);
    if (change === null) return { tenant: current, changed: false, before: current };
    if (options.dryRun === true) {
      const applied = applyTenantChange(current, change, ctx.now().toISOString());
      return { tenant: applied.tenant, changed: applied.changed, before: current };
    }
    try {
      const applied = await ctx.deps.store.tenants.change(current.id, change, {
        expectedVersion: current.version,
        ...(options.trace && { trace: options.trace }),
      });
      return { tenant: applied.tenant, changed: applied.changed, before: current };
    } catch (error) {
      const lostRace = error instanceof PreconditionFailedError && ifMatch === undefined;
      if (!lostRace || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

/** `writeTenantWith` guarded by the request's `If-Match`. */
export function writeTenant(
  ctx: ApiContext,
  request: FastifyRequest,
  idOrName: string,
  decide: Decide,
  options: Omit<WriteOptions, 'ifMatch'> = {},
): Promise<WriteResult> {
  const trace = requestTraceContext(request);
  return writeTenantWith(ctx, idOrName, decide, {
    ...options,
    ifMatch: expectedVersion(request),
    ...(trace && { trace }),
  });
}

/**
 * Wakes the controller after a committed write; a failure here never fails the request. The
 * reconcile continues `trace`, by default the trace of `request` (when it is the traced request).
 */
export function wake(
  ctx: ApiContext,
  request: Pick<FastifyRequest, 'log'>,
  tenantId: string,
  source: TriggerSource,
  trace: TraceContext | undefined = requestTraceContext(request),
): void {
  try {
    ctx.deps.trigger.enqueue(tenantId, source, trace);
  } catch (error) {
    request.log.warn({ err: error, tenantId }, 'could not wake the controller; the next resync will');
  }
}
