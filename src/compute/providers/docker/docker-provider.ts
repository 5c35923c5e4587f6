/**
 * The `docker` compute provider (docs/providers/docker.md): one container per tenant on Docker or Podman's
 * Docker-compatible API. It holds nothing in memory that matters: every call finds the tenant's
 * containers by the `lessor.tenant-id` label, so a fresh instance sees what an old one made.
 */
import { ComputeError } from '../../../domain/compute-error.js';
import type { FieldProblem } from '../../../domain/errors.js';
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
import { containerLogs, resumeContainer, suspendContainers } from './suspend-resume.js';
import { DockerApiError } from './docker-client.js';
import { DOCKER_CONFIG_SCHEMA, validateDockerConfig } from './docker-config.js';
import { mapDockerError, toComputeError } from './docker-errors.js';
import { LABEL, tenantSelector } from './container-spec.js';
import {
  endpointsOf,
  generationOf,
  hostAddress,
  inspectFromSummary,
  isRunning,
  labelsOf,
  pickCurrent,
  resourcesOf,
  runtimeInfoOf,
} from './container-view.js';
import { Progress, retire, type DockerContext } from './container-ops.js';
import type { ContainerInspect } from './docker-types.js';
import { converge } from './converge.js';
import { probeOnce } from './health-check.js';

const ABSENT: ObservedRuntime = {
  exists: false,
  running: false,
  healthy: false,
  generation: null,
  resources: {},
  endpoints: [],
};

export class DockerProvider implements ComputeProvider {
  readonly type = 'docker';
  /** Provision and update end with the container's health check passed (converge.ts). */
  readonly returnsHealthy = true;

  constructor(private readonly ctx: DockerContext) {}

  configSchema(): JsonSchema {
    return DOCKER_CONFIG_SCHEMA;
  }

  validate(config: JsonObject): readonly FieldProblem[] {
    return validateDockerConfig(config, this.ctx.hostPolicy);
  }

  provision(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    return this.guard(signal, () => this.converge('provision', request, signal));
  }

  update(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    return this.guard(signal, () => this.converge('update', request, signal));
  }

  /** Removes every container carrying the tenant label; nothing there is success. */
  delete(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    return this.guard(signal, async () => {
      const progress = new Progress();
      const found = await progress.step('observe', signal, () =>
        this.ctx.client.listContainers(tenantSelector(request.tenant.id), signal),
      );
      for (const container of found) {
        progress.resources = { containerId: container.Id };
        await progress.step(`remove:${container.Id.slice(0, 12)}`, signal, () =>
          retire(this.ctx, container, signal),
        );
      }
      this.ctx.logger.info(
        { tenantId: request.tenant.id, removed: found.length },
        'docker: tenant containers deleted',
      );
      return { resources: {}, endpoints: [] };
    });
  }

  /** Stops the tenant's containers (stop timeout honoured) and keeps them and their volumes. */
  suspend(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    return this.guard(signal, () => suspendContainers(this.ctx, request, signal));
  }

  /** Starts the same container again and waits for its recorded health check. */
  resume(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    return this.guard(signal, () => resumeContainer(this.ctx, request, signal));
  }

  /** The engine's logs API, demultiplexed into stdout and stderr lines. */
  async *logs(request: LogRequest, signal: AbortSignal): AsyncIterable<LogLine> {
    try {
      yield* containerLogs(this.ctx, request, signal);
    } catch (error) {
      if (signal.aborted) return; // the reader left: the stream simply ends
      throw toComputeError(error, signal);
    }
  }

  describe({ tenant }: DescribeRequest, signal: AbortSignal): Promise<ObservedRuntime> {
    return this.guard(signal, async () => {
      const found = await this.ctx.client.listContainers(tenantSelector(tenant.id), signal);
      const current = pickCurrent(found);
      if (current === undefined) return ABSENT;
      // A running container's summary usually has all describe reads; else one inspect.
      const container = inspectFromSummary(current) ?? (await this.inspectIfPresent(current.Id, signal));
      if (container === undefined) return ABSENT;
      const running = isRunning(container);
      return {
        exists: true,
        running,
        healthy: running && (await this.probe(container, signal)),
        generation: generationOf(container),
        resources: resourcesOf(container),
        endpoints: endpointsOf(container),
        details: {
          state: container.State.Status ?? 'unknown',
          configHash: labelsOf(container)[LABEL.configHash] ?? null,
          image: container.Config.Image ?? null,
          containers: found.length,
        },
      };
    });
  }

  /** One labelled container list: a tenant runs when any of its containers runs (as `describe`). */
  listRunning(signal: AbortSignal): Promise<ReadonlySet<string>> {
    return this.guard(signal, async () => {
      const found = await this.ctx.client.listContainers([`${LABEL.managed}=true`], signal);
      const running = new Set<string>();
      for (const container of found) {
        const tenantId = container.Labels?.[LABEL.tenantId];
        if (tenantId !== undefined && container.State === 'running') running.add(tenantId);
      }
      return running;
    });
  }

  async preflight(signal: AbortSignal): Promise<string> {
    try {
      await this.ctx.client.ping(signal);
    } catch (error) {
      throw mapDockerError(error);
    }
    return 'the Docker API answers /_ping';
  }

  mapError(error: unknown): ComputeError {
    return mapDockerError(error);
  }

  async close(): Promise<void> {
    this.ctx.client.close();
  }

  private async converge(
    operation: 'provision' | 'update',
    request: ComputeRequest,
    signal: AbortSignal,
  ): Promise<ComputeResult> {
    const problems = validateDockerConfig(request.config, this.ctx.hostPolicy);
    if (problems.length > 0) {
      const list = problems.map((p) => `${p.path} ${p.message}`).join('; ');
      throw new ComputeError('INVALID_CONFIG', `invalid docker config: ${list}`, {
        providerError: { problems },
      });
    }
    const result = await converge(this.ctx, request, signal);
    this.ctx.logger.info(
      { tenantId: request.tenant.id, executionId: request.executionId, operation, ...result.resources },
      `docker: ${operation} done`,
    );
    return result;
  }

  /** One quick run of the recorded health check; true when none is configured. */
  private async probe(container: ContainerInspect, signal: AbortSignal): Promise<boolean> {
    const check = runtimeInfoOf(container).healthCheck;
    if (check === undefined) return true;
    const target = hostAddress(container, check.port);
    return target !== undefined && (await probeOnce(check, target, signal));
  }

  private async inspectIfPresent(id: string, signal: AbortSignal): Promise<ContainerInspect | undefined> {
    try {
      return await this.ctx.client.inspectContainer(id, signal);
    } catch (error) {
      if (error instanceof DockerApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  private async guard<T>(signal: AbortSignal, run: () => Promise<T>): Promise<T> {
    try {
      signal.throwIfAborted();
      return await run();
    } catch (error) {
      throw toComputeError(error, signal);
    }
  }
}
