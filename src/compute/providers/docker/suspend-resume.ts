/**
 * Suspend and resume of a tenant's container. Suspend stops every running container of the tenant
 * (SIGTERM, SIGKILL after the provider's stop timeout) and removes nothing: container, volumes and
 * writable layer stay. Resume starts the current container — the same id — and waits for the health
 * check recorded on it when it was made, so it comes back exactly as it was (a spec changed
 * meanwhile is applied by an update afterwards). Both are idempotent.
 */
import { ComputeError } from '../../../domain/compute-error.js';
import type { ComputeRequest, ComputeResult, LogLine, LogRequest } from '../../provider.js';
import { tenantSelector } from './container-spec.js';
import { endpointsOf, pickCurrent, resourcesOf, runtimeInfoOf } from './container-view.js';
import { awaitHealthy, Progress, startOrJoin, type DockerContext } from './container-ops.js';
import type { DockerConfig } from './docker-config.js';
import { decodeLogStream } from './docker-logs.js';

export async function suspendContainers(
  ctx: DockerContext,
  request: ComputeRequest,
  signal: AbortSignal,
): Promise<ComputeResult> {
  const progress = new Progress();
  const found = await progress.step('observe', signal, () =>
    ctx.client.listContainers(tenantSelector(request.tenant.id), signal),
  );
  for (const container of found.filter((c) => c.State === 'running')) {
    progress.resources = { containerId: container.Id };
    await progress.step(`stop:${container.Id.slice(0, 12)}`, signal, () =>
      ctx.client.stopContainer(container.Id, ctx.stopTimeoutSeconds, signal),
    );
  }
  const current = pickCurrent(found);
  ctx.logger.info({ tenantId: request.tenant.id, containerId: current?.Id }, 'docker: tenant suspended');
  if (!current) return { resources: {}, endpoints: [] };
  const inspect = await ctx.client.inspectContainer(current.Id, signal);
  return { resources: resourcesOf(inspect), endpoints: [] };
}

export async function resumeContainer(
  ctx: DockerContext,
  request: ComputeRequest,
  signal: AbortSignal,
): Promise<ComputeResult> {
  const progress = new Progress();
  const found = await progress.step('observe', signal, () =>
    ctx.client.listContainers(tenantSelector(request.tenant.id), signal),
  );
  const current = pickCurrent(found);
  if (!current) {
    throw new ComputeError('NOT_FOUND', `tenant ${request.tenant.name} has no container to resume`);
  }
  progress.resources = { containerId: current.Id };
  await progress.step('start', signal, () => startOrJoin(ctx, current.Id, signal));
  // One inspect after the start serves both the health check recorded on the container and the
  // published ports it probes (resume→ready is measured against a bare start + check: bench/).
  const started = await ctx.client.inspectContainer(current.Id, signal);
  const check = runtimeInfoOf(started).healthCheck;
  const config = (check === undefined ? {} : { healthCheck: check }) as DockerConfig;
  const healthy = await awaitHealthy(ctx, current.Id, config, signal, started);
  ctx.logger.info({ tenantId: request.tenant.id, containerId: current.Id }, 'docker: tenant resumed');
  return { resources: resourcesOf(healthy), endpoints: endpointsOf(healthy) };
}

/** The current container's output; NOT_FOUND when the tenant has none. */
export async function* containerLogs(
  ctx: DockerContext,
  request: LogRequest,
  signal: AbortSignal,
): AsyncGenerator<LogLine> {
  const found = await ctx.client.listContainers(tenantSelector(request.tenant.id), signal);
  const current = pickCurrent(found);
  if (!current) throw new ComputeError('NOT_FOUND', `tenant ${request.tenant.name} has no container`);
  const inspect = await ctx.client.inspectContainer(current.Id, signal);
  const body = await ctx.client.containerLogs(
    current.Id,
    {
      follow: request.follow,
      ...(request.tail !== undefined && { tail: request.tail }),
      ...(request.sinceMs !== undefined && { sinceSeconds: request.sinceMs / 1000 }),
    },
    signal,
  );
  try {
    yield* decodeLogStream(body as AsyncIterable<Buffer>, inspect.Config.Tty === true);
  } finally {
    body.destroy();
  }
}
