/**
 * The fake ECS's clock: each DescribeServices of a service advances its PRIMARY deployment one step
 * (one more task running, up to the capacity, or one fewer when scaled down; COMPLETED after `rolloutSteps` steps with every
 * reachable task running, or FAILED when `failRollouts`), and a DRAINING service one step towards
 * INACTIVE. Mutates the stored service in place.
 */
import type { Deployment, Service } from '@aws-sdk/client-ecs';

export interface RolloutSettings {
  readonly capacity: number;
  readonly failRollouts: boolean;
  readonly rolloutSteps: number;
  readonly drainSteps: number;
  readonly ticks: Map<string, number>;
}

export function newDeployment(
  n: number,
  desiredCount: number,
  taskDefinition: string | undefined,
): Deployment {
  const id = `ecs-svc/${String(n).padStart(19, '0')}`;
  const now = new Date();
  return {
    id,
    status: 'PRIMARY',
    taskDefinition,
    desiredCount,
    pendingCount: 0,
    runningCount: 0,
    failedTasks: 0,
    createdAt: now,
    updatedAt: now,
    rolloutState: 'IN_PROGRESS',
    rolloutStateReason: `ECS deployment ${id} in progress.`,
  };
}

export function advanceService(service: Service, settings: RolloutSettings): void {
  if (service.status === 'DRAINING') return drain(service, settings);
  if (service.status !== 'ACTIVE') return;
  const primary = service.deployments?.find((d) => d.status === 'PRIMARY');
  if (primary !== undefined) {
    advanceDeployment(primary, settings);
    if (primary.rolloutState === 'COMPLETED') service.deployments = [primary];
  }
  const deployments = service.deployments ?? [];
  service.runningCount = deployments.reduce((sum, d) => sum + (d.runningCount ?? 0), 0);
  service.pendingCount = deployments.reduce((sum, d) => sum + (d.pendingCount ?? 0), 0);
}

function advanceDeployment(deployment: Deployment, settings: RolloutSettings): void {
  const id = deployment.id ?? '';
  const step = (settings.ticks.get(id) ?? 0) + 1;
  settings.ticks.set(id, step);
  const target = Math.min(deployment.desiredCount ?? 0, settings.capacity);
  const running = deployment.runningCount ?? 0;
  // Tasks start, and stop, one per step.
  deployment.runningCount = running < target ? running + 1 : running > target ? running - 1 : target;
  deployment.pendingCount = Math.max(0, target - deployment.runningCount);
  deployment.updatedAt = new Date();
  if (deployment.rolloutState !== 'IN_PROGRESS' || step < settings.rolloutSteps) return;
  if (settings.failRollouts) {
    deployment.rolloutState = 'FAILED';
    deployment.rolloutStateReason = 'ECS deployment circuit breaker: tasks failed to start.';
    deployment.failedTasks = deployment.desiredCount ?? 0;
    deployment.runningCount = 0;
    deployment.pendingCount = 0;
  } else if (deployment.runningCount >= target) {
    deployment.rolloutState = 'COMPLETED';
    deployment.rolloutStateReason = `ECS deployment ${id} completed.`;
  }
}

function drain(service: Service, settings: RolloutSettings): void {
  const key = `drain:${service.serviceArn ?? ''}`;
  const step = (settings.ticks.get(key) ?? 0) + 1;
  settings.ticks.set(key, step);
  service.runningCount = 0;
  service.pendingCount = 0;
  if (step >= settings.drainSteps) {
    service.status = 'INACTIVE';
    service.deployments = [];
    settings.ticks.delete(key);
  }
}
