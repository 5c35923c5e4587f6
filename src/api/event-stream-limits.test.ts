/**
 * Limits of `GET /v1/events` over real HTTP: open streams per caller (429) and per server (503),
 * slots freed when a stream closes, and a client that stops reading: closed once too many events
 * wait for it, then resumed with Last-Event-ID without losing any.
 */
import assert from 'node:assert/strict';
import { backends } from '../store/testing/test-databases.js';
import {
  apiSuite,
  tenantBody,
  TEST_SSE,
  TOKENS,
  uniqueName,
  type ApiHarness,
} from './testing/api-harness.js';
import type { Problem, Tenant } from './types.js';

type Role = keyof typeof TOKENS;

interface OpenStream {
  readonly response: Response;
  close(): void;
}

async function openStream(h: ApiHarness, role: Role, query = '', headers: Record<string, string> = {}) {
  const stop = new AbortController();
  const response = await fetch(`${await h.baseUrl()}/v1/events${query}`, {
    headers: { authorization: `Bearer ${TOKENS[role]}`, ...headers },
    signal: stop.signal,
  });
  const stream: OpenStream = { response, close: () => stop.abort() };
  return stream;
}

/** Opens a stream, retrying while the server has not yet noticed that a closed one went away. */
async function openEventually(h: ApiHarness, role: Role): Promise<OpenStream> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const stream = await openStream(h, role);
    if (stream.response.status === 200 || Date.now() > deadline) return stream;
    await stream.response.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function refusal(stream: OpenStream): Promise<[number, string | null, string]> {
  const { response } = stream;
  assert.equal(response.headers.get('content-type'), 'application/problem+json');
  const problem = (await response.json()) as Problem;
  return [response.status, response.headers.get('retry-after'), problem.code];
}

/**
 * Reads the stream until it ends, `until(tail)` holds for the last 64 KiB read, or `ms` passes;
 * returns the text and whether the stream ended.
 */
async function readToEnd(
  response: Response,
  ms: number,
  until: (text: string) => boolean = () => false,
): Promise<{ text: string; ended: boolean }> {
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + ms;
  try {
    for (;;) {
      const chunk = await Promise.race([
        reader.read(),
        new Promise<null>((r) => setTimeout(() => r(null), Math.max(0, deadline - Date.now()))),
      ]);
      if (chunk === null) return { text, ended: false };
      if (chunk.done) return { text, ended: true };
      text += decoder.decode(chunk.value, { stream: true });
      if (until(text.slice(-64 * 1024))) return { text, ended: false };
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

const idsIn = (text: string) => [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));

for (const backend of backends()) {
  apiSuite(
    backend,
    'event stream limits',
    (h) => {
      h.test(
        'one stream over the caller’s share → 429, over the server’s → 503, both with Retry-After; a closed stream frees its slot',
        async () => {
          const viewer = [await openStream(h, 'viewer'), await openStream(h, 'viewer')];
          assert.deepEqual(
            viewer.map((s) => s.response.status),
            [200, 200],
          );
          assert.deepEqual(await refusal(await openStream(h, 'viewer')), [429, '5', 'RATE_LIMITED']);
          const operator = await openStream(h, 'operator');
          assert.equal(operator.response.status, 200);
          assert.deepEqual(await refusal(await openStream(h, 'admin')), [503, '5', 'UNAVAILABLE']);

          viewer[0]!.close();
          const again = await openEventually(h, 'viewer');
          assert.equal(again.response.status, 200, 'the closed stream gave its slot back');
          assert.deepEqual(await refusal(await openStream(h, 'admin')), [503, '5', 'UNAVAILABLE']);
          for (const stream of [viewer[1]!, operator, again]) stream.close();
          assert.equal((await openEventually(h, 'admin')).response.status, 200);
        },
      );
    },
    { sse: { ...TEST_SSE, maxStreams: 3, maxStreamsPerPrincipal: 2 } },
  );

  apiSuite(
    backend,
    'event stream: a client that stops reading',
    (h) => {
      h.test(
        'is closed once too many events wait for it, and resumes with Last-Event-ID losing none',
        async () => {
          const tenant = (
            await h.inject({ method: 'POST', url: '/v1/tenants', payload: tenantBody(uniqueName()) })
          ).json<Tenant>();
          const stalled = await openStream(h, 'viewer', `?tenantId=${tenant.id}`);
          assert.equal(stalled.response.status, 200);
          const total = 600;
          const padding = 'x'.repeat(16 * 1024);
          for (let n = 0; n < total; n++) {
            await h.store().appendEvent(tenant.id, {
              type: 'Audit',
              actor: 'test',
              reason: 'Bulk',
              message: `event ${n} ${padding}`,
              fromPhase: null,
              toPhase: null,
              generation: 1,
              runId: null,
              executionId: null,
              data: { n },
            });
            if (n % 20 === 19) h.feed().changed();
          }
          h.feed().changed();
          const first = await readToEnd(stalled.response, 10_000);
          assert.ok(first.ended, 'the server ended the stream instead of queueing without bound');
          const got = idsIn(first.text);
          assert.ok(got.length < total, `cut off after ${got.length} of ${total} events`);

          const resumed = await openStream(h, 'viewer', `?tenantId=${tenant.id}`, {
            'last-event-id': String(got.at(-1)),
          });
          const newest = await h
            .store()
            .events.listByTenant(tenant.id, { afterSeq: got.at(-1)!, limit: total });
          const lastLine = `id: ${newest.at(-1)!.seq}\n`;
          const rest = idsIn((await readToEnd(resumed.response, 10_000, (t) => t.includes(lastLine))).text);
          const all = [...got, ...rest];
          assert.equal(all.length, total, 'every event arrived exactly once');
          assert.deepEqual(
            all,
            [...all].sort((a, b) => a - b),
          );
          assert.equal(new Set(all).size, total);
          resumed.close();
        },
      );
    },
    { feed: { maxQueuedEvents: 20, pollIntervalMs: 60_000 } },
  );
}
