/**
 * `lessor tenants suspend|resume --wait` and `lessor tenants logs [-f] [--tail] [--since]` against a
 * real in-process Lessor (SQLite, embedded engine, fake provider).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LessorClient } from '../../src/api/client.js';
import { runInProcess } from '../../src/cli/testing/run-cli.js';
import { sharedFakeEngine } from '../../src/compute/providers/fake/index.js';
import { startTestLessor, type TestLessor } from '../../src/cli/testing/test-lessor.js';
import { waitFor, waitForPhase } from '../support/wait.js';

describe('lessor tenants suspend|resume|logs (in-process server)', () => {
  let app: TestLessor;
  let client: LessorClient;
  const lessor = (...args: string[]) => runInProcess(args, { LESSOR_URL: app.url });

  // A whole Lessor in this process: SQLite file, embedded engine, the fake provider by default.
  before(async () => {
    app = await startTestLessor();
    client = new LessorClient({ baseUrl: app.url });
  });
  after(() => app?.close());

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
