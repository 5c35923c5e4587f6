/**
 * The docker provider's host policy against real Podman: what the engine is asked to do is what the
 * admin allowed — loopback-only ports, binds only under allowed roots (read-only unless writable,
 * symlinks resolved), no host network — and a refused config creates no container.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ComputeError } from '../../../domain/compute-error.js';
import type { JsonObject } from '../../../domain/tenant.js';
import type { TenantRef } from '../../provider.js';
import type { DockerProvider } from './docker-provider.js';
import type { PortBinding } from './docker-types.js';
import {
  computeRequest,
  engineClient,
  httpText,
  makeProvider,
  removeTenants,
  requirePodman,
  tenantContainers,
  TEST_HOST_IP,
  TEST_IMAGE,
  uniqueTenant,
  webConfig,
} from './testing/podman.js';

const health = { type: 'http', port: 8080, path: '/', intervalMs: 100, timeoutMs: 1000, retries: 50 };

/** Serves "ro" or "rw" (can it write under /site?) followed by the host file /site/index.txt. */
const bindProbeConfig = (source: string, extra: JsonObject = {}): JsonObject => ({
  image: TEST_IMAGE,
  command: [
    'sh',
    '-c',
    'mkdir -p /www; if touch /site/probe 2>/dev/null; then echo rw; else echo ro; fi > /www/index.html;' +
      ' cat /site/index.txt >> /www/index.html; exec httpd -f -p 8080 -h /www',
  ],
  ports: [{ containerPort: 8080 }],
  healthCheck: health,
  volumes: [{ source, target: '/site', ...extra }],
});

describe('docker provider host policy on Podman', () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'lessor-docker-binds-')));
  const tenants: TenantRef[] = [];
  const providers: DockerProvider[] = [];
  const timeout = () => AbortSignal.timeout(60_000);
  const tenant = (prefix: string): TenantRef => {
    const t = uniqueTenant(prefix);
    tenants.push(t);
    return t;
  };
  const provider = async (options: Record<string, unknown> = {}): Promise<DockerProvider> => {
    const made = await makeProvider(options);
    providers.push(made);
    return made;
  };
  const hostBindings = async (containerId: string): Promise<readonly PortBinding[]> => {
    const client = engineClient();
    try {
      const inspect = await client.inspectContainer(containerId, timeout());
      return inspect.NetworkSettings?.Ports?.['8080/tcp'] ?? [];
    } finally {
      client.close();
    }
  };
  const refused = async (p: DockerProvider, config: JsonObject, path: string): Promise<void> => {
    const t = tenant('refused');
    assert.ok(
      p.validate(config).some((problem) => problem.path === path),
      `validate names ${path}`,
    );
    await assert.rejects(p.provision(computeRequest(t, 1, config), timeout()), (error: unknown) => {
      assert.ok(error instanceof ComputeError);
      assert.equal(error.code, 'INVALID_CONFIG', error.message);
      return true;
    });
    assert.equal((await tenantContainers(t.id)).length, 0, 'no container was created');
  };

  before(async () => {
    await requirePodman();
    for (const dir of ['data/site', 'ro/site', 'secret']) mkdirSync(join(base, dir), { recursive: true });
    writeFileSync(join(base, 'data/site/index.txt'), 'data file\n');
    writeFileSync(join(base, 'ro/site/index.txt'), 'ro file\n');
    writeFileSync(join(base, 'secret/index.txt'), 'host secret\n');
    symlinkSync(join(base, 'secret'), join(base, 'data/escape'));
  });
  after(async () => {
    for (const p of providers) await p.close();
    await removeTenants(tenants);
    rmSync(base, { recursive: true, force: true });
  });

  // The provider's `hostIp` is TEST_HOST_IP (127.0.0.2) here; the product default, 127.0.0.1, is
  // what host-policy.test.ts and docker-config.test.ts check.
  test('a published port binds the provider hostIp on the engine; any other address needs allowedHostIps', async () => {
    const p = await provider({ allowedHostIps: ['127.0.0.3'] });
    const t = tenant('hostip');
    const loopback = await p.provision(computeRequest(t, 1, webConfig('lo')), timeout());
    assert.deepEqual(
      (await hostBindings(loopback.resources.containerId!)).map((b) => b.HostIp),
      [TEST_HOST_IP],
    );
    const other = webConfig('two', { ports: [{ containerPort: 8080, name: 'web', hostIp: '127.0.0.3' }] });
    const moved = await p.update(computeRequest(t, 2, other), timeout());
    assert.deepEqual(
      (await hostBindings(moved.resources.containerId!)).map((b) => b.HostIp),
      ['127.0.0.3'],
    );
    assert.match(moved.endpoints[0]!.url, /^http:\/\/127\.0\.0\.3:\d+$/);
    assert.equal(await httpText(moved.endpoints[0]!.url), 'two');
    const everywhere = webConfig('all', { ports: [{ containerPort: 8080, hostIp: '0.0.0.0' }] });
    await refused(p, everywhere, 'ports.0.hostIp');
  });

  test('bind mounts are refused unless the admin allowed a root', async () => {
    await refused(await provider(), bindProbeConfig(join(base, 'data/site')), 'volumes.0.source');
  });

  test('a bind under a read-only root is mounted read-only; under a writable root read-write', async () => {
    const p = await provider({
      allowedBindRoots: [{ path: join(base, 'data'), writable: true }, { path: join(base, 'ro') }],
    });
    const readOnly = await p.provision(
      computeRequest(tenant('ro'), 1, bindProbeConfig(join(base, 'ro/site'))),
      timeout(),
    );
    assert.equal(await httpText(readOnly.endpoints[0]!.url), 'ro\nro file');
    const writable = await p.provision(
      computeRequest(tenant('rw'), 1, bindProbeConfig(join(base, 'data/site'))),
      timeout(),
    );
    assert.equal(await httpText(writable.endpoints[0]!.url), 'rw\ndata file');
    await refused(p, bindProbeConfig(join(base, 'ro/site'), { readOnly: false }), 'volumes.0.readOnly');
  });

  test('a symlink inside an allowed root that leads out of it is refused', async () => {
    const p = await provider({ allowedBindRoots: [{ path: join(base, 'data'), writable: true }] });
    await refused(p, bindProbeConfig(join(base, 'data/escape')), 'volumes.0.source');
    await refused(p, bindProbeConfig(`${join(base, 'data')}/../secret`), 'volumes.0.source');
  });

  test('host, container: and ns: network modes are refused', async () => {
    const p = await provider();
    for (const network of ['host', 'container:lessor-anything', 'ns:/proc/1/ns/net']) {
      await refused(p, webConfig('net', { network }), 'network');
    }
  });
});
