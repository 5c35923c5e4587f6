/**
 * Waiting for a steady deployment by polling DescribeServices, and reading a service's state.
 *
 * Steady: the PRIMARY deployment's `rolloutState` is COMPLETED (or, where ECS reports no rollout
 * state, it is the only deployment) and its running count equals its desired count. FAILED (the
 * deployment circuit breaker gave up) → HEALTH_CHECK_FAILED. When the wait runs out, a deployment
 * that settled, or got some but not all tasks running, is a PARTIAL_FAILURE; one with nothing
 * running is a PROVIDER_TIMEOUT. Every error carries the service's resources in `partial`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ComputeError } from '../../../domain/compute-error.js';
import type { EcsApi, EcsService } from './ecs-api.js';

export interface WaitOptions {
  readonly pollIntervalMs: number;
  readonly waitTimeoutMs: number;
}

export interface Rollout {
  readonly state: 'steady' | 'failed' | 'in-progress';
  /** COMPLETED (or the only deployment): ECS will not start more tasks on its own. */
  readonly settled: boolean;
  readonly running: number;
  readonly desired: number;
  readonly reason?: string;
}

export async function waitForSteadyService(
  api: EcsApi,
  cluster: string,
  name: string,
  options: WaitOptions,
  signal: AbortSignal,
): Promise<EcsService> {
  const deadline = Date.now() + options.waitTimeoutMs;
  for (;;) {
    const service = await api.findService(cluster, name, signal);
    if (service === undefined || service.status !== 'ACTIVE') {
      throw new ComputeError('CONFLICT', `ECS service ${name} went away while waiting for its deployment`);
    }
    const rollout = rolloutOf(service);
    if (rollout.state === 'steady') return service;
    if (rollout.state === 'failed') throw deploymentFailed(service, rollout);
    if (Date.now() >= deadline) throw notSteady(service, rollout, options.waitTimeoutMs);
    await sleep(options.pollIntervalMs, undefined, { signal });
  }
}

export function rolloutOf(service: EcsService): Rollout {
  const primary = service.deployments?.find((d) => d.status === 'PRIMARY');
  const running = primary?.runningCount ?? service.runningCount ?? 0;
  const desired = primary?.desiredCount ?? service.desiredCount ?? 0;
  const reason = primary?.rolloutStateReason;
  const base = { running, desired, ...(reason !== undefined && { reason }) };
  if (primary?.rolloutState === 'FAILED') return { ...base, state: 'failed', settled: true };
  const settled =
    primary?.rolloutState === 'COMPLETED' ||
    (primary !== undefined && primary.rolloutState === undefined && service.deployments?.length === 1);
  return { ...base, settled, state: settled && running === desired ? 'steady' : 'in-progress' };
}

/** The flat resource map reported for a service (service-level counts). */
export function serviceResources(service: EcsService): Record<string, string> {
  const entries: [string, string | number | undefined][] = [
    ['serviceArn', service.serviceArn],
    ['serviceName', service.serviceName],
    ['clusterArn', service.clusterArn],
    ['taskDefinitionArn', service.taskDefinition],
    ['runningCount', service.runningCount ?? 0],
    ['desiredCount', service.desiredCount ?? 0],
  ];
  return Object.fromEntries(entries.flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]])));
}

function deploymentFailed(service: EcsService, rollout: Rollout): ComputeError {
  const why = rollout.reason ?? 'tasks failed to start';
  return new ComputeError(
    'HEALTH_CHECK_FAILED',
    `ECS deployment of ${service.serviceName ?? '?'} failed: ${why}`,
    {
      partial: {
        succeeded: ['service'],
        failed: [`deployment: ${why}`],
        resources: serviceResources(service),
      },
    },
  );
}

function notSteady(service: EcsService, rollout: Rollout, waitTimeoutMs: number): ComputeError {
  const tasks = `tasks: ${rollout.running}/${rollout.desired} running`;
  const resources = serviceResources(service);
  if (rollout.running < rollout.desired && (rollout.settled || rollout.running > 0)) {
    return new ComputeError('PARTIAL_FAILURE', `ECS service ${service.serviceName ?? '?'}: ${tasks}`, {
      partial: { succeeded: ['service'], failed: [tasks], resources },
    });
  }
  return new ComputeError(
    'PROVIDER_TIMEOUT',
    `ECS deployment of ${service.serviceName ?? '?'} not steady after ${waitTimeoutMs} ms (${tasks})`,
    { partial: { succeeded: ['service'], failed: [`deployment: ${tasks}`], resources } },
  );
}

/** After DeleteService: waits until ECS reports the service INACTIVE (or MISSING). */
export async function waitForServiceGone(
  api: EcsApi,
  cluster: string,
  name: string,
  options: WaitOptions,
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + options.waitTimeoutMs;
  for (;;) {
    const service = await api.findService(cluster, name, signal);
    if (service === undefined || service.status === 'INACTIVE') return;
    if (Date.now() >= deadline) {
      throw new ComputeError(
        'PROVIDER_TIMEOUT',
        `ECS service ${name} still ${service.status ?? 'present'} after ${options.waitTimeoutMs} ms`,
        {
          partial: {
            succeeded: ['deleteRequested'],
            failed: ['service'],
            resources: serviceResources(service),
          },
        },
      );
    }
    await sleep(options.pollIntervalMs, undefined, { signal });
  }
}
