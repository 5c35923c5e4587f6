/**
 * Suspend and resume of a tenant's ECS service. Suspend scales the service to desiredCount 0 and
 * waits until no task runs or is pending; the service, its task definition, tags, load balancer and
 * log streams stay. Resume scales it back to the config's `desiredCount` and waits for a steady
 * deployment — the same service and task definition, never a new one (a spec changed meanwhile is
 * applied by an update afterwards). Both are idempotent and observe before they act: a suspended
 * service is suspended again by doing nothing, a running one is resumed by waiting for it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ComputeError } from '../../../domain/compute-error.js';
import type { Logger } from '../../../domain/logger.js';
import type { ComputeRequest, ComputeResult } from '../../provider.js';
import type { EcsApi, EcsService } from './ecs-api.js';
import { asEcsConfig } from './ecs-config.js';
import { endpointsFrom, fromAwsTags, serviceName, TAG } from './ecs-tags.js';
import { assertUsable, ifPresent, live } from './service-ownership.js';
import { serviceResources, waitForSteadyService, type WaitOptions } from './service-wait.js';

export async function suspendService(
  api: EcsApi,
  request: ComputeRequest,
  options: WaitOptions,
  logger: Logger,
  signal: AbortSignal,
): Promise<ComputeResult> {
  const { cluster } = asEcsConfig(request.config);
  const name = serviceName(request.tenant);
  const current = live(await ifPresent(api.findService(cluster, name, signal)));
  if (current === undefined) return { resources: {}, endpoints: [] };
  assertUsable(current, request.tenant, cluster);
  if ((current.desiredCount ?? 0) > 0) {
    await api.updateService({ cluster, service: name, desiredCount: 0 }, signal);
    logger.info(
      { tenantId: request.tenant.id, executionId: request.executionId, from: current.desiredCount },
      'ECS service scaled to 0 (suspended)',
    );
  }
  const stopped = await waitForNoTasks(api, cluster, name, options, signal);
  return { resources: serviceResources(stopped), endpoints: [] };
}

export async function resumeService(
  api: EcsApi,
  request: ComputeRequest,
  options: WaitOptions,
  logger: Logger,
  signal: AbortSignal,
): Promise<ComputeResult> {
  const config = asEcsConfig(request.config);
  const name = serviceName(request.tenant);
  const current = live(await ifPresent(api.findService(config.cluster, name, signal)));
  if (current === undefined) {
    throw new ComputeError('NOT_FOUND', `tenant ${request.tenant.name} has no ECS service to resume`);
  }
  assertUsable(current, request.tenant, config.cluster);
  if (current.desiredCount !== config.desiredCount) {
    await api.updateService(
      { cluster: config.cluster, service: name, desiredCount: config.desiredCount },
      signal,
    );
    logger.info(
      { tenantId: request.tenant.id, executionId: request.executionId, to: config.desiredCount },
      'ECS service scaled back up (resumed)',
    );
  }
  const service = await waitForSteadyService(api, config.cluster, name, options, signal);
  const endpoints = endpointsFrom(fromAwsTags(service.tags)[TAG.endpointUrl]);
  return { resources: serviceResources(service), endpoints };
}

/** Polls until the service has no running and no pending task. */
async function waitForNoTasks(
  api: EcsApi,
  cluster: string,
  name: string,
  options: WaitOptions,
  signal: AbortSignal,
): Promise<EcsService> {
  const deadline = Date.now() + options.waitTimeoutMs;
  for (;;) {
    const service = live(await ifPresent(api.findService(cluster, name, signal)));
    if (service === undefined || service.status !== 'ACTIVE') {
      throw new ComputeError('CONFLICT', `ECS service ${name} went away while it was being suspended`);
    }
    const running = service.runningCount ?? 0;
    const pending = service.pendingCount ?? 0;
    if (running === 0 && pending === 0) return service;
    if (Date.now() >= deadline) {
      throw new ComputeError(
        'PROVIDER_TIMEOUT',
        `ECS service ${name} still has ${running} running and ${pending} pending tasks after ${options.waitTimeoutMs} ms`,
        {
          partial: {
            succeeded: ['scaledToZero'],
            failed: [`tasks: ${running} running`],
            resources: serviceResources(service),
          },
        },
      );
    }
    await sleep(options.pollIntervalMs, undefined, { signal });
  }
}
