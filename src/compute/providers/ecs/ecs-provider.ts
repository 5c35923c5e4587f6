/**
 * The ecs compute provider: one ECS service per tenant, `lessor-<tenant-name>`, owned through its
 * `lessor:tenant-id` tag. Every call observes (DescribeServices) before it acts, so it is safe to
 * repeat at any moment and a fresh instance (after a restart of Lessor) finds what an old one made:
 *
 * - provision / update converge: no service (or an INACTIVE one) → CreateService (idempotency token
 *   from the execution id); an existing one → UpdateService with only the fields that differ, and
 *   TagResource for changed tags. Both then wait for a steady deployment.
 * - delete: scale to 0, DeleteService (force), wait until INACTIVE; absent already → success.
 * - suspend / resume: desiredCount 0 and back to the config's count (service-suspend.ts).
 * - logs: CloudWatch Logs, where the task definition's awslogs driver writes (ecs-logs.ts).
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
  LogLine,
  LogRequest,
  ObservedRuntime,
} from '../../provider.js';
import { allowListProblems, type EcsPolicy } from './ecs-allow-list.js';
import { familyOf, type EcsApi, type EcsService } from './ecs-api.js';
import type { EcsClientTarget } from './ecs-clients.js';
import type { LogsApi } from './logs-api.js';
import { ECS_CONFIG_SCHEMA } from './ecs-config-schema.js';
import { asEcsConfig, CONTAINER_NAME, locationOf, validateEcsConfig, type EcsConfig } from './ecs-config.js';
import { logLocationOf, readLogLines, type LogLocation, type LogReader } from './ecs-logs.js';
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
  taskFamily,
  withEndpointTag,
} from './ecs-tags.js';
import { assertOwned, assertUsable, ifPresent, live, ownerMessage } from './service-ownership.js';
import { resumeService, suspendService } from './service-suspend.js';
import { ensureTaskDefinition } from './task-definitions.js';

export interface EcsClientPool {
  /** Runs `fn` with the client for `target`, which stays usable until `fn` settles. */
  use<T>(target: EcsClientTarget, fn: (api: EcsApi) => Promise<T>): Promise<T>;
  /** The same for the CloudWatch Logs client of `target` (same region and credentials). */
  useLogs<T>(target: EcsClientTarget, fn: (api: LogsApi) => Promise<T>): Promise<T>;
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

export class EcsProvider implements ComputeProvider {
  readonly type = 'ecs';
  /** Provision and update end with the service's deployment steady (service-wait.ts), as describe reports it. */
  readonly returnsHealthy = true;
  private readonly logger: Logger;

  constructor(private readonly deps: EcsProviderDeps) {
    this.logger = deps.logger;
  }

  configSchema(): JsonSchema {
    return ECS_CONFIG_SCHEMA;
  }

  validate(config: JsonObject): readonly FieldProblem[] {
    const problems = [...validateEcsConfig(config), ...allowListProblems(config, this.deps.policy)];
    const { logs, region } = asEcsConfig(config);
    if (logs !== undefined && (logs.region ?? region ?? this.deps.options.region) === undefined) {
      problems.push({
        path: 'logs.region',
        message: 'is required: neither region nor the provider sets one',
      });
    }
    return problems;
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

  suspend(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    return this.guard(signal, () =>
      this.withApi(request.config, (api) =>
        suspendService(api, request, this.waitOptions(asEcsConfig(request.config)), this.logger, signal),
      ),
    );
  }

  resume(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    return this.guard(signal, () =>
      this.withApi(request.config, (api) =>
        resumeService(api, request, this.waitOptions(asEcsConfig(request.config)), this.logger, signal),
      ),
    );
  }

  /** The service's output from CloudWatch Logs (ecs-logs.ts); NOT_FOUND without a service. */
  async *logs(request: LogRequest, signal: AbortSignal): AsyncGenerator<LogLine> {
    try {
      signal.throwIfAborted();
      const location = locationOf(request.config);
      const source = await this.withApi(request.config, (api) => this.logSource(api, request, signal));
      const target = { ...location, ...(source.region !== undefined && { region: source.region }) };
      const clients = this.deps.clients;
      const reader: LogReader = {
        filter: (query, s) => clients.useLogs(target, (logs) => logs.filterLogEvents(query, s)),
        exists: (s) => clients.use(location, (api) => this.serviceExists(api, request, s)),
        mapError: (error) => this.mapError(error),
        pollIntervalMs: this.deps.options.pollIntervalMs,
        now: () => Date.now(),
      };
      yield* readLogLines(reader, source, request, signal);
    } catch (error) {
      if (signal.aborted) return;
      throw this.mapError(error);
    }
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
    const taskDefinition = await ensureTaskDefinition(
      api,
      request,
      config,
      signal,
      this.logger,
      hasher,
      this.deps.options.region,
    );
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

  /** Where the tenant's service sends its output: its task definition's awslogs settings. */
  private async logSource(api: EcsApi, request: LogRequest, signal: AbortSignal): Promise<LogLocation> {
    const config = asEcsConfig(request.config);
    const service = live(
      await ifPresent(api.findService(config.cluster, serviceName(request.tenant), signal)),
    );
    if (service === undefined) {
      throw new ComputeError('NOT_FOUND', `tenant ${request.tenant.name} has no ECS service`);
    }
    assertOwned(service, request.tenant, config.cluster);
    const arn = service.taskDefinition ?? '';
    if (familyOf(arn) !== taskFamily(request.tenant)) {
      throw new ComputeError(
        'INVALID_CONFIG',
        `ECS service ${service.serviceName ?? '?'} runs ${arn}, which Lessor did not register: its log streams cannot be told apart from other services' (give an image and logs.group)`,
      );
    }
    const definition = await api.describeTaskDefinition(arn, signal);
    const location = logLocationOf(definition.containerDefinitions ?? [], CONTAINER_NAME);
    if (location === undefined) {
      throw new ComputeError(
        'INVALID_CONFIG',
        `task definition ${arn} sends no output to CloudWatch Logs: set logs.group in the tenant's config`,
      );
    }
    return location;
  }

  private async serviceExists(api: EcsApi, request: LogRequest, signal: AbortSignal): Promise<boolean> {
    const { cluster } = asEcsConfig(request.config);
    const service = live(await ifPresent(api.findService(cluster, serviceName(request.tenant), signal)));
    return service?.status === 'ACTIVE' && fromAwsTags(service.tags)[TAG.tenantId] === request.tenant.id;
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
