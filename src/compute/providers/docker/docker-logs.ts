/**
 * Decodes the engine's log stream into lines. For a container without a TTY the body is a sequence
 * of frames: an 8-byte header (byte 0 the stream — 1 stdout, 2 stderr —, bytes 4-7 the payload size,
 * big-endian) then the payload. With `timestamps=true` each line starts with an RFC 3339 time and a
 * space. A TTY container's body is the raw output (all of it stdout). Memory stays bounded: the body
 * is read only as fast as lines are taken, and a line longer than MAX_LINE_BYTES is cut there.
 */
import type { LogLine, LogStream } from '../../provider.js';

const HEADER_BYTES = 8;
export const MAX_LINE_BYTES = 64 * 1024;
const STREAMS: Readonly<Record<number, LogStream>> = { 1: 'stdout', 2: 'stderr' };

/** Splits text chunks of one stream into lines, cutting over-long ones. */
class LineSplitter {
  private pending = '';

  constructor(private readonly stream: LogStream) {}

  push(text: string): LogLine[] {
    this.pending += text;
    const lines: LogLine[] = [];
    for (;;) {
      const end = this.pending.indexOf('\n');
      if (end === -1) break;
      lines.push(toLine(this.pending.slice(0, end), this.stream));
      this.pending = this.pending.slice(end + 1);
    }
    while (this.pending.length > MAX_LINE_BYTES) {
      lines.push(toLine(this.pending.slice(0, MAX_LINE_BYTES), this.stream));
      this.pending = this.pending.slice(MAX_LINE_BYTES);
    }
    return lines;
  }

  flush(): LogLine[] {
    if (this.pending === '') return [];
    const line = toLine(this.pending, this.stream);
    this.pending = '';
    return [line];
  }
}

/** `2026-01-15T09:30:00.123456789Z text` → ts + line; a line without a time keeps the time of now. */
function toLine(raw: string, stream: LogStream): LogLine {
  const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  const space = text.indexOf(' ');
  const stamp = space > 0 ? text.slice(0, space) : '';
  const ms = Date.parse(stamp);
  if (stamp.length >= 20 && !Number.isNaN(ms)) {
    return { ts: new Date(ms).toISOString(), stream, line: text.slice(space + 1) };
  }
  return { ts: new Date().toISOString(), stream, line: text };
}

/** Lines of a multiplexed (or, with `tty`, raw) log body, in the order the engine sent them. */
/** A frame's payload is kept up to this size; the rest of an absurd frame is dropped. */
const MAX_FRAME_BYTES = 4 * MAX_LINE_BYTES;

export async function* decodeLogStream(body: AsyncIterable<Buffer>, tty: boolean): AsyncGenerator<LogLine> {
  const splitters = { stdout: new LineSplitter('stdout'), stderr: new LineSplitter('stderr') };
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  let buffer: Buffer = Buffer.alloc(0);
  /** Bytes of an over-long frame still to drop (only its head is kept). */
  let skip = 0;
  for await (const chunk of body) {
    if (tty) {
      yield* splitters.stdout.push(decoders.stdout.decode(chunk, { stream: true }));
      continue;
    }
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    if (skip > 0) {
      const dropped = Math.min(skip, buffer.length);
      buffer = buffer.subarray(dropped);
      skip -= dropped;
    }
    while (skip === 0 && buffer.length >= HEADER_BYTES) {
      const size = buffer.readUInt32BE(4);
      const stream = STREAMS[buffer[0]!];
      const take = Math.min(size, MAX_FRAME_BYTES);
      if (buffer.length < HEADER_BYTES + take) break;
      const payload = buffer.subarray(HEADER_BYTES, HEADER_BYTES + take);
      buffer = buffer.subarray(HEADER_BYTES + take);
      skip = size - take;
      const dropped = Math.min(skip, buffer.length);
      buffer = buffer.subarray(dropped);
      skip -= dropped;
      if (stream) yield* splitters[stream].push(decoders[stream].decode(payload, { stream: true }));
    }
  }
  yield* splitters.stdout.flush();
  yield* splitters.stderr.flush();
}
