import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeLogStream, MAX_LINE_BYTES } from './docker-logs.js';

function frame(stream: 1 | 2, text: string | Buffer): Buffer {
  const payload = typeof text === 'string' ? Buffer.from(text) : text;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

async function decode(chunks: readonly Buffer[], tty = false) {
  const lines = [];
  for await (const line of decodeLogStream(
    (async function* () {
      yield* chunks;
    })(),
    tty,
  ))
    lines.push(line);
  return lines;
}

const TS = '2026-01-15T09:30:00.123456789Z';

test('frames split anywhere (even inside a header or a UTF-8 character) decode to whole lines per stream', async () => {
  const bytes = Buffer.concat([
    frame(1, `${TS} hello wörld\n${TS} sec`),
    frame(2, `${TS} oops\n`),
    frame(1, `ond\n`),
  ]);
  for (const cut of [1, 5, 9, 17, 23, bytes.length - 1]) {
    const lines = await decode([bytes.subarray(0, cut), bytes.subarray(cut)]);
    assert.deepEqual(
      lines.map((l) => [l.stream, l.line]),
      [
        ['stdout', 'hello wörld'],
        ['stderr', 'oops'],
        ['stdout', 'second'],
      ],
      `cut at ${cut}`,
    );
    assert.equal(lines[0]!.ts, '2026-01-15T09:30:00.123Z');
  }
});

test('a TTY stream is raw output on stdout; CRLF endings and a last line without a newline are kept', async () => {
  const lines = await decode([Buffer.from(`${TS} one\r\n${TS} two`)], true);
  assert.deepEqual(
    lines.map((l) => [l.stream, l.line]),
    [
      ['stdout', 'one'],
      ['stdout', 'two'],
    ],
  );
});

test('an endless line is cut at MAX_LINE_BYTES: memory stays bounded', async () => {
  const long = 'x'.repeat(MAX_LINE_BYTES + 10);
  const chunks = [];
  for (let i = 0; i < long.length; i += 4096) chunks.push(frame(1, long.slice(i, i + 4096)));
  const lines = await decode(chunks);
  assert.equal(lines[0]!.line.length, MAX_LINE_BYTES);
  assert.equal(lines.map((l) => l.line).join(''), long);
});

test('a line without a timestamp keeps its text', async () => {
  const [line] = await decode([frame(1, 'no time here\n')]);
  assert.equal(line!.line, 'no time here');
  assert.ok(!Number.isNaN(Date.parse(line!.ts)));
});
