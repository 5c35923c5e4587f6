/**
 * `GET /v1/events` (SSE) over real HTTP: framing, resumption, wake-ups through the shared feed,
 * heartbeats, shutdown, stream caps, and a slow client that falls too far behind.
 */
import assert from 'node:assert/strict';
import { backends } from '../store/testing/test-databases.js';
import { createApiServer } from './server.js';
import {
  apiDeps,
  apiSuite,
  tenantBody,
  TEST_SSE,
  testApiOptions,
  TOKENS,
  uniqueName,
  type ApiHarness,
} from './testing/api-harness.js';
import type { Tenant, TenantEventList } from './types.js';

const AUTH = { authorization: `Bearer ${TOKENS.viewer}` };

/** Reads the raw stream until `until(text)` holds or `ms` passes; returns what was read. */
async function readUntil(response: Response, until: (text: string) => boolean, ms = 5000): Promise<string> {
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + ms;
  try {
    while (!until(text) && Date.now() < deadline) {
      const chunk = await Promise.race([
        reader.read(),
        new Promise<null>((r) => setTimeout(() => r(null), deadline - Date.now())),
      ]);
      if (chunk === null || chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return text;
}

async function createTenant(h: ApiHarness): Promise<{ id: string; seq: number }> {
  const tenant = (
    await h.inject({ method: 'POST', url: '/v1/tenants', payload: tenantBody(uniqueName()) })
  ).json<Tenant>();
  const events = (
    await h.inject({ method: 'GET', url: `/v1/tenants/${tenant.id}/events` })
  ).json<TenantEventList>();
  return { id: tenant.id, seq: events.items[0]!.seq };
}

for (const backend of backends()) {
  apiSuite(
    backend,
    'event stream (SSE)',
    (h) => {
      h.test('text/event-stream with id/event/data frames; since= resumes after a seq', async () => {
        const first = await createTenant(h);
        const second = await createTenant(h);
        const res = await fetch(`${await h.baseUrl()}/v1/events?since=${first.seq}`, { headers: AUTH });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
        assert.ok(res.headers.get('x-request-id'));
        const text = await readUntil(res, (t) => t.includes(`"tenantId":"${second.id}"`));
        assert.match(text, /^retry: \d+\n\n/);
        const frame = new RegExp(`id: ${second.seq}\\nevent: Created\\ndata: (\\{[^\\n]*\\})\\n\\n`).exec(
          text,
        );
        assert.ok(frame, text);
        assert.equal((JSON.parse(frame[1]!) as { tenantId: string }).tenantId, second.id);
        assert.ok(!text.includes(`"tenantId":"${first.id}"`), 'events up to `since` are not replayed');
      });

      h.test('Last-Event-ID wins over since; tenantId filters', async () => {
        const a = await createTenant(h);
        const b = await createTenant(h);
        const url = `${await h.baseUrl()}/v1/events?since=0&tenantId=${b.id}`;
        const res = await fetch(url, { headers: { ...AUTH, 'last-event-id': String(a.seq - 1) } });
        const text = await readUntil(res, (t) => t.includes(`id: ${b.seq}\n`));
        assert.ok(text.includes(`id: ${b.seq}\n`), text);
        assert.ok(!text.includes(a.id), 'other tenants are filtered out');
      });

      h.test(
        'a change signal wakes the streams at once (the feed polls every 60 s here); heartbeats are comments',
        async () => {
          const res = await fetch(`${await h.baseUrl()}/v1/events`, { headers: AUTH });
          const reading = readUntil(
            res,
            (t) => t.includes('"type":"Created"') && t.includes(': heartbeat'),
            3000,
          );
          await new Promise((r) => setTimeout(r, 300));
          const tenant = await createTenant(h);
          h.feed().changed();
          const text = await reading;
          assert.ok(text.includes(tenant.id), text);
          assert.ok(text.includes(': heartbeat\n\n'), text);
        },
      );

      h.test('authentication applies; bad Last-Event-ID → 400', async () => {
        assert.equal((await h.inject({ method: 'GET', url: '/v1/events', token: null })).statusCode, 401);
        const bad = await h.inject({ method: 'GET', url: '/v1/events', headers: { 'last-event-id': '-1' } });
        assert.equal(bad.statusCode, 400);
      });

      h.test('server close ends open streams promptly and cleanly', async () => {
        const app = await createApiServer(apiDeps(h.store(), { feed: h.feed() }), testApiOptions());
        const base = await app.listen({ host: '127.0.0.1', port: 0 });
        const res = await fetch(`${base}/v1/events`, { headers: AUTH });
        const reader = res.body!.getReader();
        await reader.read();
        const started = Date.now();
        await app.close();
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read());
        assert.ok(Date.now() - started < 3000, 'close did not wait for the stream');
      });
    },
    { feed: { pollIntervalMs: 60_000 }, sse: { ...TEST_SSE, heartbeatMs: 200 } },
  );
}
