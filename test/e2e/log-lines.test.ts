/**
 * Every line a real `lessor serve` writes is one valid JSON object without a duplicated key — at
 * debug level, through start-up, a process tenant's create → ready → delete, a tenant whose
 * provision fails, and a graceful stop; on the embedded engine (with a docker tenant's lifecycle
 * too) and on Restate (with request signing, whose endpoint then refuses unsigned callers). Log pipelines that keep the first
 * or the last of two equal keys disagree, and JSON.parse hides the fault: lines are parsed strictly.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { TenantSpecInput } from '../../src/api/types.js';
import { PODMAN_HOST, TEST_HOST_IP } from '../../src/compute/providers/docker/testing/podman.js';
import { identityKeyOf } from '../../src/workflow/restate/identity-key.js';
import { startRestateServer } from '../../src/workflow/restate/testing/restate-server.js';
import { modeServerConfig, removeContainersWithPrefix, requirePodman } from '../support/docker-runtimes.js';
import { freePort, startLessorProcess, type LessorProcess } from '../support/lessor-process.js';
import { processWorld, type ProcessWorld } from '../support/process-runtimes.js';
import { parseStrictJson } from '../support/strict-json.js';
import { waitForPhase } from '../support/wait.js';

const DOCKER_PREFIX = 'log-lines';

/** The harness's own markers between server runs (`---- lessor starting … ----`). */
const HARNESS_LINE = /^---- .* ----$/;

describe('log lines are strict JSON without duplicate keys', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  async function serve(
    env: Record<string, string>,
    providers: Record<string, Record<string, unknown>> = { process: {} },
  ): Promise<{ lessor: LessorProcess; world: ProcessWorld; logFile: string }> {
    const world = await processWorld();
    cleanups.push(() => world.cleanup());
    const dir = await mkdtemp(join(tmpdir(), 'lessor-log-lines-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const lessor = await startLessorProcess({
      databaseUrl: `sqlite:${join(dir, 'lessor.db')}`,
      dataDir: dir,
      logFile: join(dir, 'lessor.log'),
      providers,
      env: { LESSOR_LOG__LEVEL: 'debug', ...env },
    });
    cleanups.push(() => lessor.kill('SIGKILL'));
    return { lessor, world, logFile: join(dir, 'lessor.log') };
  }

  /** Create → ready → delete → archived. */
  async function roundTrip(lessor: LessorProcess, name: string, spec: TenantSpecInput): Promise<void> {
    const tenant = await lessor.client.createTenant({ name, spec });
    await waitForPhase(lessor.client, tenant.id, 'ready', { timeoutMs: 60_000, failOn: ['failed'] });
    await lessor.client.deleteTenant(tenant.id);
    await waitForPhase(lessor.client, tenant.id, 'archived', { timeoutMs: 60_000 });
  }

  /** A process tenant's round trip, and one whose provision fails (attempts run out). */
  async function lifecycle(lessor: LessorProcess, world: ProcessWorld): Promise<void> {
    await roundTrip(lessor, 'logs-good', { config: world.config() });
    const bad = await lessor.client.createTenant({
      name: 'logs-bad',
      spec: {
        config: { ...world.config(), command: ['/bin/sh', '-c', 'echo starting; exit 3'] },
        retryPolicy: { maxAttempts: 2, initialBackoffMs: 10, maxBackoffMs: 10 },
      },
    });
    await waitForPhase(lessor.client, bad.id, 'failed', { timeoutMs: 60_000 });
  }

  /** Fails with one example line per distinct fault (a duplicated binding repeats on many lines). */
  async function assertStrictLines(logFile: string): Promise<void> {
    const log = await readFile(logFile, 'utf8');
    const lines = log.split('\n').filter((line) => line !== '' && !HARNESS_LINE.test(line));
    assert.ok(lines.length > 20, `expected a real log, got:\n${log}`);
    const faults = new Map<string, string>();
    for (const line of lines) {
      try {
        const record = parseStrictJson(line);
        if (typeof record !== 'object' || record === null || Array.isArray(record)) {
          faults.set('not an object', line);
        }
      } catch (error) {
        const fault = (error as Error).message.replace(/ at offset .*/s, '');
        if (!faults.has(fault)) faults.set(fault, line);
      }
    }
    const report = [...faults].map(([fault, line]) => `${fault}, e.g.\n    ${line}`);
    assert.deepEqual(report, [], `of ${lines.length} lines, some are not strict JSON`);
  }

  test('embedded engine, process and docker tenants', async () => {
    await requirePodman();
    cleanups.push(() => removeContainersWithPrefix(DOCKER_PREFIX));
    const { lessor, world, logFile } = await serve(
      {},
      { process: {}, docker: { host: PODMAN_HOST, hostIp: TEST_HOST_IP } },
    );
    await lifecycle(lessor, world);
    await roundTrip(lessor, `${DOCKER_PREFIX}-web`, { provider: 'docker', config: modeServerConfig('logs') });
    await lessor.stop();
    await assertStrictLines(logFile);
  });

  test('restate engine with request signing', async () => {
    const keyDir = await mkdtemp(join(tmpdir(), 'lessor-restate-key-'));
    cleanups.push(() => rm(keyDir, { recursive: true, force: true }));
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const pem = join(keyDir, 'identity.pem');
    await writeFile(pem, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const restate = await startRestateServer({
      env: { RESTATE_WORKER__INVOKER__REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE: pem },
    });
    cleanups.push(() => restate.stop());
    const endpointPort = await freePort();
    const { lessor, world, logFile } = await serve({
      LESSOR_ENGINE__TYPE: 'restate',
      LESSOR_ENGINE__RESTATE__INGRESS_URL: restate.ingressUrl,
      LESSOR_ENGINE__RESTATE__ADMIN_URL: restate.adminUrl,
      LESSOR_ENGINE__RESTATE__ENDPOINT_PORT: String(endpointPort),
      LESSOR_ENGINE__RESTATE__IDENTITY_KEYS: JSON.stringify([identityKeyOf(publicKey)]),
    });
    assert.equal(await unsignedDiscoveryStatus(`http://127.0.0.1:${endpointPort}`), 401);
    await lifecycle(lessor, world);
    await lessor.stop();
    await assertStrictLines(logFile);
  });
});

/** The status an unsigned discovery request to a Restate service endpoint gets. */
async function unsignedDiscoveryStatus(baseUrl: string): Promise<number> {
  const session = http2.connect(baseUrl);
  try {
    return await new Promise<number>((resolve, reject) => {
      session.once('error', reject);
      const request = session.request({
        ':method': 'GET',
        ':path': '/discover',
        accept: 'application/vnd.restate.endpointmanifest.v4+json',
      });
      request.once('response', (headers) => resolve(Number(headers[':status'])));
      request.once('error', reject);
      request.resume();
      request.end();
    });
  } finally {
    session.close();
  }
}
