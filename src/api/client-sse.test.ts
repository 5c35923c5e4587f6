import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSse, type SseFrame } from './client-sse.js';

function streamOf(chunks: readonly string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function frames(chunks: readonly string[]): Promise<SseFrame[]> {
  const out: SseFrame[] = [];
  for await (const frame of parseSse(streamOf(chunks))) out.push(frame);
  return out;
}

test('SSE parsing: fields, comments, line endings, chunk boundaries, retry', async () => {
  assert.deepEqual(await frames(['retry: 2000\n\n: heartbeat\n\nid: 7\nevent: Created\ndata: {"a":1}\n\n']), [
    { id: '7', event: 'Created', data: '{"a":1}' },
  ]);
  assert.deepEqual(await frames(['id: 1\r\nda', 'ta: x\r', '\ndata: y\r\n\r\n']), [
    { id: '1', event: 'message', data: 'x\ny' },
  ]);
  assert.deepEqual(await frames(['data:no-space\n\nid: 2\n\n']), [
    { id: undefined, event: 'message', data: 'no-space' },
  ]);
  assert.deepEqual(
    await frames(['data: unterminated']),
    [],
    'a frame without its blank line is not dispatched',
  );
  const state = { retryMs: undefined as number | undefined };
  for await (const _ of parseSse(streamOf(['retry: 1500\n\n']), state));
  assert.equal(state.retryMs, 1500);
});
