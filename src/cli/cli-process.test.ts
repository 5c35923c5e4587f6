/**
 * The CLI as a child process against a whole Lessor started in the test process (real API with
 * bearer tokens, SQLite, embedded engine, fake provider): what a script sees — exit codes, stdout,
 * stderr. (test/cli-e2e.test.ts does the same with the built binary on both sides.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { closedPortUrl, runLessor } from './testing/run-cli.js';
import { startTestLessor, type TestLessor } from './testing/test-lessor.js';

const ADMIN = 'admin-token';

const VIEWER = 'viewer-token';

describe('lessor as a child process', () => {
  let api: TestLessor;
  let dir: string;
  const env = () => ({ LESSOR_URL: api.url, LESSOR_TOKEN: ADMIN });

  before(async () => {
    api = await startTestLessor({ tokens: { admin: ADMIN, viewer: VIEWER } });
    dir = mkdtempSync(join(tmpdir(), 'lessor-cli-'));
  });
  after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('create --wait ends ready (0) and prints the tenant row', async () => {
    const result = await runLessor(
      [
        'tenants',
        'create',
        'acme',
        '--image',
        'nginx:alpine',
        '--env',
        'MODE=prod',
        '--port',
        '80',
        '--wait',
      ],
      { env: env() },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^tenant\/acme created\n/);
    assert.match(result.stdout, /NAME\s+PHASE\s+COMPUTE\s+GEN\s+PROVIDER\s+ENDPOINT\s+AGE/);
    assert.match(result.stdout, /acme\s+ready\s+provision\/succeeded\s+1\/1\s+fake\s+http:\/\//);
    assert.ok(!result.stdout.includes('\u001b['), 'no colours when stdout is a pipe');
  });

  test('get -o json prints the wire object; the token comes from --token too', async () => {
    const result = await runLessor([
      'tenants',
      'get',
      'acme',
      '-o',
      'json',
      '--server',
      api.url,
      '--token',
      ADMIN,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const tenant = JSON.parse(result.stdout) as { name: string; spec: { config: { env: object } } };
    assert.equal(tenant.name, 'acme');
    assert.deepEqual(tenant.spec.config.env, { MODE: 'prod' });
  });

  test('validation failures exit 5 and print the field errors', async () => {
    const result = await runLessor(['tenants', 'create', 'web', '--provider', 'process'], { env: env() });
    assert.equal(result.code, 5);
    assert.match(result.stderr, /VALIDATION_FAILED/);
    assert.match(result.stderr, /^ {2}spec\.config\.command: is required$/m);
    const unknown = await runLessor(['tenants', 'create', 'web', '--command', 'sleep 1'], { env: env() });
    assert.equal(unknown.code, 5, 'the default provider (fake) runs no command');
    assert.match(unknown.stderr, /^ {2}spec\.config\.command: unknown field$/m);
    const list = await runLessor(['tenants', 'list', '-o', 'json'], { env: env() });
    assert.doesNotMatch(list.stdout, /"web"/, 'nothing was created');
  });

  test('not found exits 3, a conflict 4, usage mistakes 2', async () => {
    const cases: readonly { reason: string; args: string[]; code: number; stderr: RegExp }[] = [
      { reason: 'unknown tenant', args: ['tenants', 'get', 'nope'], code: 3, stderr: /NOT_FOUND/ },
      { reason: 'name taken', args: ['tenants', 'create', 'acme'], code: 4, stderr: /CONFLICT/ },
      {
        reason: 'retry of a ready tenant',
        args: ['tenants', 'retry', 'acme'],
        code: 4,
        stderr: /INVALID_TRANSITION/,
      },
      {
        reason: 'unknown flag',
        args: ['tenants', 'list', '--bogus'],
        code: 2,
        stderr: /unknown option '--bogus'/,
      },
      {
        reason: 'bad flag value',
        args: ['tenants', 'create', 'x', '--port', '99999'],
        code: 2,
        stderr: /--port.*65535/,
      },
    ];
    for (const { reason, args, code, stderr } of cases) {
      const result = await runLessor(args, { env: env() });
      assert.equal(result.code, code, `${reason}: ${result.stderr}`);
      assert.match(result.stderr, stderr, reason);
    }
  });

  test('-f tenant.yaml with a failing spec and --wait exits 7 with the last error', async () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(
      file,
      'name: broken\nspec:\n  provider: fake\n  config:\n    image: nope:latest\n    faults: {nonRetriable: true}\n',
    );
    const result = await runLessor(['tenants', 'create', '-f', file, '--wait'], { env: env() });
    assert.equal(result.code, 7, result.stderr);
    assert.match(result.stderr, /tenant broken failed: IMAGE_UNAVAILABLE \(non_retriable\)/);
    assert.match(result.stdout, /broken\s+failed/);
  });

  test('a manifest on stdin (-f -) with --wait and a tenant that never settles exits 8 after --timeout', async () => {
    const stdin = JSON.stringify({ name: 'stuck', spec: { config: { faults: { hang: true } } } });
    const result = await runLessor(['tenants', 'create', '-f', '-', '--wait', '--timeout', '1s'], {
      env: env(),
      stdin,
    });
    assert.equal(result.code, 8, result.stderr);
    // Within the second the controller may not have picked it up yet: requested or provisioning.
    assert.match(
      result.stderr,
      /timed out waiting for tenant stuck to become ready \(phase (requested|provisioning)/,
    );
  });

  test('tokens: none → 6, a viewer may read but not write → 6', async () => {
    const anonymous = await runLessor(['tenants', 'list'], { env: { LESSOR_URL: api.url } });
    assert.equal(anonymous.code, 6);
    assert.match(anonymous.stderr, /UNAUTHORIZED/);
    const viewerEnv = { LESSOR_URL: api.url, LESSOR_TOKEN: VIEWER };
    assert.equal((await runLessor(['tenants', 'list'], { env: viewerEnv })).code, 0);
    const write = await runLessor(['tenants', 'delete', 'acme'], { env: viewerEnv });
    assert.equal(write.code, 6);
    assert.match(write.stderr, /FORBIDDEN/);
  });

  test('the server URL and token may come from the CLI config file', async () => {
    const config = join(dir, 'cli.yaml');
    writeFileSync(config, `server: ${api.url}\ntoken: ${ADMIN}\n`);
    const result = await runLessor(['--cli-config', config, 'tenants', 'list', '-o', 'yaml']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /name: acme/);
  });

  test('an unreachable server exits 9 and says where it looked', async () => {
    const url = await closedPortUrl();
    const result = await runLessor(['tenants', 'list'], { env: { LESSOR_URL: url } });
    assert.equal(result.code, 9);
    assert.ok(
      result.stderr.includes(`cannot reach the Lessor server at ${url} (ECONNREFUSED)`),
      result.stderr,
    );
  });

  test('--help exits 0 and documents the exit codes', async () => {
    const result = await runLessor(['--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Exit codes:/);
    assert.match(result.stdout, /tenants/);
  });
});
