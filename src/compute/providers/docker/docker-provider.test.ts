/**
 * The docker provider against real Podman (`bash scripts/setup-podman.sh`); no mocks. Each test
 * uses its own tenant; `after` force-removes whatever the tenants left behind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../../domain/logger.js';
import { testHasher } from '../../../domain/testing/test-hasher.js';
import { ComputeError } from '../../../domain/compute-error.js';
import { freePort } from '../../../main/testing/free-port.js';
import type { TenantRef } from '../../provider.js';
import { createBody, LABEL, primaryName, transientName } from './container-spec.js';
import { asDockerConfig } from './docker-config.js';
import { DockerProvider } from './docker-provider.js';
import { NO_HOST_ACCESS } from './host-policy.js';
import {
  computeRequest,
  engineClient,
  httpText,
  makeProvider,
  removeTenants,
  requirePodman,
  tenantContainers,
  TEST_HOST_IP,
  uniqueTenant,
  webConfig,
} from './testing/podman.js';

const timeout = (): AbortSignal => AbortSignal.timeout(60_000);

describe('docker provider on Podman', () => {
  const tenants: TenantRef[] = [];
  let provider: DockerProvider;
  const tenant = (prefix: string): TenantRef => {
    const t = uniqueTenant(prefix);
    tenants.push(t);
    return t;
  };

  before(async () => {
    await requirePodman();
    provider = await makeProvider();
  });
  after(async () => {
    await provider?.close();
    await removeTenants(tenants);
  });

  test('a create→ready asks the engine only what it needs: no image look-up, describe from the list', async () => {
    const t = tenant('calls');
    const client = engineClient();
    const calls: string[] = [];
    for (const op of ['listContainers', 'inspectContainer', 'inspectImage', 'createContainer'] as const) {
      const original = client[op].bind(client) as (...args: unknown[]) => Promise<unknown>;
      (client as unknown as Record<string, unknown>)[op] = (...args: unknown[]) => {
        calls.push(op);
        return original(...args);
      };
    }
    const counted = new DockerProvider({
      client,
      logger: silentLogger,
      stopTimeoutSeconds: 0,
      cleanupTimeoutMs: 10_000,
      hasher: testHasher,
      hostPolicy: { ...NO_HOST_ACCESS, hostIp: TEST_HOST_IP },
    });
    try {
      const request = computeRequest(t, 1, webConfig('counted'));
      const made = await counted.provision(request, timeout());
      assert.deepEqual(calls.slice(0, 2), ['listContainers', 'createContainer']);
      assert.ok(!calls.includes('inspectImage'), calls.join());
      calls.length = 0;
      const observed = await counted.describe(request, timeout());
      assert.deepEqual(calls, ['listContainers']);
      assert.deepEqual([observed.running, observed.healthy], [true, true]);
      assert.deepEqual(observed.resources, made.resources);
      assert.deepEqual(observed.endpoints, made.endpoints);
    } finally {
      await counted.close();
    }
  });

  test('provision starts one container, reachable over HTTP on its auto-assigned host port', async () => {
    const t = tenant('prov');
    const result = await provider.provision(computeRequest(t, 1, webConfig('blue')), timeout());
    assert.equal(result.resources.containerName, primaryName(t.name));
    assert.match(result.endpoints[0]?.url ?? '', /^http:\/\/127\.0\.0\.2:\d+$/);
    assert.equal(result.endpoints[0]?.name, 'web');
    assert.equal(await httpText(result.endpoints[0].url), 'blue');
    const observed = await provider.describe(computeRequest(t, 1, webConfig('blue')), timeout());
    assert.deepEqual(
      {
        exists: observed.exists,
        running: observed.running,
        healthy: observed.healthy,
        generation: observed.generation,
      },
      { exists: true, running: true, healthy: true, generation: 1 },
    );
    assert.deepEqual(observed.resources, result.resources);
    assert.deepEqual(observed.endpoints, result.endpoints);
  });

  test('provision twice (and concurrently) leaves exactly one container', async () => {
    const t = tenant('twice');
    const request = computeRequest(t, 1, webConfig('one'));
    const [a, b] = await Promise.all([
      provider.provision(request, timeout()),
      provider.provision(request, timeout()),
    ]);
    const c = await provider.provision(request, timeout());
    assert.equal(a.resources.containerId, b.resources.containerId);
    assert.equal(a.resources.containerId, c.resources.containerId);
    assert.equal((await tenantContainers(t.id)).length, 1);
  });

  test('update replaces the container: one container, new env served, changes reported', async () => {
    const t = tenant('upd');
    const first = await provider.provision(computeRequest(t, 1, webConfig('blue')), timeout());
    const updated = await provider.update(computeRequest(t, 2, webConfig('green')), timeout());
    assert.notEqual(updated.resources.containerId, first.resources.containerId);
    assert.equal(updated.resources.containerName, primaryName(t.name), 'renamed to the steady name');
    assert.deepEqual(updated.changes, ['env']);
    assert.equal(await httpText(updated.endpoints[0]!.url), 'green');
    const left = await tenantContainers(t.id);
    assert.deepEqual(
      left.map((c) => c.Id),
      [updated.resources.containerId],
    );
    assert.equal(
      (await provider.describe(computeRequest(t, 2, webConfig('green')), timeout())).generation,
      2,
    );
  });

  test('update with a fixed host port (tcp health check) retires the old container first, keeps the port', async () => {
    const t = tenant('fixed');
    const hostPort = await freePort();
    const extra = {
      ports: [{ containerPort: 8080, hostPort }],
      healthCheck: { type: 'tcp', port: 8080, intervalMs: 100 },
    };
    await provider.provision(computeRequest(t, 1, webConfig('v1', extra)), timeout());
    const updated = await provider.update(computeRequest(t, 2, webConfig('v2', extra)), timeout());
    assert.equal(updated.endpoints[0]?.url, `http://${TEST_HOST_IP}:${hostPort}`);
    assert.equal(updated.endpoints[0]?.name, 'http');
    assert.equal(await httpText(updated.endpoints[0].url), 'v2');
    assert.equal((await tenantContainers(t.id)).length, 1);
  });

  test('a failed update (new container unhealthy) removes the new one and leaves the old serving', async () => {
    const t = tenant('updfail');
    const first = await provider.provision(computeRequest(t, 1, webConfig('stay')), timeout());
    const broken = webConfig('broken', {
      healthCheck: { type: 'http', port: 8080, path: '/missing', intervalMs: 50, timeoutMs: 500, retries: 3 },
    });
    await assert.rejects(provider.update(computeRequest(t, 2, broken), timeout()), (error: unknown) => {
      assert.ok(error instanceof ComputeError);
      assert.equal(error.code, 'HEALTH_CHECK_FAILED');
      assert.deepEqual(error.partial?.failed, ['health-check']);
      assert.ok(error.partial?.resources?.containerId, 'the removed new container is recorded');
      return true;
    });
    const left = await tenantContainers(t.id);
    assert.deepEqual(
      left.map((c) => c.Id),
      [first.resources.containerId],
    );
    assert.equal(await httpText(first.endpoints[0]!.url), 'stay');
  });

  test('delete twice removes everything and succeeds; describe then reports nothing', async () => {
    const t = tenant('del');
    await provider.provision(computeRequest(t, 1, webConfig('x')), timeout());
    await provider.delete(computeRequest(t, 1, webConfig('x')), timeout());
    await provider.delete(computeRequest(t, 1, webConfig('x')), timeout());
    assert.equal((await tenantContainers(t.id)).length, 0);
    assert.equal((await provider.describe(computeRequest(t, 1, webConfig('x')), timeout())).exists, false);
  });

  test('a new provider instance finds, describes and deletes what an old one made', async () => {
    const t = tenant('restart');
    const old = await makeProvider();
    const made = await old.provision(computeRequest(t, 1, webConfig('old')), timeout());
    await old.close();
    const fresh = await makeProvider();
    try {
      const observed = await fresh.describe(computeRequest(t, 1, webConfig('old')), timeout());
      assert.deepEqual(observed.resources, made.resources);
      await fresh.delete(computeRequest(t, 1, webConfig('old')), timeout());
      assert.equal((await tenantContainers(t.id)).length, 0);
    } finally {
      await fresh.close();
    }
  });

  test('a retry after a crash between create and start adopts the created container', async () => {
    const t = tenant('crash');
    const request = computeRequest(t, 1, webConfig('adopted'));
    const client = engineClient();
    const body = createBody(request, asDockerConfig(request.config), testHasher, []);
    const id = await client.createContainer(primaryName(t.name), body, timeout());
    client.close();
    const result = await provider.provision(request, timeout());
    assert.equal(result.resources.containerId, id);
    assert.equal(await httpText(result.endpoints[0]!.url), 'adopted');
    assert.equal((await tenantContainers(t.id)).length, 1);
  });

  test('an update retried after a crash mid-replacement finishes it: old retired, new renamed', async () => {
    const t = tenant('midupd');
    await provider.provision(computeRequest(t, 1, webConfig('old')), timeout());
    const request = computeRequest(t, 2, webConfig('new'));
    const hash = testHasher(request.config);
    const client = engineClient();
    const id = await client.createContainer(
      transientName(t.name, 2, hash),
      createBody(request, asDockerConfig(request.config), testHasher, []),
      timeout(),
    );
    client.close();
    const result = await provider.update(request, timeout());
    assert.deepEqual(result.resources, { containerId: id, containerName: primaryName(t.name) });
    assert.equal(await httpText(result.endpoints[0]!.url), 'new');
    assert.equal((await tenantContainers(t.id)).length, 1);
  });

  test('secret env reaches the container but no label or result', async () => {
    const t = tenant('secret');
    const config = webConfig('s', { secretEnv: { API_TOKEN: 'tok-5ecret-value' } });
    const result = await provider.provision(computeRequest(t, 1, config), timeout());
    const client = engineClient();
    const inspected = await client.inspectContainer(result.resources.containerId!, timeout());
    const env = (await rawInspect(client, result.resources.containerId!)).Config.Env;
    client.close();
    assert.ok(env.includes('API_TOKEN=tok-5ecret-value'));
    assert.doesNotMatch(JSON.stringify(inspected.Config.Labels), /tok-5ecret-value/);
    assert.doesNotMatch(JSON.stringify(result), /tok-5ecret-value/);
    assert.equal(inspected.Config.Labels?.[LABEL.tenantId], t.id);
  });

  test('describe of a stopped container: exists, not running, not healthy', async () => {
    const t = tenant('stopped');
    const made = await provider.provision(computeRequest(t, 1, webConfig('z')), timeout());
    const client = engineClient();
    await client.stopContainer(made.resources.containerId!, 0, timeout());
    client.close();
    const observed = await provider.describe(computeRequest(t, 1, webConfig('z')), timeout());
    assert.deepEqual([observed.exists, observed.running, observed.healthy], [true, false, false]);
    const again = await provider.provision(computeRequest(t, 1, webConfig('z')), timeout());
    assert.equal(again.resources.containerId, made.resources.containerId, 'provision starts it again');
    assert.equal((await provider.describe(computeRequest(t, 1, webConfig('z')), timeout())).healthy, true);
  });
});

async function rawInspect(
  client: ReturnType<typeof engineClient>,
  id: string,
): Promise<{ Config: { Env: string[] } }> {
  return (await client.inspectContainer(id, timeout())) as unknown as { Config: { Env: string[] } };
}
