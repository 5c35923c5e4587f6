/**
 * Test support for the docker provider against the real Podman service that `scripts/setup-podman.sh` starts
 * (CONTRIBUTING.md, "Set-up"). Tests never skip when it is missing: `requirePodman` fails them with the
 * command that fixes it.
 */
import { randomBytes } from 'node:crypto';
import { silentLogger } from '../../../../domain/logger.js';
import { testHasher } from '../../../../domain/testing/test-hasher.js';
import type { JsonObject } from '../../../../domain/tenant.js';
import type { ComputeRequest, TenantRef } from '../../../provider.js';
import { DockerClient, parseDockerHost } from '../docker-client.js';
import type { ContainerSummary } from '../docker-types.js';
import { tenantSelector } from '../container-spec.js';
import { DockerProvider, dockerProviderFactory } from '../index.js';

export const PODMAN_HOST = process.env.DOCKER_HOST || 'unix:///run/lessor-podman.sock';
export const TEST_IMAGE = 'localhost/lessor-test-busybox:latest';

/**
 * The docker provider's `hostIp` in tests: containers publish on 127.0.0.2, never on the 127.0.0.1
 * every other test server listens on. Podman forwards a published port with a NAT rule that outlives
 * the port's reservation for a moment after the container exits; a 127.0.0.1 server of another test
 * given that port by the kernel then sees its connections refused (docs/providers/docker.md).
 */
export const TEST_HOST_IP = '127.0.0.2';

/**
 * httpd serving `$MODE` on 8080, so a test can see which config a container runs; it says so on
 * stdout (`serving <MODE>`) and on stderr (`listening on 8080`) as it starts.
 */
export const MODE_SERVER = [
  'sh',
  '-c',
  'mkdir -p /www && echo $MODE > /www/index.html && echo "serving $MODE" && echo "listening on 8080" >&2 && exec httpd -f -p 8080 -h /www',
];

/** Passes when nothing answers at `url` (connection refused or reset). */
export async function assertRefused(url: string): Promise<void> {
  const answered = await fetch(url, { signal: AbortSignal.timeout(3000) }).then(
    () => true,
    () => false,
  );
  if (answered) throw new Error(`${url} answered, but nothing should listen there`);
}

export function webConfig(mode: string, extra: Record<string, unknown> = {}): JsonObject {
  return {
    image: TEST_IMAGE,
    command: MODE_SERVER,
    env: { MODE: mode },
    ports: [{ containerPort: 8080, name: 'web' }],
    healthCheck: { type: 'http', port: 8080, path: '/', intervalMs: 100, timeoutMs: 1000, retries: 50 },
    ...extra,
  };
}

export function engineClient(): DockerClient {
  return new DockerClient(parseDockerHost(PODMAN_HOST)!);
}

/** Fails (never skips) when the engine or the test image is missing. */
export async function requirePodman(): Promise<void> {
  const client = engineClient();
  const hint =
    'run `bash scripts/setup-podman.sh` (installs Podman, starts its API service, builds the test image)';
  try {
    await client.ping(AbortSignal.timeout(5000)).catch((error: unknown) => {
      throw new Error(`no container engine answers on ${PODMAN_HOST}: ${hint}`, { cause: error });
    });
    await client.inspectImage(TEST_IMAGE, AbortSignal.timeout(5000)).catch((error: unknown) => {
      throw new Error(`test image ${TEST_IMAGE} is missing on ${PODMAN_HOST}: ${hint}`, { cause: error });
    });
  } finally {
    client.close();
  }
}

export async function makeProvider(options: Record<string, unknown> = {}): Promise<DockerProvider> {
  return dockerProviderFactory.create({
    options: {
      host: PODMAN_HOST,
      hostIp: TEST_HOST_IP,
      stopTimeoutSeconds: 0,
      cleanupTimeoutMs: 10_000,
      ...options,
    },
    defaults: {},
    timeoutMs: 60_000,
    dataDir: '/tmp',
    logger: silentLogger,
    hasher: testHasher,
  }) as Promise<DockerProvider>;
}

export function uniqueTenant(prefix: string): TenantRef {
  const suffix = randomBytes(4).toString('hex');
  return { id: `tid-${prefix}-${suffix}`, name: `dt-${prefix}-${suffix}` };
}

export function computeRequest(tenant: TenantRef, generation: number, config: JsonObject): ComputeRequest {
  return { tenant, generation, executionId: `exec-${tenant.name}-g${generation}`, config };
}

export async function tenantContainers(tenantId: string): Promise<ContainerSummary[]> {
  const client = engineClient();
  try {
    return await client.listContainers(tenantSelector(tenantId), AbortSignal.timeout(10_000));
  } finally {
    client.close();
  }
}

/** Cleanup for `after` hooks: force-removes every container of the given tenants. */
export async function removeTenants(tenants: readonly TenantRef[]): Promise<void> {
  const client = engineClient();
  try {
    for (const tenant of tenants) {
      for (const c of await client.listContainers(tenantSelector(tenant.id), AbortSignal.timeout(10_000))) {
        await client.removeContainer(c.Id, AbortSignal.timeout(10_000)).catch(() => {});
      }
    }
  } finally {
    client.close();
  }
}

export async function httpText(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return (await response.text()).trim();
}
