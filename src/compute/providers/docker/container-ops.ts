/**
 * The container-level steps the provider composes: create (or adopt what a concurrent or earlier
 * attempt created), start, wait until healthy, retire. Each step that fails throws a ComputeError
 * whose `partial` says which steps had succeeded and which engine ids exist.
 */
import { ComputeError } from '../../../domain/compute-error.js';
import type { ConfigHasher } from '../../../domain/config-hasher.js';
import type { Logger } from '../../../domain/logger.js';
import { DockerApiError, type DockerClient } from './docker-client.js';
import type { DockerConfig } from './docker-config.js';
import type { HostPolicy } from './host-policy.js';
import type { ContainerCreateBody, ContainerInspect, ContainerSummary } from './docker-types.js';
import { toComputeError } from './docker-errors.js';
import { LABEL, tenantSelector } from './container-spec.js';
import { hostAddress, isRunning, labelsOf, nameOf } from './container-view.js';
import { waitHealthy } from './health-check.js';

export interface DockerContext {
  readonly client: DockerClient;
  readonly logger: Logger;
  /** Grace period between SIGTERM and SIGKILL when a container is retired. */
  readonly stopTimeoutSeconds: number;
  /** Budget for cleaning up after a failure, when the caller's signal may already be aborted. */
  readonly cleanupTimeoutMs: number;
  /** The server's keyed hash, for the config-hash labels. */
  readonly hasher: ConfigHasher;
  /** What containers may take from the host (bind roots, host addresses). */
  readonly hostPolicy: HostPolicy;
}

/** Steps done so far in one call, for `ComputeError.partial`. */
export class Progress {
  readonly succeeded: string[] = [];
  resources: Record<string, string> = {};

  async step<T>(name: string, signal: AbortSignal, run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      this.succeeded.push(name);
      return result;
    } catch (error) {
      throw this.fail(name, toComputeError(error, signal));
    }
  }

  fail(step: string, error: ComputeError): ComputeError {
    const partial = { succeeded: [...this.succeeded], failed: [step], resources: { ...this.resources } };
    return new ComputeError(error.code, error.message, {
      classification: error.classification,
      ...(error.retryAfterMs !== undefined && { retryAfterMs: error.retryAfterMs }),
      ...(error.providerError !== undefined && { providerError: error.providerError }),
      partial,
      cause: error.cause ?? error,
    });
  }
}

/** How long a start waits for a concurrent start of the same container to settle. */
const JOIN_START_TIMEOUT_MS = 5_000;

/**
 * Starts the container, or joins a start already under way: Podman answers 500 "container state
 * improper" while another call (a concurrent attempt of the same request) is starting it. Then the
 * container is inspected until it runs; if it settles stopped, the start is tried again.
 */
export async function startOrJoin(ctx: DockerContext, id: string, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + JOIN_START_TIMEOUT_MS;
  for (;;) {
    try {
      await ctx.client.startContainer(id, signal);
      return;
    } catch (error) {
      if (!isStateImproper(error) || Date.now() > deadline) throw error;
    }
    if (isRunning(await ctx.client.inspectContainer(id, signal))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function isStateImproper(error: unknown): boolean {
  return (
    error instanceof DockerApiError &&
    error.status === 500 &&
    /state improper/i.test(JSON.stringify(error.body ?? null))
  );
}

export interface Created {
  readonly id: string;
  /** False when the container was made by another attempt of the same request (it is not ours to discard). */
  readonly createdHere: boolean;
}

/**
 * Creates the container, or adopts a same-named container of this tenant and config hash that a
 * concurrent attempt created (Docker answers 409, Podman 500 to the name clash). A same-named
 * container Lessor does not manage is a CONFLICT for a human to resolve.
 */
export async function createOrAdopt(
  ctx: DockerContext,
  tenantId: string,
  name: string,
  body: ContainerCreateBody,
  signal: AbortSignal,
): Promise<Created> {
  try {
    const id = await ctx.client.createContainer(name, body, signal);
    ctx.logger.info({ tenantId, containerId: id, containerName: name }, 'docker: container created');
    return { id, createdHere: true };
  } catch (error) {
    if (!(error instanceof DockerApiError) || (error.status !== 409 && error.status !== 500)) throw error;
    const ours = await ctx.client.listContainers(tenantSelector(tenantId), signal);
    // A container a concurrent call is still creating can hold the name before the labelled list
    // shows it (Podman): then the holder is asked directly, and judged by its own labels.
    const same = ours.find((c) => nameOf(c) === name) ?? (await holderOf(ctx, name, signal));
    if (same && labelsOf(same)[LABEL.tenantId] === tenantId) {
      if (labelsOf(same)[LABEL.configHash] === body.Labels[LABEL.configHash])
        return { id: same.Id, createdHere: false };
    } else if (same) {
      throw new ComputeError(
        'CONFLICT',
        `container name '${name}' is held by a container Lessor does not manage`,
        {
          classification: 'manual_intervention',
          providerError: error.toDetails(),
          cause: error,
        },
      );
    }
    throw error;
  }
}

async function holderOf(
  ctx: DockerContext,
  name: string,
  signal: AbortSignal,
): Promise<ContainerInspect | undefined> {
  try {
    return await ctx.client.inspectContainer(name, signal);
  } catch (error) {
    if (error instanceof DockerApiError && error.status === 404) return undefined;
    throw error;
  }
}

/**
 * Inspects the started container and waits for its health check (when configured). Returns the
 * inspect document, whose port map has the engine-assigned host ports.
 */
export async function awaitHealthy(
  ctx: DockerContext,
  id: string,
  config: DockerConfig,
  signal: AbortSignal,
  /** The container as just inspected after its start, when the caller has it (saves an engine call). */
  inspected?: ContainerInspect,
): Promise<ContainerInspect> {
  const container = inspected ?? (await ctx.client.inspectContainer(id, signal));
  const check = config.healthCheck;
  if (!isRunning(container)) throw unhealthy(id, `container is ${describeState(container)}`, 0);
  if (check === undefined) return container;
  const target = hostAddress(container, check.port);
  if (target === undefined) throw unhealthy(id, `port ${check.port}/tcp is not published`, 0);
  const outcome = await waitHealthy(check, target, signal, async () => {
    const now = await ctx.client.inspectContainer(id, signal);
    return isRunning(now) ? undefined : `container is ${describeState(now)}`;
  });
  if (!outcome.healthy) throw unhealthy(id, outcome.reason, outcome.attempts);
  return container;
}

function unhealthy(containerId: string, reason: string, attempts: number): ComputeError {
  return new ComputeError('HEALTH_CHECK_FAILED', `health check failed: ${reason}`, {
    providerError: { containerId, reason, attempts },
  });
}

function describeState(container: ContainerInspect): string {
  const { Status = 'unknown', ExitCode, OOMKilled } = container.State;
  if (OOMKilled === true) return `${Status} (killed: out of memory)`;
  return ExitCode !== undefined && Status !== 'running' ? `${Status} (exit code ${ExitCode})` : Status;
}

/** Stops (grace period) then force-removes; a container already gone counts as removed. */
export async function retire(
  ctx: DockerContext,
  container: ContainerSummary,
  signal: AbortSignal,
): Promise<void> {
  try {
    if (container.State === 'running')
      await ctx.client.stopContainer(container.Id, ctx.stopTimeoutSeconds, signal);
    await ctx.client.removeContainer(container.Id, signal);
    ctx.logger.info(
      { containerId: container.Id, containerName: nameOf(container) },
      'docker: container removed',
    );
  } catch (error) {
    if (error instanceof DockerApiError && error.status === 404) return;
    throw error;
  }
}

/** Best-effort removal after a failure, on its own budget: the caller's signal may have aborted. */
export async function discard(ctx: DockerContext, id: string): Promise<boolean> {
  try {
    await ctx.client.removeContainer(id, AbortSignal.timeout(ctx.cleanupTimeoutMs));
    ctx.logger.info({ containerId: id }, 'docker: failed new container removed');
    return true;
  } catch (error) {
    if (error instanceof DockerApiError && error.status === 404) return true;
    ctx.logger.warn({ containerId: id, err: error }, 'docker: could not remove failed new container');
    return false;
  }
}
