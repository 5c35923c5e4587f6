/**
 * Secrets stay out of `ps` and shell history: the bearer token from `--token-file` /
 * `LESSOR_TOKEN_FILE`, secret environment variables from `--secret-env-file FILE` (or `-` for
 * stdin) on create, update and patch; and a warning before a token goes over plain http:// to
 * another machine. Against a whole Lessor in this process: the values the server stored are read
 * from its store (the API only ever answers `***`).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from './index.js';
import { ExitCode } from './exit-codes.js';
import { runInProcess, runLessor } from './testing/run-cli.js';
import { startTestLessor, type TestLessor } from './testing/test-lessor.js';

const TOKEN = 'admin-token-from-a-file';

describe('secrets from files and stdin', () => {
  let api: TestLessor;
  let dir: string;
  let tokenFile: string;
  const env = () => ({ LESSOR_URL: api.url, LESSOR_TOKEN_FILE: tokenFile });
  const lessor = (...args: string[]) => runInProcess(args, env());
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  const storedSecrets = async (name: string) => (await api.store.tenants.get(name))?.spec.config.secretEnv;

  before(async () => {
    api = await startTestLessor({ tokens: { admin: TOKEN } });
    dir = mkdtempSync(join(tmpdir(), 'lessor-cli-secrets-'));
    tokenFile = write('token', `${TOKEN}\n`);
  });
  after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the token comes from --token-file or LESSOR_TOKEN_FILE', async () => {
    const viaFlag = await runInProcess(['providers', 'list', '--token-file', tokenFile], {
      LESSOR_URL: api.url,
    });
    assert.equal(viaFlag.code, 0, viaFlag.stderr);
    const viaEnv = await lessor('providers', 'list');
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    const without = await runInProcess(['providers', 'list'], { LESSOR_URL: api.url });
    assert.equal(without.code, ExitCode.UNAUTHORIZED);
  });

  test('create --secret-env-file: the file under --secret-env (which wins)', async () => {
    const secrets = write('create.env', '# db\nDB_PASSWORD=hunter2\nAPI_KEY=from-file\n');
    const result = await lessor(
      'tenants',
      'create',
      'sec-create',
      '--image',
      'nginx:alpine',
      '--secret-env-file',
      secrets,
      '--secret-env',
      'API_KEY=from-flag',
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await storedSecrets('sec-create'), { DB_PASSWORD: 'hunter2', API_KEY: 'from-flag' });
    assert.ok(!result.stdout.includes('hunter2'));
  });

  test('create -f MANIFEST --secret-env-file: file entries replace the manifest’s (e.g. *** from get -o yaml)', async () => {
    const manifest = write(
      'tenant.yaml',
      'name: sec-manifest\nspec:\n  config:\n    image: nginx:alpine\n    secretEnv: { API_KEY: "***", KEEP: "kept" }\n',
    );
    const secrets = write('manifest.env', 'API_KEY=real-key\n');
    const result = await lessor('tenants', 'create', '-f', manifest, '--secret-env-file', secrets);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await storedSecrets('sec-manifest'), { API_KEY: 'real-key', KEEP: 'kept' });
  });

  test('update -f FILE --secret-env-file FILE', async () => {
    const spec = write('spec.yaml', 'spec:\n  config:\n    image: nginx:1.27\n');
    const secrets = write('update.env', 'ROTATED="new value"\n');
    const result = await lessor('tenants', 'update', 'sec-create', '-f', spec, '--secret-env-file', secrets);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await storedSecrets('sec-create'), { ROTATED: 'new value' });
  });

  test('patch --secret-env-file - reads the secrets from stdin (a child process)', async () => {
    const result = await runLessor(['tenants', 'patch', 'sec-manifest', '--secret-env-file', '-'], {
      env: env(),
      stdin: 'FROM_STDIN=piped-secret\n',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await storedSecrets('sec-manifest'), {
      API_KEY: 'real-key',
      KEEP: 'kept',
      FROM_STDIN: 'piped-secret',
    });
  });

  test('-f - and --secret-env-file - cannot share stdin; a bad line is a usage error without its content', async () => {
    // A child process: reading the test runner's own stdin would hang it.
    const both = await runLessor(['tenants', 'create', '-f', '-', '--secret-env-file', '-'], {
      env: env(),
      stdin: 'A=1\n',
    });
    assert.equal(both.code, ExitCode.USAGE);
    assert.match(both.stderr, /-f - and --secret-env-file - cannot both read standard input/);
    const bad = write('bad.env', 'OK=1\nhunter2\n');
    const result = await lessor('tenants', 'create', 'sec-bad', '--image', 'x', '--secret-env-file', bad);
    assert.equal(result.code, ExitCode.USAGE);
    assert.match(result.stderr, /bad\.env line 2: expected KEY=VALUE/);
    assert.ok(!result.stderr.includes('hunter2'), result.stderr);
  });

  test('a token sent over plain http:// to another machine is warned about once, on stderr', async () => {
    const remote = 'http://lessor.example.com:8080';
    // The requests reach the local server: only the URL the CLI was given is remote.
    const redirect: typeof fetch = (input, init) =>
      fetch(String(input instanceof Request ? input.url : input).replace(remote, api.url), init);
    const run = async (server: string) => {
      let stderr = '';
      const code = await runCli(['tenants', 'list', '--server', server, '--token-file', tokenFile], {
        stdout: { write: () => true },
        stderr: { write: (text: string) => (stderr += text) },
        env: { HOME: '/nonexistent' },
        fetch: redirect,
      });
      return { code, stderr };
    };
    const warned = await run(remote);
    assert.equal(warned.code, 0, warned.stderr);
    assert.equal(
      warned.stderr.match(
        /^warning: sending the bearer token to lessor\.example\.com:8080 over plain http:\/\//gm,
      )?.length,
      1,
      warned.stderr,
    );
    const local = await run(api.url);
    assert.equal(local.code, 0, local.stderr);
    assert.equal(local.stderr, '');
  });
});
