import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ComputeError } from '../../../domain/compute-error.js';
import { testHasher } from '../../../domain/testing/test-hasher.js';
import type { JsonObject } from '../../../domain/tenant.js';
import type { ComputeRequest } from '../../provider.js';
import { runProviderConformance } from '../../testing/provider-conformance.js';
import { findTenantProcesses, parseProcessOptions, ProcessProvider } from './index.js';
import { pickFreePort, spawnDetached } from './process-control.js';
import { readRecord, writeRecord } from './process-state.js';

const dataDir = mkdtempSync(join(tmpdir(), 'lessor-process-'));
const SERVER =
  "console.log('serving '+process.env.MODE);console.error('listening on '+process.env.PORT);require('http').createServer((q,s)=>s.end(process.env.MODE||'ok')).listen(process.env.PORT,'127.0.0.1')";
const healthCheck = { type: 'http', path: '/', intervalMs: 50, retries: 100 };
const serverConfig = (mode: string, extra: JsonObject = {}): JsonObject => ({
  command: [process.execPath, '-e', SERVER],
  env: { MODE: mode },
  healthCheck,
  ...extra,
});
const makeProvider = async () => new ProcessProvider({ dataDir, stopGraceMs: 1_000, hasher: testHasher });

async function probe(url: string, expected: string): Promise<void> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  assert.equal(await response.text(), expected);
}

runProviderConformance({
  name: 'process',
  makeProvider,
  validConfig: serverConfig('a'),
  updatedConfig: serverConfig('b'),
  probe: (endpoint, config) => probe(endpoint.url, (config.env as Record<string, string>).MODE!),
  countRuntimes: async (tenant) => (await findTenantProcesses(tenant.id)).length,
  startLine: 'serving a',
  probeRefused: async (endpoint) => {
    const answered = await fetch(endpoint.url, { signal: AbortSignal.timeout(2_000) }).then(
      () => true,
      () => false,
    );
    assert.equal(answered, false, `${endpoint.url} still answers while suspended`);
  },
  failing: { config: { command: ['/nonexistent/lessor-test-binary'] }, code: 'INVALID_CONFIG' },
  invalidConfigs: [
    { reason: 'command missing', config: { env: {} }, path: 'spec.config.command' },
    { reason: 'empty command', config: { command: [] }, path: 'spec.config.command' },
    { reason: 'port out of range', config: { command: ['x'], port: 70000 }, path: 'spec.config.port' },
    {
      reason: 'relative cwd (semantic check)',
      config: { command: ['x'], cwd: 'rel' },
      path: 'spec.config.cwd',
    },
    {
      reason: 'PORT in env (semantic check)',
      config: { command: ['x'], env: { PORT: '1' } },
      path: 'spec.config.env.PORT',
    },
  ],
  timeoutMs: 20_000,
});

describe('process provider specifics', () => {
  const tenants: { id: string; name: string }[] = [];
  const newRequest = (config: JsonObject, generation = 1): ComputeRequest => {
    const tenant = tenants.at(-1)!;
    return { tenant, generation, executionId: `ex-${tenant.name}-g${generation}`, config };
  };
  const newTenant = () =>
    tenants.push({ id: randomUUID(), name: `proc-${tenants.length}-${randomUUID().slice(0, 8)}` });
  const signal = () => AbortSignal.timeout(20_000);

  after(async () => {
    const provider = await makeProvider();
    for (const tenant of tenants)
      await provider.delete({ tenant, generation: 9, executionId: 'cleanup', config: {} }, signal());
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a failing health check kills the process and reports HEALTH_CHECK_FAILED', async () => {
    newTenant();
    const provider = await makeProvider();
    const config = {
      command: [process.execPath, '-e', 'setTimeout(()=>{}, 60000)'],
      healthCheck: { ...healthCheck, retries: 3 },
    };
    await assert.rejects(provider.provision(newRequest(config), signal()), (error: unknown) => {
      assert.ok(error instanceof ComputeError);
      assert.equal(error.code, 'HEALTH_CHECK_FAILED');
      assert.equal(error.classification, 'retriable');
      return true;
    });
    assert.equal((await findTenantProcesses(tenants.at(-1)!.id)).length, 0);
  });

  test('a failing health check keeps the process output out of the error; it stays in stdout.log', async () => {
    newTenant();
    const provider = await makeProvider();
    const marker = `app-output-${randomUUID()}`;
    const config = {
      command: [process.execPath, '-e', `console.log(${JSON.stringify(marker)}); setTimeout(()=>{}, 60000)`],
      // 2 s of failing checks: a node process starts and prints well within that, even on a loaded
      // machine; a shorter window could stop it before it printed anything.
      healthCheck: { ...healthCheck, retries: 40 },
    };
    const error = await provider.provision(newRequest(config), signal()).then(
      () => assert.fail('provision should fail its health check'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ComputeError);
    assert.equal(error.code, 'HEALTH_CHECK_FAILED');
    assert.doesNotMatch(JSON.stringify({ ...error.toJSON(), message: error.message }), new RegExp(marker));
    // The process may still be starting when its health check gives up (a loaded machine).
    const logFile = join(dataDir, 'process', tenants.at(-1)!.name, 'stdout.log');
    let log = '';
    for (let waited = 0; waited < 10_000 && !log.includes(marker); waited += 50) {
      log = await readFile(logFile, 'utf8');
      if (!log.includes(marker)) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.match(log, new RegExp(marker), 'the process did print the marker');
  });

  test('runAs: tenant commands run under the configured uid and gid, without supplementary groups', async () => {
    newTenant();
    const runAs = { uid: 65534, gid: 65534 };
    if (process.getuid?.() !== 0) {
      assert.throws(() => parseProcessOptions({ runAs }), /needs Lessor to run as root/);
      return;
    }
    const provider = new ProcessProvider({ dataDir, stopGraceMs: 1_000, runAs, hasher: testHasher });
    const result = await provider.provision(newRequest(serverConfig('nobody')), signal());
    await probe(result.endpoints[0]!.url, 'nobody');
    const status = await readFile(`/proc/${result.resources.pid ?? '?'}/status`, 'utf8');
    const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(status)?.[1]?.trim().split(/\s+/);
    assert.deepEqual(field('Uid'), ['65534', '65534', '65534', '65534']);
    assert.deepEqual(field('Gid'), ['65534', '65534', '65534', '65534']);
    assert.deepEqual(field('Groups'), ['']);
    await provider.delete(newRequest(serverConfig('nobody')), signal());
    assert.equal(
      (await findTenantProcesses(tenants.at(-1)!.id)).length,
      0,
      'root stops the switched process',
    );
  });

  test('a fixed port is reused by an update, which stops the old process first', async () => {
    newTenant();
    const provider = await makeProvider();
    const port = await pickFreePort();
    const first = await provider.provision(newRequest(serverConfig('one', { port })), signal());
    const second = await provider.update(newRequest(serverConfig('two', { port }), 2), signal());
    assert.equal(first.endpoints[0]?.url, `http://127.0.0.1:${port}`);
    assert.equal(second.endpoints[0]?.url, first.endpoints[0]?.url);
    assert.notEqual(second.resources.pid, first.resources.pid);
    assert.deepEqual(second.changes, ['env']);
    await probe(second.endpoints[0]?.url ?? '', 'two');
    assert.equal((await findTenantProcesses(tenants.at(-1)!.id)).length, 1);
  });

  test('a process that died is restarted by the next provision; pid reuse is detected by the start marker', async () => {
    newTenant();
    const provider = await makeProvider();
    const first = await provider.provision(newRequest(serverConfig('x')), signal());
    process.kill(-Number(first.resources.pid), 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await provider.describe(newRequest(serverConfig('x')), signal())).running, false);
    const second = await provider.provision(newRequest(serverConfig('x')), signal());
    assert.notEqual(second.resources.pid, first.resources.pid);
    await probe(second.endpoints[0]!.url, 'x');
    const file = join(dataDir, 'process', tenants.at(-1)!.name, 'runtime.json');
    const record = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...record, startMarker: '1' }));
    assert.equal(
      (await provider.describe(newRequest(serverConfig('x')), signal())).running,
      false,
      'same pid, other start time',
    );
    await writeFile(file, JSON.stringify(record));
  });

  const strays = [
    { slot: 'runtime.next', reason: 'a replacement left half-started by a crash is stopped, not duplicated' },
    {
      slot: 'runtime.retiring',
      reason: 'an old process a crash left half-retired is stopped, not left running',
    },
  ] as const;
  for (const { slot, reason } of strays) {
    test(reason, async () => {
      newTenant();
      const tenant = tenants.at(-1)!;
      const provider = await makeProvider();
      const first = await provider.provision(newRequest(serverConfig('a')), signal());
      const dir = join(dataDir, 'process', tenant.name);
      const record = (await readRecord(dir, 'runtime'))!;
      const idle = [process.execPath, '-e', 'setTimeout(()=>{}, 60000)'];
      const stray = await spawnDetached({
        command: idle,
        env: { LESSOR_TENANT_ID: tenant.id },
        logPath: join(dir, 'stdout.log'),
      });
      await writeRecord(dir, slot, { ...record, ...stray });
      assert.equal((await findTenantProcesses(tenant.id)).length, 2);
      const updated = await provider.update(newRequest(serverConfig('a'), 2), signal());
      assert.deepEqual(await findTenantProcesses(tenant.id), [Number(first.resources.pid)]);
      assert.equal(updated.resources.pid, first.resources.pid, 'same config: the healthy process is kept');
      assert.equal((await provider.describe(newRequest(serverConfig('a'), 2), signal())).generation, 2);
    });
  }

  test('secretEnv reaches the process; a missing working directory is INVALID_CONFIG', async () => {
    newTenant();
    const provider = await makeProvider();
    const script =
      "require('http').createServer((q,s)=>s.end(process.env.TOKEN)).listen(process.env.PORT,'127.0.0.1')";
    const result = await provider.provision(
      newRequest({ command: [process.execPath, '-e', script], secretEnv: { TOKEN: 's3cr3t' }, healthCheck }),
      signal(),
    );
    await probe(result.endpoints[0]!.url, 's3cr3t');
    newTenant();
    await assert.rejects(
      provider.provision(newRequest({ command: [process.execPath], cwd: '/nonexistent/dir' }), signal()),
      (e: unknown) => {
        assert.ok(e instanceof ComputeError);
        assert.equal(e.code, 'INVALID_CONFIG');
        return true;
      },
    );
  });
});
