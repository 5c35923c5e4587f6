/**
 * What the container engine (Podman's Docker-compatible API) says runs for Lessor's tenants, found
 * by the `lessor.tenant-id` label — never by asking Lessor. Cleanup removes every container whose
 * tenant name starts with the suite's prefix, so `after` hooks leave nothing behind.
 */
import { request } from 'node:http';
import { parseDockerHost } from '../../src/compute/providers/docker/docker-client.js';
import { engineClient, PODMAN_HOST, TEST_IMAGE } from '../../src/compute/providers/docker/testing/podman.js';
import type { JsonObject } from '../../src/domain/tenant.js';

export { requirePodman, TEST_IMAGE } from '../../src/compute/providers/docker/testing/podman.js';

export interface TenantContainer {
  readonly id: string;
  readonly name: string;
  readonly state: string;
  /** The image reference the container was created from. */
  readonly image: string;
  readonly tenantId: string;
  readonly tenantName: string;
}

/** The suites' busybox httpd container: serves `$MODE` on 8080, health-checked over HTTP. */
export function modeServerConfig(mode: string): JsonObject {
  return {
    image: TEST_IMAGE,
    command: ['sh', '-c', 'mkdir -p /www && echo $MODE > /www/index.html && exec httpd -f -p 8080 -h /www'],
    env: { MODE: mode },
    ports: [{ containerPort: 8080 }],
    healthCheck: { type: 'http', port: 8080, path: '/', intervalMs: 100, timeoutMs: 1000, retries: 100 },
  };
}

async function withClient<T>(fn: (client: ReturnType<typeof engineClient>) => Promise<T>): Promise<T> {
  const client = engineClient();
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** Every Lessor-managed container whose tenant name starts with `prefix`, by tenant id. */
export function containersByTenant(prefix: string): Promise<Map<string, TenantContainer[]>> {
  return withClient(async (client) => {
    const all = await client.listContainers(['lessor.managed=true'], AbortSignal.timeout(15_000));
    const byTenant = new Map<string, TenantContainer[]>();
    for (const summary of all) {
      const labels = summary.Labels ?? {};
      const tenantName = labels['lessor.tenant-name'] ?? '';
      if (!tenantName.startsWith(prefix)) continue;
      const tenantId = labels['lessor.tenant-id'] ?? '?';
      const container: TenantContainer = {
        id: summary.Id,
        name: (summary.Names?.[0] ?? '').replace(/^\//, ''),
        state: summary.State ?? '?',
        image: summary.Image ?? '?',
        tenantId,
        tenantName,
      };
      byTenant.set(tenantId, [...(byTenant.get(tenantId) ?? []), container]);
    }
    return byTenant;
  });
}

/** The container's environment as a map. */
export function containerEnv(id: string): Promise<Record<string, string>> {
  return withClient(async (client) => {
    const inspect = (await client.inspectContainer(id, AbortSignal.timeout(15_000))) as unknown as {
      Config: { Env?: string[] };
    };
    return Object.fromEntries(
      (inspect.Config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
    );
  });
}

/** Another name for the test image (`POST /images/{name}/tag`): a "new image" that exists. */
export async function tagTestImage(tag: string): Promise<string> {
  const repo = TEST_IMAGE.slice(0, TEST_IMAGE.lastIndexOf(':'));
  await engineRequest('POST', `/images/${encodeURIComponent(TEST_IMAGE)}/tag?repo=${repo}&tag=${tag}`);
  return `${repo}:${tag}`;
}

/** Removes a name `tagTestImage` made (the image itself stays: it has other names). */
export async function untagImage(reference: string): Promise<void> {
  await engineRequest('DELETE', `/images/${encodeURIComponent(reference)}`);
}

/** One call to the engine's API over its socket; a status of 300 or more throws. */
function engineRequest(method: 'POST' | 'DELETE', path: string): Promise<void> {
  const endpoint = parseDockerHost(PODMAN_HOST);
  const target =
    endpoint?.kind === 'unix'
      ? { socketPath: endpoint.socketPath }
      : { host: endpoint?.host, port: endpoint?.port };
  return new Promise((resolve, reject) => {
    const req = request({ ...target, method, path, timeout: 15_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status < 300) resolve();
        else reject(new Error(`${method} ${path}: HTTP ${status} ${body}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Removes a container behind Lessor's back (`DELETE /containers/{id}?force=true`). */
export function removeContainer(id: string): Promise<void> {
  return withClient((client) => client.removeContainer(id, AbortSignal.timeout(15_000)));
}

/** Cleanup for `after` hooks: force-removes every container of the suite's tenants. */
export async function removeContainersWithPrefix(prefix: string): Promise<void> {
  const byTenant = await containersByTenant(prefix);
  for (const containers of byTenant.values()) {
    for (const container of containers) await removeContainer(container.id).catch(() => undefined);
  }
}
