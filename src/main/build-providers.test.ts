import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { silentLogger } from '../domain/logger.js';
import { testHasher } from '../domain/testing/test-hasher.js';
import { buildProviders } from './build-providers.js';
import { ConfigError, loadConfig } from './config/load-config.js';
import { freePort } from './testing/free-port.js';

const dir = mkdtempSync(join(tmpdir(), 'lessor-build-providers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TOKENS = JSON.stringify([{ name: 'ci', role: 'admin', sha256: 'a'.repeat(64) }]);

function configFrom(env: Record<string, string>) {
  return loadConfig({ env: { LESSOR_DATA_DIR: dir, LESSOR_SERVER__TOKENS: TOKENS, ...env }, cwd: dir });
}

/**
 * The dotted keys of the ConfigError that loading the configuration (its refusals, such as
 * `allowRemote`) or building the providers (bad provider options) throws; [] when both succeed.
 */
async function refusedKeys(env: Record<string, string>): Promise<string[]> {
  try {
    const registry = await buildProviders(configFrom(env), silentLogger, testHasher);
    await registry.close();
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.configProblems.map((p) => p.path);
  }
}

describe('the process provider off loopback (compute.providers.process.allowRemote)', () => {
  const ALLOW = 'compute.providers.process.allowRemote';
  const cases: { reason: string; env: Record<string, string>; keys: string[] }[] = [
    {
      reason: 'the zero-setup default on 0.0.0.0 is refused',
      env: { LESSOR_SERVER__HOST: '0.0.0.0' },
      keys: [ALLOW],
    },
    { reason: 'an IPv6 wildcard is refused too', env: { LESSOR_SERVER__HOST: '::' }, keys: [ALLOW] },
    {
      reason: 'a named host is refused',
      env: { LESSOR_SERVER__HOST: 'lessor.internal', LESSOR_COMPUTE__PROVIDERS__PROCESS: '{}' },
      keys: [ALLOW],
    },
    {
      reason: 'allowRemote: true enables it',
      env: { LESSOR_SERVER__HOST: '0.0.0.0', LESSOR_COMPUTE__PROVIDERS__PROCESS: '{"allowRemote": true}' },
      keys: [],
    },
    {
      reason: 'allowRemote spelled as text in the environment enables it',
      env: { LESSOR_SERVER__HOST: '0.0.0.0', LESSOR_COMPUTE__PROVIDERS__PROCESS__ALLOW_REMOTE: 'true' },
      keys: [],
    },
    {
      reason: 'allowRemote: false is refused',
      env: { LESSOR_SERVER__HOST: '0.0.0.0', LESSOR_COMPUTE__PROVIDERS__PROCESS__ALLOW_REMOTE: 'false' },
      keys: [ALLOW],
    },
    {
      reason: 'without a process block there is nothing to refuse',
      env: {
        LESSOR_SERVER__HOST: '0.0.0.0',
        LESSOR_COMPUTE__DEFAULT_PROVIDER: 'fake',
        LESSOR_COMPUTE__PROVIDERS__FAKE: '{}',
      },
      keys: [],
    },
    { reason: 'loopback needs no opt-in', env: { LESSOR_SERVER__HOST: '127.0.0.1' }, keys: [] },
    { reason: 'localhost needs no opt-in', env: { LESSOR_SERVER__HOST: 'localhost' }, keys: [] },
  ];
  for (const { reason, env, keys } of cases) {
    test(reason, async () => assert.deepEqual(await refusedKeys(env), keys));
  }
});

test('bad provider options are configuration errors naming the full key', async () => {
  assert.deepEqual(
    await refusedKeys({
      LESSOR_COMPUTE__DEFAULT_PROVIDER: 'docker',
      LESSOR_COMPUTE__PROVIDERS__DOCKER__HOST: 'ftp://nowhere',
    }),
    ['compute.providers.docker.host'],
  );
  assert.deepEqual(
    await refusedKeys({ LESSOR_COMPUTE__PROVIDERS__PROCESS__RUN_AS: '{"uid": 0, "gid": 0}' }),
    ['compute.providers.process.runAs.uid', 'compute.providers.process.runAs.gid'],
  );
});

test('`lessor serve` on 0.0.0.0 with the process provider exits 2 naming the key, without a stack trace', async () => {
  const entry = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    LESSOR_SERVER__HOST: '0.0.0.0',
    LESSOR_SERVER__PORT: String(await freePort()),
    LESSOR_SERVER__TOKENS: TOKENS,
    LESSOR_DATABASE__URL: `sqlite:${join(dir, 'serve.db')}`,
    LESSOR_DATA_DIR: dir,
  };
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), entry, 'serve'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.resume();
  const serving = setTimeout(() => child.kill('SIGKILL'), 60_000); // it started: the check is missing
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(serving);
  assert.equal(code, 2, stderr);
  assert.match(stderr, /compute\.providers\.process\.allowRemote: must be true/);
  assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
});
