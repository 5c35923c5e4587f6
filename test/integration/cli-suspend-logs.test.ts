/**
 * `lessor tenants suspend|resume --wait` and `lessor tenants logs [-f] [--tail] [--since]` against a
 * real in-process Lessor (SQLite, embedded engine, fake provider).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LessorClient } from '../../src/api/client.js';
import { runInProcess } from '../../src/cli/testing/run-cli.js';
import { sharedFakeEngine } from '../../src/compute/providers/fake/index.js';
import { loadConfig } from '../../src/main/config/load-config.js';
import { startLessor, type LessorApp } from '../../src/main/lessor-app.js';
import { createLogger } from '../../src/main/logger.js';
import { waitFor, waitForPhase } from '../support/wait.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('lessor tenants suspend|resume|logs (in-process server)', () => {
  let dir: string;
  let app: LessorApp;
  let client: LessorClient;
  const lessor = (...args: string[]) => runInProcess(args, { LESSOR_URL: app.url });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lessor-cli-suspend-'));
    const config = loadConfig({
      cwd: dir,
      env: {
        LESSOR_DATA_DIR: dir,
        LESSOR_DATABASE__URL: `sqlite:${join(dir, 'lessor.db')}`,
        LESSOR_SERVER__PORT: String(await freePort()),
        LESSOR_ENGINE__EMBEDDED__POLL_INTERVAL_MS: '100',
        LESSOR_COMPUTE__DEFAULT_PROVIDER: 'fake',
        LESSOR_COMPUTE__PROVIDERS__FAKE__LATENCY_MS: '0',
      },
      flags: {},
    });
    app = await startLessor(config, createLogger({ level: 'silent', format: 'json' }));
    client = new LessorClient({ baseUrl: app.url });
  });
  after(async () => {
    await app?.close(1_000);
    await rm(dir, { recursive: true, force: true });
  });

  test('suspend --wait, logs (--tail, --since), resume --wait: the same runtime throughout', async () => {
    const created = await client.createTenant({ name: 'cli-sus', spec: { config: { image: 'app:1' } } });
    const ready = await waitForPhase(client, created.id, 'ready', { failOn: ['failed'] });

    const suspend = await lessor('tenants', 'suspend', 'cli-sus', '--wait', '--timeout', '60s');
    assert.equal(suspend.code, 0, suspend.stderr);
    assert.match(suspend.stdout, /tenant\/cli-sus suspended/);
    assert.equal((await client.getTenant(created.id)).status.phase, 'suspended');

    const logs = await lessor('tenants', 'logs', 'cli-sus');
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, 'started generation 1\nstopping: suspended\n');
    const tail = await lessor('tenants', 'logs', 'cli-sus', '--tail', '1');
    assert.equal(tail.stdout, 'stopping: suspended\n');
    const recent = await lessor('tenants', 'logs', 'cli-sus', '--since', '10m');
    assert.equal(recent.stdout, logs.stdout);
    const bad = await lessor('tenants', 'logs', 'cli-sus', '--since', 'lately');
    assert.equal(bad.code, 2, 'a bad duration is a usage error');

    const resume = await lessor('tenants', 'resume', 'cli-sus', '--wait', '--timeout', '60s');
    assert.equal(resume.code, 0, resume.stderr);
    const back = await client.getTenant(created.id);
    assert.equal(back.status.phase, 'ready');
    assert.equal(back.status.resources.runtimeId, ready.status.resources.runtimeId);
  });

  test('logs -f prints new lines and ends when the tenant is deleted', async () => {
    const created = await client.createTenant({ name: 'cli-follow', spec: { config: { image: 'app:1' } } });
    await waitForPhase(client, created.id, 'ready', { failOn: ['failed'] });
    const following = lessor('tenants', 'logs', 'cli-follow', '-f', '--tail', '0');
    await waitFor('the follower to attach', async () => sharedFakeEngine.logReaderCount(created.id) > 0);
    sharedFakeEngine.appendLog(created.id, 'stdout', 'a new line');
    await client.deleteTenant(created.id);
    const result = await following;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^a new line\n/);
  });

  test('logs of an unknown tenant: exit 3 (not found)', async () => {
    const result = await lessor('tenants', 'logs', 'nobody-here');
    assert.equal(result.code, 3, result.stderr);
  });
});
