/**
 * How the docker provider fails, against real Podman: every failure is a ComputeError with the
 * standard code, and no failed call leaves a container behind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ComputeError, type ComputeErrorCode } from '../../../domain/compute-error.js';
import type { JsonObject } from '../../../domain/tenant.js';
import type { TenantRef } from '../../provider.js';
import type { DockerProvider } from './docker-provider.js';
import {
  computeRequest,
  makeProvider,
  removeTenants,
  requirePodman,
  tenantContainers,
  TEST_IMAGE,
  uniqueTenant,
  webConfig,
} from './testing/podman.js';

const never = {
  type: 'http',
  port: 8080,
  path: '/missing',
  intervalMs: 100,
  timeoutMs: 500,
  retries: 10_000,
};

function rejectsWith(code: ComputeErrorCode, check?: (error: ComputeError) => void) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ComputeError, `expected a ComputeError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    check?.(error);
    return true;
  };
}

describe('docker provider failures on Podman', () => {
  const tenants: TenantRef[] = [];
  let provider: DockerProvider;
  const tenant = (prefix: string): TenantRef => {
    const t = uniqueTenant(prefix);
    tenants.push(t);
    return t;
  };
  const provisionFails = async (
    config: JsonObject,
    code: ComputeErrorCode,
    signal: AbortSignal = AbortSignal.timeout(60_000),
    check?: (error: ComputeError) => void,
  ): Promise<void> => {
    const t = tenant(code.toLowerCase().slice(0, 8));
    await assert.rejects(provider.provision(computeRequest(t, 1, config), signal), rejectsWith(code, check));
    assert.equal((await tenantContainers(t.id)).length, 0, 'no container left behind');
  };

  before(async () => {
    await requirePodman();
    provider = await makeProvider();
  });
  after(async () => {
    await provider?.close();
    await removeTenants(tenants);
  });

  test('an image absent from the engine → IMAGE_UNAVAILABLE (non-retriable), nothing created', () =>
    provisionFails({ image: 'localhost/lessor-no-such-image:1' }, 'IMAGE_UNAVAILABLE', undefined, (error) => {
      assert.equal(error.classification, 'non_retriable');
      assert.equal((error.providerError as { status: number }).status, 404);
      // No image look-up of its own: the create's 404 says it, and nothing was made.
      assert.equal((error.providerError as { operation: string }).operation, 'createContainer');
      assert.deepEqual(error.partial?.succeeded, ['observe']);
      assert.deepEqual(error.partial?.failed, ['create']);
    }));

  test('a network that does not exist → INVALID_CONFIG, found before the create', () =>
    provisionFails(webConfig('n', { network: 'lessor-no-such-network' }), 'INVALID_CONFIG', undefined, (e) =>
      assert.deepEqual(e.partial?.failed, ['preflight']),
    ));

  test('a config failing the semantic checks → INVALID_CONFIG before the engine is touched', () =>
    provisionFails(webConfig('v', { ports: [{ containerPort: 9090 }] }), 'INVALID_CONFIG'));

  test('a health check that never passes → HEALTH_CHECK_FAILED; the new container is removed', () =>
    provisionFails(
      webConfig('h', { healthCheck: { ...never, retries: 3 } }),
      'HEALTH_CHECK_FAILED',
      undefined,
      (e) => {
        assert.deepEqual(e.partial?.succeeded, ['observe', 'create', 'start']);
        assert.deepEqual(e.partial?.failed, ['health-check']);
        assert.match(e.partial?.resources?.containerId ?? '', /^[0-9a-f]{64}$/);
      },
    ));

  test('a tcp health check fails when nothing listens behind the published port', () =>
    provisionFails(
      {
        image: TEST_IMAGE,
        command: ['sleep', '600'],
        ports: [{ containerPort: 8080 }],
        healthCheck: { type: 'tcp', port: 8080, intervalMs: 50, timeoutMs: 500, retries: 3 },
      },
      'HEALTH_CHECK_FAILED',
    ));

  test('a container that exits at once fails fast with HEALTH_CHECK_FAILED', async () => {
    const started = Date.now();
    await provisionFails(
      { image: TEST_IMAGE, command: ['false'], ports: [{ containerPort: 8080 }], healthCheck: never },
      'HEALTH_CHECK_FAILED',
      undefined,
      (e) => assert.match(e.message, /exit code 1/),
    );
    assert.ok(Date.now() - started < 15_000, 'does not wait for all retries');
  });

  test('a hang (health check never passes) ends with PROVIDER_TIMEOUT when the signal aborts', async () => {
    const started = Date.now();
    await provisionFails(
      webConfig('hang', { healthCheck: never }),
      'PROVIDER_TIMEOUT',
      AbortSignal.timeout(2000),
    );
    assert.ok(Date.now() - started < 15_000, `aborted promptly (${Date.now() - started} ms)`);
  });

  test('an already aborted signal → PROVIDER_TIMEOUT without touching the engine', () =>
    provisionFails(webConfig('pre'), 'PROVIDER_TIMEOUT', AbortSignal.abort(new Error('deadline'))));

  test('an unreachable socket → PROVIDER_TEMPORARILY_UNAVAILABLE (retriable) for every call', async () => {
    const offline = await makeProvider({ host: 'unix:///tmp/nope.sock' });
    const t = uniqueTenant('offline');
    const signal = AbortSignal.timeout(10_000);
    const calls = [
      offline.provision(computeRequest(t, 1, webConfig('x')), signal),
      offline.update(computeRequest(t, 2, webConfig('y')), signal),
      offline.delete(computeRequest(t, 2, webConfig('y')), signal),
      offline.describe(computeRequest(t, 2, webConfig('y')), signal),
    ];
    for (const call of calls) {
      await assert.rejects(
        call,
        rejectsWith('PROVIDER_TEMPORARILY_UNAVAILABLE', (e) => {
          assert.equal(e.classification, 'retriable');
          assert.equal((e.providerError as { errno: string }).errno, 'ENOENT');
        }),
      );
    }
    await offline.close();
  });

  test('a refused TCP engine address → PROVIDER_TEMPORARILY_UNAVAILABLE', async () => {
    const offline = await makeProvider({ host: 'tcp://127.0.0.1:1' });
    await assert.rejects(
      offline.describe(computeRequest(uniqueTenant('tcp'), 1, webConfig('x')), AbortSignal.timeout(10_000)),
      rejectsWith('PROVIDER_TEMPORARILY_UNAVAILABLE'),
    );
    await offline.close();
  });
});
