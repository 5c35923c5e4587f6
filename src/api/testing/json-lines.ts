/**
 * A writable stream that keeps the JSON lines written to it, parsed: where tests point a pino
 * logger to read back what it logged.
 */
import { Writable } from 'node:stream';

export function jsonLineSink(): { sink: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { sink, lines };
}
