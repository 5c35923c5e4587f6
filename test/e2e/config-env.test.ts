/**
 * README, "Configuration reference": every key can be set from the environment — provider options too
 * (`compute.providers.<name>.<option>`), although the environment and `--set` deliver text while
 * provider factories read typed values. Regression tests for 515b8aa: before it, fake `latencyMs`
 * from the environment was silently ignored and docker `stopTimeoutSeconds` made `lessor serve`
 * refuse to start ("must be an integer ≥ 0"). Real servers configured only by `LESSOR_*` variables.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PODMAN_HOST, TEST_HOST_IP } from '../../src/compute/providers/docker/testing/podman.js';
import { startLessorProcess, type LessorProcess } from '../support/lessor-process.js';
import { waitForPhase } from '../support/wait.js';

describe('provider options set from the environment', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  async function serve(env: Record<string, string>): Promise<LessorProcess> {
    const dir = await mkdtemp(join(tmpdir(), 'lessor-config-env-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const lessor = await startLessorProcess({
      databaseUrl: `sqlite:${join(dir, 'lessor.db')}`,
      dataDir: dir,
      readyTimeoutMs: 60_000,
      env,
    });
    cleanups.push(() => lessor.kill('SIGKILL'));
    return lessor;
  }

  test('LESSOR_COMPUTE__PROVIDERS__FAKE__LATENCY_MS=400 slows every fake call down by 400 ms', async () => {
    const lessor = await serve({
      LESSOR_COMPUTE__DEFAULT_PROVIDER: 'fake',
      LESSOR_COMPUTE__PROVIDERS__FAKE__LATENCY_MS: '400',
    });
    const tenant = await lessor.client.createTenant({ name: 'slow-fake', spec: { config: {} } });
    await waitForPhase(lessor.client, tenant.id, 'ready', { timeoutMs: 30_000, failOn: ['failed'] });
    const [execution] = (await lessor.client.tenantExecutions(tenant.id)).items;
    const tookMs = Date.parse(execution!.finishedAt!) - Date.parse(execution!.startedAt!);
    assert.ok(tookMs >= 400, `the provision took ${tookMs} ms: latencyMs from the environment was ignored`);
  });

  test('LESSOR_COMPUTE__PROVIDERS__DOCKER__STOP_TIMEOUT_SECONDS=1 is accepted', async () => {
    const lessor = await serve({
      LESSOR_COMPUTE__DEFAULT_PROVIDER: 'docker',
      LESSOR_COMPUTE__PROVIDERS__DOCKER__HOST: PODMAN_HOST,
      LESSOR_COMPUTE__PROVIDERS__DOCKER__HOST_IP: TEST_HOST_IP,
      LESSOR_COMPUTE__PROVIDERS__DOCKER__STOP_TIMEOUT_SECONDS: '1',
    });
    const providers = await lessor.client.listProviders();
    assert.deepEqual(
      providers.items.map((p) => p.type),
      ['docker'],
    );
  });
});
