/**
 * The ecs compute provider: one ECS service per tenant, `lessor-<tenant-name>`, owned through its
 * `lessor:tenant-id` tag. Every call observes (DescribeServices) before it acts, so it is safe to
 * repeat at any moment and a fresh instance (after a restart of Lessor) finds what an old one made:
 *
 * - provision / update converge: no service (or an INACTIVE one) → CreateService (idempotency token
 *   from the execution id); an existing one → UpdateService with only the fields that differ, and
 *   TagResource for changed tags. Both then wait for a steady deployment.
 * - delete: scale to 0, DeleteService (force), wait until INACTIVE; absent already → success.
 * - a service with our name but another tenant's tag (or none) is never touched: CONFLICT.
 */
import { ComputeError } from '../../../domain/compute-error.js';
import type { ConfigHasher } from '../../../domain/config-hasher.js';
import type { FieldProblem } from '../../../domain/errors.js';
import type { Logger } from '../../../domain/logger.js';
import type { JsonObject } from '../../../domain/tenant.js';
import type {
  ComputeProvider,
  ComputeRequest,
  ComputeResult,
  DescribeRequest,
  JsonSchema,
  ObservedRuntime,
  TenantRef,
} from '../../provider.js';
import { allowListProblems, type EcsPolicy } from './ecs-allow-list.js';
import type { EcsApi, EcsService } from './ecs-api.js';
import type { EcsClientTarget } from './ecs-clients.js';
import { ECS_CONFIG_SCHEMA } from './ecs-config-schema.js';
import { asEcsConfig, locationOf, validateEcsConfig, type EcsConfig } from './ecs-config.js';
import { mapEcsError } from './ecs-errors.js';
import type { EcsOptions } from './ecs-options.js';
import { createServiceInput, desiredService, serviceUpdate, type DesiredService } from './service-spec.js';
import { rolloutOf, serviceResources, waitForServiceGone, waitForSteadyService } from './service-wait.js';
import {
  changedTags,
  endpointsFrom,
  fromAwsTags,
  generationOf,
  lessorTags,
  serviceName,
  TAG,
  withEndpointTag,
} from './ecs-tags.js';
import { ensureTaskDefinition } from './task-definitions.js';

export interface EcsClientPool {
  /** Runs `fn` with the client for `target`, which stays usable until `fn` settles. */
  use<T>(target: EcsClientTarget, fn: (api: EcsApi) => Promise<T>): Promise<T>;
  /** Who the base credentials are (STS GetCallerIdentity); optional for test pools. */
  callerIdentity?(signal: AbortSignal): Promise<string>;
  close(): Promise<void>;
}

export interface EcsProviderDeps {
  readonly clients: EcsClientPool;
  readonly options: EcsOptions;
  /** Which roles, secrets, clusters… a tenant may name (ecs-allow-list.ts). */
  readonly policy: EcsPolicy;
  readonly logger: Logger;
  /** The server's keyed hash, for the config-hash tags. */
  readonly hasher: ConfigHasher;
}

/** Errors meaning "the service (or its whole cluster) is not there". */
const GONE = new Set(['ServiceNotFoundException', 'ServiceNotActiveException', 'ClusterNotFoundException']);

export class EcsProvider implements ComputeProvider {
  readonly type = 'ecs';
  private readonly logger: Logger;

  constructor(private readonly deps: EcsProviderDeps) {
    this.logger = deps.logger;
  }

  configSchema(): JsonSchema {
    return ECS_CONFIG_SCHEMA;
  }

  validate(config: JsonObject): readonly FieldProblem[] {
    return [...validateEcsConfig(config), ...allowListProblems(config, this.deps.policy)];
  }

  provision(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    return this.guard(signal, async () => {
      const converged = (api: EcsApi) => this.converge(api, request, signal);
      const { resources, endpoints } = await this.withApi(request.config, converged);
      return { resources, endpoints };
    });
  }

  update(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    return this.guard(signal, () =>
      this.withApi(request.config, (api) => this.converge(api, request, signal)),
    );
  }

  delete(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    return this.guard(signal, () => this.withApi(request.config, (api) => this.remove(api, request, signal)));
  }

  describe(request: DescribeRequest, signal: AbortSignal): Promise<ObservedRuntime> {
    return this.guard(signal, () =>
      this.withApi(request.config, (api) => this.observe(api, request, signal)),
    );
  }

  /** STS GetCallerIdentity with the base credentials: they resolve and AWS accepts them. */
  async preflight(signal: AbortSignal): Promise<string> {
    try {
      if (!this.deps.clients.callerIdentity) return 'no credential check for this client pool';
      const identity = await this.deps.clients.callerIdentity(signal);
      return `AWS accepts the credentials of ${identity} (region ${this.deps.options.region ?? 'from the AWS chain'})`;
    } catch (error) {
      throw this.mapError(error);
    }
  }

  mapError(error: unknown): ComputeError {
    return mapEcsError(error, { retryAfterMs: this.deps.options.retryAfterMs });
  }

  async close(): Promise<void> {
    await this.deps.clients.close();
  }

  private async converge(api: EcsApi, request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    const config = asEcsConfig(request.config);
    const name = serviceName(request.tenant);
    const current = live(await api.findService(config.cluster, name, signal));
    if (current !== undefined) assertUsable(current, request.tenant, config.cluster);
    const { hasher } = this.deps;
    const taskDefinition = await ensureTaskDefinition(api, request, config, signal, this.logger, hasher);
    const tags = withEndpointTag(
      lessorTags(request, hasher(request.config), config.tags),
      config.endpointUrl,
    );
    const desired = desiredService(request, config, taskDefinition.arn, tags);
    const changes =
      current === undefined
        ? await this.create(api, desired, request, signal)
        : await this.reconfigure(api, current, desired, request, signal);
    const service = await waitForSteadyService(api, config.cluster, name, this.waitOptions(config), signal);
    return { resources: serviceResources(service), endpoints: endpointsFrom(config.endpointUrl), changes };
  }

  private async create(
    api: EcsApi,
    desired: DesiredService,
    request: ComputeRequest,
    signal: AbortSignal,
  ): Promise<string[]> {
    const service = await api.createService(createServiceInput(desired, request.executionId), signal);
    this.logger.info(
      { tenantId: request.tenant.id, executionId: request.executionId, serviceArn: service.serviceArn },
      'created ECS service',
    );
    return ['service'];
  }

  private async reconfigure(
    api: EcsApi,
    current: EcsService,
    desired: DesiredService,
    request: ComputeRequest,
    signal: AbortSignal,
  ): Promise<string[]> {
    const update = serviceUpdate(current, desired);
    if (update.input !== undefined) {
      await api.updateService(update.input, signal);
      const log = { tenantId: request.tenant.id, executionId: request.executionId, changes: update.changes };
      this.logger.info(log, 'updated ECS service');
    }
    const tags = changedTags(fromAwsTags(current.tags), desired.tags);
    if (Object.keys(tags).length > 0 && current.serviceArn !== undefined) {
      await api.tagResource(current.serviceArn, tags, signal);
    }
    const userTagsChanged = Object.keys(tags).some((key) => !key.startsWith('lessor:'));
    return [...update.changes, ...(userTagsChanged ? ['tags'] : [])];
  }

  private async remove(api: EcsApi, request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    const config = asEcsConfig(request.config);
    const name = serviceName(request.tenant);
    const current = live(await ifPresent(api.findService(config.cluster, name, signal)));
    if (current === undefined) return { resources: {}, endpoints: [] };
    assertOwned(current, request.tenant, config.cluster);
    if (current.status === 'ACTIVE') {
      if ((current.desiredCount ?? 0) > 0) {
        await ifPresent(
          api.updateService({ cluster: config.cluster, service: name, desiredCount: 0 }, signal),
        );
      }
      await ifPresent(api.deleteService(config.cluster, name, signal));
      this.logger.info(
        { tenantId: request.tenant.id, executionId: request.executionId },
        'deleted ECS service',
      );
    }
    await waitForServiceGone(api, config.cluster, name, this.waitOptions(config), signal);
    return { resources: {}, endpoints: [] };
  }

  /** Looks in the tenant's own cluster, region and role: the effective config says where. */
  private async observe(
    api: EcsApi,
    { tenant, config }: DescribeRequest,
    signal: AbortSignal,
  ): Promise<ObservedRuntime> {
    const location = locationOf(config);
    const service = live(await ifPresent(api.findService(location.cluster, serviceName(tenant), signal)));
    const absent = {
      exists: false,
      running: false,
      healthy: false,
      generation: null,
      resources: {},
      endpoints: [],
    };
    if (service === undefined) return absent;
    const tags = fromAwsTags(service.tags);
    if (tags[TAG.tenantId] !== tenant.id) {
      return { ...absent, details: { conflict: ownerMessage(service, tenant, location.cluster) } };
    }
    const rollout = rolloutOf(service);
    return {
      exists: true,
      running: (service.runningCount ?? 0) > 0,
      healthy: service.status === 'ACTIVE' && rollout.state === 'steady',
      generation: generationOf(tags),
      resources: serviceResources(service),
      endpoints: endpointsFrom(tags[TAG.endpointUrl]),
      details: {
        status: service.status,
        rollout: rollout.state,
        running: rollout.running,
        desired: rollout.desired,
      },
    };
  }

  /**
   * Runs `fn` with the client for the config's region and role — only once the policy allows every
   * value the config names: choosing the region and assuming the role act with Lessor's credentials.
   */
  private async withApi<T>(config: JsonObject, fn: (api: EcsApi) => Promise<T>): Promise<T> {
    const problems = allowListProblems(config, this.deps.policy);
    if (problems.length > 0) {
      const list = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
      throw new ComputeError('INVALID_CONFIG', `ecs config not allowed: ${list}`, {
        providerError: { problems },
      });
    }
    return this.deps.clients.use(locationOf(config), fn);
  }

  private waitOptions(config: EcsConfig) {
    const { pollIntervalMs, waitTimeoutMs } = this.deps.options;
    return { pollIntervalMs, waitTimeoutMs: config.waitTimeoutMs ?? waitTimeoutMs };
  }

  /** Every failure leaves as a ComputeError; an abort of `signal` as PROVIDER_TIMEOUT. */
  private async guard<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    try {
      signal.throwIfAborted();
      return await fn();
    } catch (error) {
      if (!signal.aborted) throw this.mapError(error);
      throw new ComputeError('PROVIDER_TIMEOUT', 'ECS call aborted (timeout or cancellation)', {
        ...(error instanceof ComputeError && error.partial !== undefined && { partial: error.partial }),
        cause: error,
      });
    }
  }
}

/** An INACTIVE service is a deleted one: as good as absent (a new one may take its name). */
function live(service: EcsService | undefined): EcsService | undefined {
  return service === undefined || service.status === 'INACTIVE' ? undefined : service;
}

/** Resolves to undefined when ECS says the service or its cluster is not there. */
async function ifPresent<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (typeof error === 'object' && error !== null && GONE.has((error as Error).name)) return undefined;
    throw error;
  }
}

function assertUsable(service: EcsService, tenant: TenantRef, cluster: string): void {
  assertOwned(service, tenant, cluster);
  if (service.status === 'DRAINING') {
    throw new ComputeError(
      'CONFLICT',
      `ECS service ${service.serviceName ?? '?'} is being deleted; retry once it is gone`,
    );
  }
}

function assertOwned(service: EcsService, tenant: TenantRef, cluster: string): void {
  if (fromAwsTags(service.tags)[TAG.tenantId] === tenant.id) return;
  throw new ComputeError('CONFLICT', ownerMessage(service, tenant, cluster), {
    classification: 'manual_intervention',
  });
}

function ownerMessage(service: EcsService, tenant: TenantRef, cluster: string): string {
  const owner = fromAwsTags(service.tags)[TAG.tenantId];
  const whose = owner === undefined ? 'is not managed by Lessor' : `belongs to tenant ${owner}`;
  return `ECS service ${service.serviceName ?? '?'} in cluster ${cluster} ${whose}, not ${tenant.id}: left untouched`;
}
