/**
 * Every log line of a request carries its request id; secrets and tokens never reach the log; the
 * per-request lines are debug, so at info a served request writes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { backends, type TestBackend, type TestDatabase } from '../store/testing/test-databases.js';
import { createApiServer } from './server.js';
import { apiDeps, tenantBody, testApiOptions, TOKENS, uniqueName } from './testing/api-harness.js';
import { jsonLineSink } from './testing/json-lines.js';

/**
 * An API server on a fresh database whose log lines (at `level`) are collected in `lines`; call
 * inside a `describe` (it registers the before/after hooks). `app()` is the server once started.
 */
function loggedServer(backend: TestBackend, level: 'debug' | 'info') {
  const { sink, lines } = jsonLineSink();
  let db: TestDatabase | undefined;
  let server: FastifyInstance | undefined;
  before(async () => {
    db = await backend.create();
    server = await createApiServer(apiDeps(db.store, { logger: pino({ level }, sink) }), testApiOptions());
  });
  after(async () => {
    await server?.close();
    await db?.cleanup();
  });
  return { lines, app: () => server! };
}

for (const backend of backends()) {
  describe(`[${backend.name}] api: logging`, () => {
    const { lines, app } = loggedServer(backend, 'debug');

    test(`[${backend.name}] request logs carry requestId; no secret, token or body in any line`, async () => {
      const config = { image: 'x', secretEnv: { API_KEY: 'sup3r-s3cret-value' } };
      const headers = { authorization: `Bearer ${TOKENS.admin}`, 'x-request-id': 'trace-42' };
      const ok = await app().inject({
        method: 'POST',
        url: '/v1/tenants',
        headers,
        payload: tenantBody(uniqueName(), config),
      });
      assert.equal(ok.statusCode, 201);
      const bad = await app().inject({
        method: 'POST',
        url: '/v1/tenants',
        headers: { ...headers, 'x-request-id': 'trace-43' },
        payload: { name: 'BAD', spec: { config } },
      });
      assert.equal(bad.statusCode, 400);
      const mine = lines.filter((l) => l.requestId === 'trace-42' || l.requestId === 'trace-43');
      assert.ok(mine.length >= 4, JSON.stringify(lines));
      const requestLines = lines.filter((l) => 'req' in l || 'res' in l);
      assert.ok(requestLines.every((l) => typeof l.requestId === 'string'));
      const all = JSON.stringify(lines);
      for (const secret of ['sup3r-s3cret-value', TOKENS.admin]) assert.ok(!all.includes(secret), secret);
    });
  });

  describe(`[${backend.name}] api: logging at info`, () => {
    const { lines, app } = loggedServer(backend, 'info');

    test(`[${backend.name}] a served request writes no line; a refused one is logged with its requestId`, async () => {
      const headers = { authorization: `Bearer ${TOKENS.admin}` };
      const name = uniqueName();
      const created = await app().inject({
        method: 'POST',
        url: '/v1/tenants',
        headers: { ...headers, 'x-request-id': 'quiet-1' },
        payload: tenantBody(name),
      });
      assert.equal(created.statusCode, 201);
      const got = await app().inject({
        method: 'GET',
        url: `/v1/tenants/${name}`,
        headers: { ...headers, 'x-request-id': 'quiet-2' },
      });
      assert.equal(got.statusCode, 200);
      const missing = await app().inject({
        method: 'GET',
        url: '/v1/tenants/no-such-tenant',
        headers: { ...headers, 'x-request-id': 'loud-1' },
      });
      assert.equal(missing.statusCode, 404);
      const quiet = lines.filter((l) => l.requestId === 'quiet-1' || l.requestId === 'quiet-2');
      assert.deepEqual(quiet, []);
      assert.ok(
        lines.some((l) => l.requestId === 'loud-1' && l.status === 404),
        JSON.stringify(lines),
      );
    });
  });
}
