/**
 * Provision and update are one idempotent operation: "exactly one running, healthy container of
 * this tenant with this config hash". Every call observes the engine first (by tenant label):
 *
 * - a container with the same config hash exists → adopt it (start it if stopped), check health,
 *   remove any other container of the tenant; never a second create;
 * - otherwise create the new one. With containers of an older config around, the new one starts
 *   under a transient name on its own auto-assigned ports, passes its health check, then the old
 *   ones are retired and the new one renamed to `lessor-<tenant-name>` (no downtime). When the config
 *   pins a host port, old and new cannot coexist: the old ones are retired first.
 * - a new container that fails to start or to become healthy (or whose call is aborted) is removed
 *   again, so a failure leaves no duplicate; `partial` records what was made.
 */
import { ComputeError } from '../../../domain/compute-error.js';
import { DockerApiError } from './docker-client.js';
import { asDockerConfig, hasFixedHostPort, type DockerConfig } from './docker-config.js';
import type { ContainerInspect, ContainerSummary } from './docker-types.js';
import { bindsFor, planVolumes } from './host-policy.js';
import type { ComputeRequest, ComputeResult } from '../../provider.js';
import {
  changedFields,
  createBody,
  fieldHashes,
  LABEL,
  primaryName,
  requestHash,
  tenantSelector,
  transientName,
} from './container-spec.js';
import { endpointsOf, labelsOf, nameOf, pickCurrent, resourcesOf } from './container-view.js';
import {
  awaitHealthy,
  createOrAdopt,
  discard,
  Progress,
  startOrJoin,
  retire,
  type DockerContext,
} from './container-ops.js';

const BUILTIN_NETWORK_MODES = new Set([
  'bridge',
  'host',
  'none',
  'default',
  'private',
  'slirp4netns',
  'pasta',
]);

export async function converge(
  ctx: DockerContext,
  request: ComputeRequest,
  signal: AbortSignal,
): Promise<ComputeResult> {
  const config = asDockerConfig(request.config);
  const hash = requestHash(request, ctx.hasher);
  const progress = new Progress();
  const found = await progress.step('observe', signal, () =>
    ctx.client.listContainers(tenantSelector(request.tenant.id), signal),
  );
  const keep = pickCurrent(found.filter((c) => labelsOf(c)[LABEL.configHash] === hash));
  let stale = found.filter((c) => c !== keep);
  const changes = reportChanges(ctx, request, config, keep, stale);
  const fixedPorts = hasFixedHostPort(config);
  if (fixedPorts && stale.length > 0) {
    await retireAll(ctx, stale, progress, signal);
    stale = [];
  }
  const container = keep
    ? await reuse(ctx, keep, config, progress, signal)
    : await launch(ctx, request, config, hash, stale.length > 0, progress, signal);
  await retireAll(ctx, stale, progress, signal).catch((error: ComputeError) => {
    throw error.code === 'PROVIDER_TIMEOUT' ? error : asPartialFailure(error, container);
  });
  const settled = await settleName(ctx, container, primaryName(request.tenant.name), signal);
  return { resources: resourcesOf(settled), endpoints: endpointsOf(settled), ...(changes && { changes }) };
}

/** What differs from the container being replaced; nothing to report on a first provision. */
function reportChanges(
  ctx: DockerContext,
  request: ComputeRequest,
  config: DockerConfig,
  keep: ContainerSummary | undefined,
  stale: readonly ContainerSummary[],
): string[] | undefined {
  const previous = pickCurrent(stale);
  if (previous === undefined) return keep ? [] : undefined;
  const fields = fieldHashes(request.tenant.id, config, ctx.hasher);
  return changedFields(labelsOf(previous)[LABEL.configFields], fields);
}

/** The new container runs and is healthy, but an old one is still there: retry to finish. */
function asPartialFailure(error: ComputeError, container: ContainerInspect): ComputeError {
  return new ComputeError(
    'PARTIAL_FAILURE',
    `new container is healthy, an old one was not removed: ${error.message}`,
    {
      ...(error.providerError !== undefined && { providerError: error.providerError }),
      ...(error.partial && { partial: { ...error.partial, resources: resourcesOf(container) } }),
      cause: error,
    },
  );
}

/** An existing container of this config (an earlier attempt made it): start it if needed, check it. */
async function reuse(
  ctx: DockerContext,
  keep: ContainerSummary,
  config: DockerConfig,
  progress: Progress,
  signal: AbortSignal,
): Promise<ContainerInspect> {
  progress.resources = { containerId: keep.Id, containerName: nameOf(keep) };
  if (keep.State !== 'running') await progress.step('start', signal, () => startOrJoin(ctx, keep.Id, signal));
  return progress.step('health-check', signal, () => awaitHealthy(ctx, keep.Id, config, signal));
}

async function launch(
  ctx: DockerContext,
  request: ComputeRequest,
  config: DockerConfig,
  hash: string,
  beside: boolean,
  progress: Progress,
  signal: AbortSignal,
): Promise<ContainerInspect> {
  const { tenant, generation } = request;
  const name = beside ? transientName(tenant.name, generation, hash) : primaryName(tenant.name);
  const network = namedNetwork(config);
  if (network !== undefined) {
    await progress.step('preflight', signal, () => ctx.client.inspectNetwork(network, signal));
  }
  const body = createBody(
    request,
    config,
    ctx.hasher,
    resolvedBinds(ctx, config, tenant.id),
    ctx.hostPolicy.hostIp,
  );
  const created = await progress.step('create', signal, () =>
    createOrAdopt(ctx, tenant.id, name, body, signal),
  );
  progress.resources = { containerId: created.id, containerName: name };
  try {
    await progress.step('start', signal, () => startOrJoin(ctx, created.id, signal));
    return await progress.step('health-check', signal, () => awaitHealthy(ctx, created.id, config, signal));
  } catch (error) {
    if (created.createdHere) await discard(ctx, created.id);
    throw error;
  }
}

/**
 * A named network must exist before the create: Podman answers a create on a missing network with 500, which would
 * read as a transient failure. The image needs no look-up of its own: a create of an image that is
 * not present locally (no registry is assumed) fails with 404, which maps to IMAGE_UNAVAILABLE
 * exactly as an image inspect's 404 did, and saves an engine round trip per provision.
 */
function namedNetwork(config: DockerConfig): string | undefined {
  const network = config.network;
  const named = network !== undefined && !BUILTIN_NETWORK_MODES.has(network) && !network.includes(':');
  return named ? network : undefined;
}

/**
 * Bind sources resolved again right before the create (a link may have changed since the config
 * was validated); the engine gets the resolved paths, so it mounts what was checked.
 */
function resolvedBinds(ctx: DockerContext, config: DockerConfig, tenantId: string): string[] {
  const plan = planVolumes(config.volumes, ctx.hostPolicy);
  if (plan.problems.length > 0) {
    const list = plan.problems.map((p) => `${p.path} ${p.message}`).join('; ');
    throw new ComputeError('INVALID_CONFIG', `invalid docker config: ${list}`, {
      providerError: { problems: plan.problems },
    });
  }
  return bindsFor(plan.mounts, tenantId);
}

async function retireAll(
  ctx: DockerContext,
  stale: readonly ContainerSummary[],
  progress: Progress,
  signal: AbortSignal,
): Promise<void> {
  for (const container of stale) {
    await progress.step(`remove-old:${nameOf(container)}`, signal, () => retire(ctx, container, signal));
  }
}

/** Gives the surviving container the steady name; best effort, as names are only a convenience. */
async function settleName(
  ctx: DockerContext,
  container: ContainerInspect,
  name: string,
  signal: AbortSignal,
): Promise<ContainerInspect> {
  if (nameOf(container) === name) return container;
  try {
    await ctx.client.renameContainer(container.Id, name, signal);
    return { ...container, Name: `/${name}` };
  } catch (error) {
    const status = error instanceof DockerApiError ? error.status : undefined;
    ctx.logger.warn({ containerId: container.Id, name, status }, 'docker: could not rename container');
    return container;
  }
}
