/** The typed client against a real listening server (127.0.0.1:0). */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { backends } from '../store/testing/test-databases.js';
import { ApiError, LessorClient } from './client.js';
import { apiSuite, TOKENS, uniqueName, type ApiHarness } from './testing/api-harness.js';
import type { Problem } from './types.js';

async function rejectsWith(promise: Promise<unknown>, status: number, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ApiError, String(error));
    assert.equal(error.status, status);
    assert.equal(error.code, code);
    assert.equal(error.problem.status, status);
    return true;
  });
}

async function client(h: ApiHarness, token: string | undefined = TOKENS.admin): Promise<LessorClient> {
  return new LessorClient({ baseUrl: await h.baseUrl(), token });
}

for (const backend of backends()) {
  apiSuite(backend, 'typed client over HTTP', (h) => {
    h.test('tenant lifecycle through the client', async () => {
      const c = await client(h);
      const name = uniqueName('cli');
      const created = await c.createTenant(
        { name, spec: { config: { image: 'x' }, labels: { plan: 'pro' } } },
        { idempotencyKey: name },
      );
      assert.equal(created.name, name);
      assert.deepEqual(
        await c.createTenant(
          { name, spec: { config: { image: 'x' }, labels: { plan: 'pro' } } },
          { idempotencyKey: name },
        ),
        created,
      );
      assert.equal((await c.getTenant(name)).id, created.id);
      const listed = await c.listTenants({ q: name, labels: 'plan=pro', limit: 10 });
      assert.deepEqual(
        listed.items.map((t) => t.id),
        [created.id],
      );
      const replaced = await c.replaceSpec(name, { config: { image: 'y' } }, { ifMatch: created.version });
      assert.equal(replaced.generation, 2);
      await rejectsWith(
        c.replaceSpec(name, { config: { image: 'z' } }, { ifMatch: created.version }),
        412,
        'PRECONDITION_FAILED',
      );
      const patched = await c.patchTenant(name, { spec: { config: { env: { MODE: 'debug' } } } });
      assert.deepEqual(patched.spec.config, { image: 'y', env: { MODE: 'debug' } });
      assert.ok((await c.tenantEvents(name, { limit: 100 })).items.length >= 3);
      assert.deepEqual(await c.tenantExecutions(name), { items: [], nextCursor: null });
      await rejectsWith(c.retryTenant(name), 409, 'INVALID_TRANSITION');
      const deleting = await c.deleteTenant(name);
      assert.equal(deleting?.status.phase, 'deleting');
      await rejectsWith(c.deleteTenant(created.id, { purge: true }), 409, 'CONFLICT');
    });

    h.test('discovery, executions, runs, callbacks', async () => {
      const c = await client(h);
      assert.equal((await c.listProviders()).defaultProvider, 'fake');
      assert.equal((await c.providerSchema('fake')).type, 'object');
      await rejectsWith(c.providerSchema('nope'), 404, 'NOT_FOUND');
      await rejectsWith(c.getExecution('ex-nope'), 404, 'NOT_FOUND');
      await rejectsWith(c.getRun('nope:provision:g1'), 404, 'NOT_FOUND');
      assert.ok(Array.isArray((await c.listCallbacks({ state: 'dead' })).items));
      await rejectsWith(c.redriveCallback('nope'), 404, 'NOT_FOUND');
    });

    h.test('auth and validation errors arrive as ApiError with the problem', async () => {
      await rejectsWith((await client(h, 'wrong')).listTenants(), 401, 'UNAUTHORIZED');
      await rejectsWith((await client(h, '')).listTenants(), 401, 'UNAUTHORIZED');
      await rejectsWith(
        (await client(h, TOKENS.viewer)).createTenant({ name: uniqueName(), spec: {} }),
        403,
        'FORBIDDEN',
      );
      const c = await client(h);
      await assert.rejects(c.createTenant({ name: 'Bad Name', spec: {} }), (error: unknown) => {
        assert.ok(error instanceof ApiError);
        assert.equal(error.problem.errors?.[0]?.path, 'name');
        return true;
      });
    });

    h.test('over real HTTP: body over the limit → 413, bad JSON → 400, both problem+json', async () => {
      const url = `${await h.baseUrl()}/v1/tenants`;
      const headers = { authorization: `Bearer ${TOKENS.admin}`, 'content-type': 'application/json' };
      const huge = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: 'x', spec: { config: { a: 'x'.repeat(2 << 20) } } }),
      });
      assert.equal(huge.status, 413);
      assert.equal(huge.headers.get('content-type'), 'application/problem+json');
      assert.equal(((await huge.json()) as { code: string }).code, 'PAYLOAD_TOO_LARGE');
      const bad = await fetch(url, { method: 'POST', headers, body: '{"name":' });
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { code: string }).code, 'VALIDATION_FAILED');
    });

    h.test('malformed HTTP (bad Content-Length) → 400 problem+json from the socket level', async () => {
      const { port } = new URL(await h.baseUrl());
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write('POST /v1/tenants HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}');
        });
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      assert.match(raw, /^HTTP\/1\.1 400 /);
      assert.match(raw, /content-type: application\/problem\+json/i);
      const problem = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Problem;
      assert.equal(problem.code, 'VALIDATION_FAILED');
    });

    h.test('streamEvents yields new events and resumes from a sequence number', async () => {
      const c = await client(h);
      const since = (await c.tenantEvents((await c.createTenant({ name: uniqueName(), spec: {} })).id))
        .items[0]!.seq;
      const name = uniqueName('sse');
      const controller = new AbortController();
      const seen: string[] = [];
      const reading = (async () => {
        for await (const event of c.streamEvents({ since, signal: controller.signal })) {
          seen.push(`${event.event}:${event.data.tenantId ?? '-'}`);
          assert.equal(event.id, event.data.seq);
          if (event.event === 'DeleteRequested') break;
        }
      })();
      const tenant = await c.createTenant({ name, spec: {} });
      await c.deleteTenant(name);
      await reading;
      assert.ok(seen.includes(`Created:${tenant.id}`), seen.join());
      assert.ok(seen.includes(`DeleteRequested:${tenant.id}`), seen.join());
    });
  });
}
