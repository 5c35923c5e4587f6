/**
 * The baseline for (2): the same container Lessor's docker provider makes (same create body, from
 * the provider's own `createBody`), created, started and health-checked directly through the
 * engine API with the provider's own client and health check — no store, no workflow, no controller.
 */
import { randomBytes } from 'node:crypto';
import { keyedConfigHasher } from '../../src/domain/config-hasher.js';
import type { JsonObject } from '../../src/domain/tenant.js';
import { createBody } from '../../src/compute/providers/docker/container-spec.js';
import { hostAddress, isRunning } from '../../src/compute/providers/docker/container-view.js';
import { DockerClient, parseDockerHost } from '../../src/compute/providers/docker/docker-client.js';
import type { DockerConfig } from '../../src/compute/providers/docker/docker-config.js';
import { waitHealthy } from '../../src/compute/providers/docker/health-check.js';
import { wallMs } from './stats.js';

export const PODMAN_HOST = process.env.LESSOR_BENCH_DOCKER_HOST ?? 'unix:///run/lessor-podman.sock';
export const BENCH_IMAGE = 'localhost/lessor-test-busybox:latest';

/** Labels need a keyed hash as the provider's do; the key only has to last one bench run. */
const hasher = keyedConfigHasher(randomBytes(32));

/** httpd on 8080, probed every 50 ms (the provider's default 1 s interval would quantise both sides alike). */
export const CONTAINER_CONFIG = {
  image: BENCH_IMAGE,
  command: ['sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www'],
  ports: [{ containerPort: 8080 }],
  healthCheck: { type: 'http', port: 8080, path: '/', intervalMs: 50 },
} as const satisfies DockerConfig;

export function dockerClient(): DockerClient {
  const endpoint = parseDockerHost(PODMAN_HOST);
  if (!endpoint) throw new Error(`bad docker host ${PODMAN_HOST}`);
  return new DockerClient(endpoint);
}

/** Creates, starts and health-checks one container; returns create→healthy ms and removes it. */
export async function directRun(client: DockerClient, index: number): Promise<number> {
  const signal = AbortSignal.timeout(60_000);
  const config = CONTAINER_CONFIG as unknown as DockerConfig;
  const tenant = { id: `bench-direct-${randomBytes(4).toString('hex')}`, name: `bench-direct-${index}` };
  const request = {
    tenant,
    generation: 1,
    executionId: `direct-${index}`,
    config: config as unknown as JsonObject,
  };
  const t0 = wallMs();
  const id = await client.createContainer(
    `lessor-${tenant.name}-${randomBytes(3).toString('hex')}`,
    createBody(request, config, hasher, []),
    signal,
  );
  try {
    await client.startContainer(id, signal);
    const container = await client.inspectContainer(id, signal);
    if (!isRunning(container)) throw new Error('direct container is not running');
    const check = config.healthCheck!;
    const target = hostAddress(container, check.port);
    if (!target) throw new Error('port 8080 not published');
    const outcome = await waitHealthy(check, target, signal, async () => {
      const now = await client.inspectContainer(id, signal);
      return isRunning(now) ? undefined : 'container stopped';
    });
    if (!outcome.healthy) throw new Error(`direct container unhealthy: ${outcome.reason}`);
    return wallMs() - t0;
  } finally {
    await client.removeContainer(id, AbortSignal.timeout(30_000)).catch(() => {});
  }
}
