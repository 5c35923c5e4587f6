/**
 * Finding a tenant's service and making sure it is the tenant's: a service is recognised by its
 * name and owned through its `lessor:tenant-id` tag; one with our name but another owner (or none)
 * is never touched.
 */
import { ComputeError } from '../../../domain/compute-error.js';
import type { TenantRef } from '../../provider.js';
import type { EcsService } from './ecs-api.js';
import { fromAwsTags, TAG } from './ecs-tags.js';

/** Errors meaning "the service (or its whole cluster) is not there". */
const GONE = new Set(['ServiceNotFoundException', 'ServiceNotActiveException', 'ClusterNotFoundException']);

/** An INACTIVE service is a deleted one: as good as absent (a new one may take its name). */
export function live(service: EcsService | undefined): EcsService | undefined {
  return service === undefined || service.status === 'INACTIVE' ? undefined : service;
}

/** Resolves to undefined when ECS says the service or its cluster is not there. */
export async function ifPresent<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (typeof error === 'object' && error !== null && GONE.has((error as Error).name)) return undefined;
    throw error;
  }
}

export function assertUsable(service: EcsService, tenant: TenantRef, cluster: string): void {
  assertOwned(service, tenant, cluster);
  if (service.status === 'DRAINING') {
    throw new ComputeError(
      'CONFLICT',
      `ECS service ${service.serviceName ?? '?'} is being deleted; retry once it is gone`,
    );
  }
}

export function assertOwned(service: EcsService, tenant: TenantRef, cluster: string): void {
  if (fromAwsTags(service.tags)[TAG.tenantId] === tenant.id) return;
  throw new ComputeError('CONFLICT', ownerMessage(service, tenant, cluster), {
    classification: 'manual_intervention',
  });
}

export function ownerMessage(service: EcsService, tenant: TenantRef, cluster: string): string {
  const owner = fromAwsTags(service.tags)[TAG.tenantId];
  const whose = owner === undefined ? 'is not managed by Lessor' : `belongs to tenant ${owner}`;
  return `ECS service ${service.serviceName ?? '?'} in cluster ${cluster} ${whose}, not ${tenant.id}: left untouched`;
}
