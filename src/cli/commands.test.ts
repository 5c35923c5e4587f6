/**
 * Every client command, run in-process (`runCli`) against a whole Lessor started in this process
 * (real API, SQLite, embedded engine, fake provider): flags reach the API as the right request,
 * output has the right shape, failures the right exit code.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Tenant, TenantSummary } from '../api/types.js';
import { closedPortUrl, runInProcess } from './testing/run-cli.js';
import { startTestLessor, type TestLessor } from './testing/test-lessor.js';

describe('lessor client commands', () => {
  let api: TestLessor;
  let dir: string;
  const lessor = (...args: string[]) => runInProcess(args, { LESSOR_URL: api.url });
  const json = async <T>(...args: string[]): Promise<T> => {
    const result = await lessor(...args, '-o', 'json');
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as T;
  };

  before(async () => {
    api = await startTestLessor();
    dir = mkdtempSync(join(tmpdir(), 'lessor-cmd-'));
  });
  after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('create sends every spec flag; secrets never come back', async () => {
    const tenant = await json<Tenant>(
      'tenants',
      'create',
      'alpha',
      '--provider',
      'fake',
      '--image',
      'nginx:alpine',
      '--env',
      'A=1',
      '--env',
      'B=x=y',
      '--secret-env',
      'TOKEN=s3cret',
      '--port',
      '80',
      '--port',
      '443:8443',
      '--label',
      'plan=pro',
      '--annotation',
      'owner=me',
      '--wait',
    );
    assert.equal(tenant.status.phase, 'ready');
    assert.deepEqual(tenant.spec.config, {
      image: 'nginx:alpine',
      env: { A: '1', B: 'x=y' },
      secretEnv: { TOKEN: '***' },
      ports: [{ containerPort: 80 }, { containerPort: 443, hostPort: 8443 }],
    });
    assert.deepEqual(tenant.spec.labels, { plan: 'pro' });
    assert.deepEqual(tenant.spec.annotations, { owner: 'me' });
    const stored = await api.store.tenants.get(tenant.id);
    assert.deepEqual(stored?.spec.config.secretEnv, { TOKEN: 's3cret' }, 'the server got the value');
  });

  test('--command is split like a shell, --arg appended, --paused keeps the controller away', async () => {
    const tenant = await json<Tenant>(
      'tenants',
      'create',
      'proc',
      '--provider',
      'process',
      '--command',
      'nginx -g "daemon off;"',
      '--arg',
      '-e',
      '--arg',
      'two words',
      '--port',
      '8080',
      '--paused',
    );
    assert.deepEqual(tenant.spec.config, {
      command: ['nginx', '-g', 'daemon off;', '-e', 'two words'],
      port: 8080,
    });
    assert.equal(tenant.spec.paused, true);
    assert.equal(tenant.status.phase, 'requested');
  });

  test('create without --wait prints `tenant/NAME created`; -f and spec flags do not mix', async () => {
    const created = await lessor('tenants', 'create', 'beta', '--image', 'httpd:2', '--label', 'plan=free');
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout, 'tenant/beta created\n');
    const file = join(dir, 'x.yaml');
    writeFileSync(file, 'name: x\nspec: {}\n');
    const mixed = await lessor('tenants', 'create', '-f', file, '--image', 'a');
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /either -f FILE or spec flags/);
  });

  test('list filters by phase, provider, selector and prefix; --limit pages; --all follows the cursor', async () => {
    await lessor('tenants', 'get', 'beta', '--watch');
    const names = async (...flags: string[]) =>
      (await json<{ items: Tenant[] }>('tenants', 'list', ...flags)).items.map((t) => t.name);
    assert.deepEqual(await names(), ['alpha', 'proc', 'beta']);
    assert.deepEqual(await names('--provider', 'process'), ['proc']);
    assert.deepEqual(await names('-l', 'plan=pro'), ['alpha']);
    assert.deepEqual(await names('-l', 'plan!=pro'), ['proc', 'beta'], 'a missing label is not "pro"');
    assert.deepEqual(await names('--phase', 'ready', '--prefix', 'al'), ['alpha']);
    assert.deepEqual(await names('--phase', 'requested'), ['proc']);
    assert.deepEqual(await names('--limit', '1'), ['alpha']);
    assert.deepEqual(await names('--limit', '1', '--all'), ['alpha', 'proc', 'beta']);
    const table = await lessor('tenants', 'list', '--limit', '1');
    assert.match(table.stderr, /more tenants: use --all/);
    const empty = await lessor('tenants', 'list', '--phase', 'failed');
    assert.equal(empty.stdout, 'No resources found.\n');
    assert.equal((await lessor('tenants', 'list', '--phase', 'sleeping')).code, 2);
    assert.equal((await lessor('tenants', 'list', '-l', 'plan')).code, 2);
  });

  test('patch --env --wait reaches generation 2; -p merges a JSON patch; nothing to patch is a usage error', async () => {
    const patched = await json<Tenant>('tenants', 'patch', 'alpha', '--env', 'MODE=debug', '--wait');
    assert.equal(patched.generation, 2);
    assert.equal(patched.status.observedGeneration, 2);
    assert.equal(patched.status.phase, 'ready');
    assert.deepEqual(patched.spec.config.env, { A: '1', B: 'x=y', MODE: 'debug' });
    const merged = await json<Tenant>(
      'tenants',
      'patch',
      'alpha',
      '-p',
      '{"spec":{"config":{"env":{"A":null}}}}',
      '--wait',
    );
    assert.deepEqual(merged.spec.config.env, { B: 'x=y', MODE: 'debug' });
    assert.equal(merged.status.observedGeneration, 3);
    assert.equal((await lessor('tenants', 'patch', 'alpha')).code, 2);
  });

  test('update -f replaces the spec (PUT); a file is required', async () => {
    const file = join(dir, 'spec.yaml');
    writeFileSync(file, 'spec:\n  config:\n    image: httpd:2.4\n');
    const updated = await json<Tenant>('tenants', 'update', 'beta', '-f', file, '--wait');
    assert.deepEqual(updated.spec.config, { image: 'httpd:2.4' });
    assert.deepEqual(updated.spec.labels, {}, 'PUT replaces the whole spec');
    assert.equal(updated.status.observedGeneration, 2);
    const missing = await lessor('tenants', 'update', 'beta');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--file/);
  });

  test('events and executions of a tenant, then one execution and its run', async () => {
    const events = await json<{ items: { toPhase: string | null }[] }>('tenants', 'events', 'alpha');
    assert.deepEqual(
      events.items
        .filter((e) => e.toPhase)
        .map((e) => e.toPhase)
        .slice(0, 3),
      ['requested', 'provisioning', 'ready'],
    );
    const table = await lessor('tenants', 'events', 'alpha');
    assert.match(table.stdout, /^SEQ\s+AGE\s+TYPE\s+TRANSITION/);
    assert.match(table.stdout, /provisioning -> ready/);

    const executions = await json<{
      items: { executionId: string; workflowRunId: string; operation: string }[];
    }>('tenants', 'executions', 'alpha');
    assert.deepEqual(executions.items.map((x) => x.operation).sort(), ['provision', 'update', 'update']);
    assert.equal(new Set(executions.items.map((x) => x.workflowRunId)).size, 3, 'one run per generation');
    const [first] = executions.items;
    assert.ok(first);
    const execution = await lessor('executions', 'get', first.executionId);
    assert.match(execution.stdout, /History:\nSEQ\s+AT\s+STATUS/);
    const run = await json<{ runId: string; steps: unknown[] }>('runs', 'get', first.workflowRunId);
    assert.equal(run.runId, first.workflowRunId);
    assert.match((await lessor('runs', 'get', first.workflowRunId)).stdout, /Steps:\nSEQ\s+STEP/);
    assert.equal((await lessor('executions', 'get', 'nope')).code, 3);
  });

  test('providers list and schema', async () => {
    const list = await lessor('providers', 'list');
    assert.match(list.stdout, /^TYPE\s+DEFAULT/);
    assert.match(list.stdout, /fake\s+yes/);
    assert.match(list.stdout, /^process\s{2,}\d+ms/m, 'a registered provider that is not the default');
    const schema = await lessor('providers', 'schema', 'process');
    const parsed = JSON.parse(schema.stdout) as { type: string; required: string[] };
    assert.equal(parsed.type, 'object', 'a schema prints as JSON by default');
    assert.deepEqual(parsed.required, ['command']);
    assert.match((await lessor('providers', 'schema', 'fake', '-o', 'yaml')).stdout, /^\$schema: /);
    assert.equal((await lessor('providers', 'schema', 'docker')).code, 3, 'docker is not configured here');
    assert.equal((await lessor('providers', 'schema', 'nope')).code, 3);
  });

  test('a failed tenant: retry --wait fails again (7), callbacks list --state dead and redrive', async () => {
    const failed = await lessor(
      'tenants',
      'create',
      'gamma',
      '--image',
      'nope:1',
      '--config-json',
      '{"faults":{"nonRetriable":true}}',
      '--wait',
    );
    assert.equal(failed.code, 7);
    assert.match(failed.stderr, /tenant gamma failed: IMAGE_UNAVAILABLE/);
    const retried = await lessor('tenants', 'retry', 'gamma', '--wait');
    assert.equal(retried.code, 7, 'the retry ran and failed again, it did not report the old failure');
    assert.match(retried.stderr, /tenant gamma failed: IMAGE_UNAVAILABLE/);
    const none = await json<{ items: unknown[] }>('callbacks', 'list', '--state', 'dead');
    assert.deepEqual(none.items, [], 'the embedded engine took every callback');
    const parked = await api.parkDeadCallback();
    const dead = await json<{ items: { id: string; state: string; attempts: number }[] }>(
      'callbacks',
      'list',
      '--state',
      'dead',
    );
    assert.deepEqual(
      dead.items.map((c) => [c.id, c.state, c.attempts]),
      [[parked, 'dead', 8]],
    );
    const table = await lessor('callbacks', 'list', '--state', 'dead');
    assert.match(table.stdout, /^ID\s+STATE\s+OPERATION/);
    assert.match(table.stdout, /refused by the engine/);
    const [callback] = dead.items;
    assert.ok(callback);
    const redriven = await lessor('callbacks', 'redrive', callback.id);
    assert.equal(redriven.stdout, `callback/${callback.id} redriven (state pending)\n`, redriven.stderr);
    assert.equal(
      (await lessor('callbacks', 'redrive', callback.id)).code,
      4,
      'only a dead callback can be re-driven',
    );
    assert.equal((await lessor('callbacks', 'list', '--state', 'undead')).code, 2);
  });

  test('a fixing patch of a failed tenant with --wait ends ready', async () => {
    const fixed = await json<Tenant>(
      'tenants',
      'patch',
      'gamma',
      '-p',
      '{"spec":{"config":{"faults":null}}}',
      '--wait',
    );
    assert.equal(fixed.status.phase, 'ready');
  });

  test('get --watch prints each change until the tenant settles', async () => {
    await lessor('tenants', 'create', 'delta', '--image', 'x');
    const watched = await lessor('tenants', 'get', 'delta', '--watch');
    assert.equal(watched.code, 0, watched.stderr);
    const lines = watched.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^NAME\s+PHASE/);
    assert.match(lines.at(-1) ?? '', /^delta\s+ready/);
    const ndjson = await lessor('tenants', 'get', 'delta', '--watch', '-o', 'json');
    assert.equal((JSON.parse(ndjson.stdout.trim().split('\n').at(-1) ?? '') as Tenant).status.phase, 'ready');
  });

  test('events --since --limit and --tenant', async () => {
    const all = await lessor('events', '--since', '0', '--limit', '2', '-o', 'json');
    assert.deepEqual(
      all.stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { seq: number }).seq),
      [1, 2],
    );
    const mine = await lessor('events', '--tenant', 'delta', '-o', 'json');
    const events = mine.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { tenantId: string; toPhase: string | null });
    assert.equal(new Set(events.map((e) => e.tenantId)).size, 1, 'one tenant only');
    assert.deepEqual(
      events.map((e) => e.toPhase).filter((phase) => phase !== null),
      ['requested', 'provisioning', 'ready'],
    );
    const table = await lessor('events', '--tenant', 'delta');
    assert.match(table.stdout, /^SEQ\s+TIME\s+TENANT\s+TYPE/);
  });

  test('delete --wait → archived; --purge removes the record; --ignore-not-found', async () => {
    const deleted = await lessor('tenants', 'delete', 'delta', '--wait');
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /^tenant\/delta deleted\n/);
    assert.match(deleted.stdout, /delta\s+archived/);
    const purged = await lessor('tenants', 'delete', 'delta', '--purge');
    assert.equal(purged.stdout, 'tenant/delta purged\n', purged.stderr);
    assert.equal((await lessor('tenants', 'delete', 'delta')).code, 3);
    assert.equal((await lessor('tenants', 'delete', 'delta', '--ignore-not-found')).code, 0);
    const live = await lessor('tenants', 'delete', 'alpha', '--purge');
    assert.equal(live.code, 4, 'a live tenant is not purged without --wait');
    const both = await lessor('tenants', 'delete', 'alpha', '--purge', '--wait');
    assert.equal(both.code, 0, both.stderr);
    assert.match(both.stdout, /tenant\/alpha deleted\ntenant\/alpha purged\n/);
  });

  test('usage errors exit 2 before any request; an unreachable server exits 9', async () => {
    const cases: readonly { reason: string; args: string[]; stderr: RegExp }[] = [
      { reason: 'bad output format', args: ['tenants', 'list', '-o', 'xml'], stderr: /table, json, yaml/ },
      { reason: 'unknown command', args: ['tenant', 'frobnicate', 'x'], stderr: /unknown command/ },
      { reason: 'missing argument', args: ['tenants', 'get'], stderr: /missing required argument/ },
      { reason: 'group alone shows help', args: ['tenants'], stderr: /Usage: lessor tenants/ },
      {
        reason: 'bad --timeout',
        args: ['tenants', 'get', 'x', '--watch', '--timeout', 'soon'],
        stderr: /duration/,
      },
      { reason: 'bad --env', args: ['tenants', 'create', 'x', '--env', 'NOVALUE'], stderr: /KEY=VALUE/ },
      {
        reason: 'unreadable file',
        args: ['tenants', 'create', '-f', '/nonexistent/x.yaml'],
        stderr: /cannot read/,
      },
      { reason: 'bad server URL', args: ['--server', 'nope', 'tenants', 'list'], stderr: /not a URL/ },
    ];
    for (const { reason, args, stderr } of cases) {
      const result = await lessor(...args);
      assert.equal(result.code, 2, `${reason}: ${result.stderr}`);
      assert.match(result.stderr, stderr, reason);
    }
    const down = await runInProcess(['providers', 'list'], { LESSOR_URL: await closedPortUrl() });
    assert.equal(down.code, 9);
  });
  test('tenants summary counts by phase, as a table and as JSON', async () => {
    const before = await json<TenantSummary>('tenants', 'summary', '--provider', 'fake');
    await json<Tenant>(
      'tenants',
      'create',
      'summed',
      '--provider',
      'fake',
      '--image',
      'nginx:alpine',
      '--wait',
    );
    const after = await json<TenantSummary>('tenants', 'summary', '--provider', 'fake');
    assert.equal(after.phases.ready, before.phases.ready + 1);
    assert.equal(after.total, before.total + 1);
    const table = await lessor('tenants', 'summary');
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /PHASE\s+TENANTS/);
    assert.match(table.stdout, /ready\s+\d+/);
    assert.match(table.stdout, /total \(not archived\)\s+\d+/);
    const none = await json<TenantSummary>('tenants', 'summary', '--provider', 'docker');
    assert.equal(none.total, 0);
  });
});
