/**
 * End to end with the built binary: `node bin/lessor.js serve` (SQLite, embedded engine, the fake
 * provider at zero latency) driven through a tenant's whole life by `node bin/lessor.js …`, as a
 * script would: create --wait → ready, get -o json, patch --wait → generation 2, events,
 * executions, execution and run details, delete --wait → archived, and a failing create → exit 7.
 *
 * Needs `npm run build` (dist/main/cli-entry.js; `npm test` builds first) and fails without it.
 * `LESSOR_E2E_ENTRY=tsx` runs src/main/cli-entry.ts through tsx instead (no build needed);
 * `LESSOR_E2E_BIN=path/to/lessor.js` runs another copy of the binary (e.g. over another build).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { runLessor, type CliResult } from '../src/cli/testing/run-cli.js';
import { freePort } from '../src/main/testing/free-port.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = process.env.LESSOR_E2E_BIN ?? join(ROOT, 'bin', 'lessor.js');
const BUILT = join(BIN, '..', '..', 'dist', 'main', 'cli-entry.js');
const VIA_TSX = process.env.LESSOR_E2E_ENTRY === 'tsx';
/** tsx by URL: the server runs in a temporary working directory, where `--import tsx` would not resolve. */
const ENTRY: readonly string[] = VIA_TSX
  ? ['--import', import.meta.resolve('tsx'), join(ROOT, 'src', 'main', 'cli-entry.ts')]
  : [BIN];

interface TenantJson {
  readonly id: string;
  readonly name: string;
  readonly generation: number;
  readonly spec: { readonly provider: string; readonly config: { readonly env?: Record<string, string> } };
  readonly status: {
    readonly phase: string;
    readonly observedGeneration: number;
    readonly compute: { readonly executionId: string; readonly status: string } | null;
    readonly workflow: { readonly runId: string } | null;
    readonly lastError: { readonly code: string } | null;
  };
}

/** Polls /readyz until the server answers (or the process dies). */
async function waitUntilReady(url: string, server: ChildProcess, logs: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null)
      throw new Error(`lessor serve exited with ${String(server.exitCode)}:\n${logs()}`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`lessor serve did not become ready:\n${logs()}`);
}

describe('lessor CLI end to end against `lessor serve`', () => {
  let dir: string;
  let server: ChildProcess;
  let url: string;
  let serverLog = '';

  const lessor = async (...args: string[]): Promise<CliResult> =>
    runLessor(args, { entry: ENTRY, env: { LESSOR_URL: url }, timeoutMs: 120_000 });
  const ok = async (...args: string[]): Promise<CliResult> => {
    const result = await lessor(...args);
    assert.equal(result.code, 0, `lessor ${args.join(' ')} → ${String(result.code)}\n${result.stderr}`);
    return result;
  };
  const tenantJson = async (...args: string[]): Promise<TenantJson> =>
    JSON.parse((await ok(...args, '-o', 'json')).stdout) as TenantJson;

  before(async () => {
    assert.ok(VIA_TSX || existsSync(BUILT), `${BUILT} is missing: run \`npm run build\` first`);
    dir = mkdtempSync(join(tmpdir(), 'lessor-e2e-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LESSOR_DATABASE__URL: `sqlite:${join(dir, 'lessor.db')}`,
      LESSOR_DATA_DIR: join(dir, 'data'),
      LESSOR_SERVER__PORT: String(port),
      LESSOR_COMPUTE__DEFAULT_PROVIDER: 'fake',
      LESSOR_COMPUTE__PROVIDERS__FAKE__LATENCY_MS: '0',
      LESSOR_LOG__LEVEL: 'warn',
    };
    delete env.NODE_OPTIONS;
    delete env.NODE_TEST_CONTEXT;
    server = spawn(process.execPath, [...ENTRY, 'serve'], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout?.setEncoding('utf8').on('data', (chunk: string) => (serverLog += chunk));
    server.stderr?.setEncoding('utf8').on('data', (chunk: string) => (serverLog += chunk));
    await waitUntilReady(url, server, () => serverLog);
  });

  after(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('providers list shows the fake provider as the default', async () => {
    const result = await ok('providers', 'list');
    assert.match(result.stdout, /^TYPE\s+DEFAULT/);
    assert.match(result.stdout, /\bfake\s+yes\b/);
  });

  test('create --wait → ready; get -o json', async () => {
    const created = await ok('tenants', 'create', 'acme', '--env', 'MODE=prod', '--port', '80', '--wait');
    assert.match(created.stdout, /^tenant\/acme created\n/);
    assert.match(created.stdout, /acme\s+ready\s+provision\/succeeded\s+1\/1\s+fake/);
    const tenant = await tenantJson('tenants', 'get', 'acme');
    assert.equal(tenant.status.phase, 'ready');
    assert.equal(tenant.status.observedGeneration, 1);
    assert.equal(tenant.spec.provider, 'fake');
    assert.deepEqual(tenant.spec.config.env, { MODE: 'prod' });
  });

  test('patch --env --wait → generation 2 ready', async () => {
    const tenant = await tenantJson('tenants', 'patch', 'acme', '--env', 'MODE=debug', '--wait');
    assert.equal(tenant.generation, 2);
    assert.equal(tenant.status.phase, 'ready');
    assert.equal(tenant.status.observedGeneration, 2);
    assert.equal(tenant.spec.config.env?.MODE, 'debug');
  });

  test('events, executions, one execution and its run', async () => {
    const events = await ok('tenants', 'events', 'acme');
    assert.match(events.stdout, /provisioning -> ready/);
    assert.match(events.stdout, /updating -> ready/);
    const list = JSON.parse((await ok('tenants', 'executions', 'acme', '-o', 'json')).stdout) as {
      items: { executionId: string; workflowRunId: string; operation: string; status: string }[];
    };
    assert.deepEqual(list.items.map((x) => `${x.operation}/${x.status}`).sort(), [
      'provision/succeeded',
      'update/succeeded',
    ]);
    const [first] = list.items;
    assert.ok(first);
    const execution = await ok('executions', 'get', first.executionId);
    assert.match(execution.stdout, /History:/);
    assert.match(execution.stdout, /succeeded/);
    const run = JSON.parse((await ok('runs', 'get', first.workflowRunId, '-o', 'json')).stdout) as {
      runId: string;
      steps: unknown[];
    };
    assert.equal(run.runId, first.workflowRunId);
    assert.ok(run.steps.length > 0, 'the run has a step journal');
  });

  test('delete --wait → archived; then the name is free and the record can be purged', async () => {
    const deleted = await ok('tenants', 'delete', 'acme', '--wait');
    assert.match(deleted.stdout, /^tenant\/acme deleted\n/);
    assert.match(deleted.stdout, /acme\s+archived/);
    assert.equal((await lessor('tenants', 'get', 'acme')).code, 3, 'an archived tenant is not found by name');
    const purged = await ok('tenants', 'delete', 'acme', '--purge');
    assert.equal(purged.stdout, 'tenant/acme purged\n');
  });

  test('a create that fails for good (-f file, nonRetriable fault) exits 7 with the error', async () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(
      file,
      'name: broken\nspec:\n  provider: fake\n  config:\n    image: nope:latest\n    faults:\n      nonRetriable: true\n',
    );
    const result = await lessor('tenants', 'create', '-f', file, '--wait', '--timeout', '60s');
    assert.equal(result.code, 7, result.stderr);
    assert.match(result.stderr, /tenant broken failed: IMAGE_UNAVAILABLE/);
    const tenant = await tenantJson('tenants', 'get', 'broken');
    assert.equal(tenant.status.phase, 'failed');
    assert.equal(tenant.status.lastError?.code, 'IMAGE_UNAVAILABLE');
  });

  test('validation and not-found errors keep their exit codes against the real API', async () => {
    const invalid = await lessor('tenants', 'create', 'Bad_Name');
    assert.equal(invalid.code, 5, invalid.stderr);
    assert.match(invalid.stderr, /VALIDATION_FAILED/);
    assert.match(invalid.stderr, /^ {2}name: /m);
    assert.equal((await lessor('tenants', 'get', 'nope')).code, 3);
    assert.equal((await lessor('tenants', 'retry', 'broken', '--wait', '--timeout', '60s')).code, 7);
  });
});
