import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createProviderRegistry, type ProviderRegistry } from '../compute/provider-registry.js';
import type { ComputeProvider } from '../compute/provider.js';
import { FakeEngine, FakeProvider } from '../compute/providers/fake/index.js';
import { silentLogger } from '../domain/logger.js';
import { testHasher } from '../domain/testing/test-hasher.js';
import { backends } from '../store/testing/test-databases.js';
import { apiSuite, tenantBody, uniqueName, type ApiHarness } from './testing/api-harness.js';
import type { Problem, Tenant } from './types.js';

const engine = new FakeEngine();

/** The fake provider, and one (`plain`) that offers neither suspend/resume nor logs. */
function registry(): ProviderRegistry {
  const fake = new FakeProvider({ engine });
  const plain: ComputeProvider = {
    type: 'plain',
    configSchema: () => fake.configSchema(),
    validate: (config) => fake.validate(config),
    provision: (request, signal) => fake.provision(request, signal),
    update: (request, signal) => fake.update(request, signal),
    delete: (request, signal) => fake.delete(request, signal),
    describe: (request, signal) => fake.describe(request, signal),
    mapError: (error) => fake.mapError(error),
  };
  const settings = {
    options: {},
    defaults: {},
    timeoutMs: 5000,
    dataDir: '.',
    logger: silentLogger,
    hasher: testHasher,
  };
  return createProviderRegistry(
    [
      { provider: fake, settings },
      { provider: plain, settings },
    ],
    { defaultProvider: 'fake' },
  );
}

async function create(
  h: ApiHarness,
  provider = 'fake',
  extra: Record<string, unknown> = {},
): Promise<Tenant> {
  const body = tenantBody(uniqueName('logs'), { image: 'app:1' });
  const res = await h.inject({
    method: 'POST',
    url: '/v1/tenants',
    payload: { ...body, spec: { ...body.spec, provider, ...extra } },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<Tenant>();
}

/** A running fake runtime for the tenant, with `lines` written to stdout one millisecond apart. */
function runtimeWith(tenant: Tenant, lines: readonly string[], start = Date.now() - 60_000): void {
  engine.put({
    tenantId: tenant.id,
    tenantName: tenant.name,
    generation: 1,
    executionId: 'ex-test',
    config: { image: 'app:1' },
    volumeId: 'vol',
    runtimeId: 'rt',
    running: true,
  });
  lines.forEach((line, i) => engine.appendLog(tenant.id, 'stdout', line, start + i));
}

/** Reads SSE frames off a fetch body until `until` says stop. */
async function readFrames(
  body: ReadableStream<Uint8Array>,
  until: (frames: string[]) => boolean,
): Promise<string[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const frames = text.split('\n\n').filter((f) => f.startsWith('event:'));
    if (until(frames)) {
      reader.releaseLock();
      return frames;
    }
    const { value, done } = await reader.read();
    if (done) return text.split('\n\n').filter((f) => f.startsWith('event:'));
    text += decoder.decode(value, { stream: true });
  }
}

for (const backend of backends()) {
  apiSuite(
    backend,
    'tenant logs and suspend support',
    (h) => {
      h.test('text/plain: the lines in order; tail and since bound them; viewers may not read', async () => {
        const tenant = await create(h);
        const start = Date.now() - 60_000;
        runtimeWith(tenant, ['one', 'two', 'three'], start);
        const all = await h.inject({
          method: 'GET',
          url: `/v1/tenants/${tenant.name}/logs`,
          token: 'operator',
        });
        assert.equal(all.statusCode, 200, all.body);
        assert.match(String(all.headers['content-type']), /^text\/plain/);
        assert.equal(all.body, 'one\ntwo\nthree\n');
        const tail = await h.inject({ method: 'GET', url: `/v1/tenants/${tenant.id}/logs?tail=2` });
        assert.equal(tail.body, 'two\nthree\n');
        const since = new Date(start + 2).toISOString();
        const recent = await h.inject({ method: 'GET', url: `/v1/tenants/${tenant.id}/logs?since=${since}` });
        assert.equal(recent.body, 'three\n');
        const viewer = await h.inject({
          method: 'GET',
          url: `/v1/tenants/${tenant.id}/logs`,
          token: 'viewer',
        });
        assert.equal(viewer.statusCode, 403);
        assert.equal(viewer.json<Problem>().code, 'FORBIDDEN');
      });

      h.test(
        'control characters in a line cannot forge lines or escapes (text); SSE data stays one line',
        async () => {
          const tenant = await create(h);
          runtimeWith(tenant, ['a\rb\u001b[31mred']);
          const text = await h.inject({ method: 'GET', url: `/v1/tenants/${tenant.id}/logs` });
          assert.equal(text.body, 'a\\x0db\\x1b[31mred\n');
          const sse = await h.inject({
            method: 'GET',
            url: `/v1/tenants/${tenant.id}/logs`,
            headers: { accept: 'text/event-stream' },
          });
          assert.match(String(sse.headers['content-type']), /^text\/event-stream/);
          const frames = sse.body.split('\n\n').filter(Boolean);
          assert.equal(frames.length, 1);
          const [event, data] = frames[0]!.split('\n');
          assert.equal(event, 'event: log');
          const parsed = JSON.parse(data!.slice('data: '.length)) as {
            ts: string;
            stream: string;
            line: string;
          };
          assert.equal(parsed.line, 'a\rb\u001b[31mred');
          assert.equal(parsed.stream, 'stdout');
          assert.ok(!Number.isNaN(Date.parse(parsed.ts)));
        },
      );

      h.test(
        'follow (SSE over HTTP): new lines arrive; the stream ends when the runtime goes; a reader that leaves leaves nothing behind',
        async () => {
          const tenant = await create(h);
          runtimeWith(tenant, ['before']);
          const url = `${await h.baseUrl()}/v1/tenants/${tenant.id}/logs?follow=true&tail=1`;
          const headers = { accept: 'text/event-stream', authorization: 'Bearer operator-secret-token' };
          const response = await fetch(url, { headers });
          assert.equal(response.status, 200);
          const body = response.body!;
          setTimeout(() => engine.appendLog(tenant.id, 'stderr', 'after'), 100);
          setTimeout(() => engine.remove(tenant.id), 300);
          const frames = await readFrames(body, () => false); // to the end: the runtime went away
          const lines = frames.map(
            (f) => JSON.parse(f.split('\n')[1]!.slice(6)) as { line: string; stream: string },
          );
          assert.deepEqual(
            lines.map((l) => l.line),
            ['before', 'after'],
          );
          assert.equal(lines[1]!.stream, 'stderr');

          const other = await create(h);
          runtimeWith(other, ['x']);
          const leaving = new AbortController();
          const followed = await fetch(`${await h.baseUrl()}/v1/tenants/${other.id}/logs?follow=true`, {
            headers,
            signal: leaving.signal,
          });
          await readFrames(followed.body!, (f) => f.length === 1);
          assert.equal(engine.logReaderCount(other.id), 1);
          leaving.abort();
          for (let i = 0; i < 100 && engine.logReaderCount(other.id) > 0; i++) await sleep(20);
          assert.equal(
            engine.logReaderCount(other.id),
            0,
            'the provider stopped reading for the gone client',
          );
        },
      );

      h.test('a tenant without a runtime is 404', async () => {
        const tenant = await create(h);
        const res = await h.inject({ method: 'GET', url: `/v1/tenants/${tenant.id}/logs` });
        assert.equal(res.statusCode, 404, res.body);
        assert.equal(res.json<Problem>().code, 'NOT_FOUND');
      });

      h.test('bad queries are 400 and name the parameter', async () => {
        const tenant = await create(h);
        for (const query of [
          'tail=-1',
          'tail=abc',
          'since=yesterday',
          'since=2026-13-45T00:00:00Z',
          'follow=maybe',
          'lines=3',
        ]) {
          const res = await h.inject({ method: 'GET', url: `/v1/tenants/${tenant.id}/logs?${query}` });
          assert.equal(res.statusCode, 400, `${query}: ${res.body}`);
          assert.equal(res.json<Problem>().code, 'VALIDATION_FAILED', query);
        }
      });

      h.test('a provider without logs or suspend: 422 NOT_SUPPORTED up front, nothing changed', async () => {
        const tenant = await create(h, 'plain');
        const logs = await h.inject({ method: 'GET', url: `/v1/tenants/${tenant.id}/logs` });
        assert.equal(logs.statusCode, 422, logs.body);
        assert.equal(logs.json<Problem>().code, 'NOT_SUPPORTED');
        const patch = await h.inject({
          method: 'PATCH',
          url: `/v1/tenants/${tenant.id}`,
          headers: { 'content-type': 'application/merge-patch+json' },
          payload: { spec: { suspended: true } },
        });
        assert.equal(patch.statusCode, 422, patch.body);
        assert.equal(patch.json<Problem>().code, 'NOT_SUPPORTED');
        const after = await h.inject({ method: 'GET', url: `/v1/tenants/${tenant.id}` });
        assert.equal(after.json<Tenant>().generation, 1);
        assert.equal(after.json<Tenant>().version, tenant.version);
        const born = await h.inject({
          method: 'POST',
          url: '/v1/tenants',
          payload: { name: uniqueName('born'), spec: { provider: 'plain', config: {}, suspended: true } },
        });
        assert.equal(born.statusCode, 422, born.body);
        assert.equal(born.json<Problem>().code, 'NOT_SUPPORTED');
      });

      h.test('suspended is part of the spec: set, shown, and cleared through PATCH', async () => {
        const tenant = await create(h);
        assert.equal(tenant.spec.suspended, false);
        const patch = (suspended: boolean) =>
          h.inject({
            method: 'PATCH',
            url: `/v1/tenants/${tenant.id}`,
            headers: { 'content-type': 'application/merge-patch+json' },
            payload: { spec: { suspended } },
          });
        const on = await patch(true);
        assert.equal(on.statusCode, 202, on.body);
        assert.equal(on.json<Tenant>().spec.suspended, true);
        assert.equal(on.json<Tenant>().generation, 2);
        assert.equal((await patch(true)).statusCode, 200, 'the same again changes nothing');
        const off = await patch(false);
        assert.equal(off.json<Tenant>().spec.suspended, false);
        assert.equal(off.json<Tenant>().generation, 3);
      });
    },
    { providers: registry() },
  );
}
