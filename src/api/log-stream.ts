/**
 * Writes a tenant's log lines to one HTTP response, as `text/plain` lines or as Server-Sent Events
 * (`event: log`, `data: {ts, stream, line}`). Lines are pulled one at a time and the next is pulled
 * only once the socket took the last one (backpressure), so a slow client holds the engine back and
 * memory per stream stays bounded. The stream ends when the lines end, when the client goes, when
 * `close()` is called (server shutdown, tenant deleted), or with an `event: error` frame (SSE) when
 * reading fails mid-stream.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { ComputeError } from '../domain/compute-error.js';
import type { LogLine } from '../compute/provider.js';
import { StreamWriter } from './stream-writer.js';

export type LogFormat = 'text' | 'sse';

export interface LogStreamOptions {
  readonly response: ServerResponse;
  readonly requestId: string;
  readonly format: LogFormat;
  readonly lines: AsyncIterator<LogLine>;
  /** The first pull, already started by the route (to answer an early failure as a problem). */
  readonly head: Promise<IteratorResult<LogLine>>;
  /** Aborted when the stream ends for any reason: the provider stops reading. */
  readonly stop: AbortController;
  readonly heartbeatMs: number;
  readonly log: FastifyBaseLogger;
}

export class LogStream {
  private closed = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly writer: StreamWriter;

  constructor(private readonly options: LogStreamOptions) {
    this.writer = new StreamWriter(options.response);
  }

  async run(): Promise<void> {
    const { response, format, head } = this.options;
    response.writeHead(200, {
      'content-type': format === 'sse' ? 'text/event-stream; charset=utf-8' : 'text/plain; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
      'x-request-id': this.options.requestId,
    });
    response.on('close', () => this.close());
    if (response.destroyed) this.close();
    if (format === 'sse') {
      this.heartbeat = setInterval(() => this.writer.write(': heartbeat\n\n'), this.options.heartbeatMs);
    }
    try {
      const first = await head;
      if (first.done !== true) {
        await this.send(first.value);
        await this.loop();
      }
    } catch (error) {
      this.failed(error);
    } finally {
      this.close();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.options.stop.abort(new Error('log stream closed'));
    this.writer.close();
    void this.options.lines.return?.().catch(() => undefined);
    if (!this.options.response.writableEnded) this.options.response.end();
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      const next = await this.options.lines.next();
      if (next.done === true || this.closed) return;
      await this.send(next.value);
    }
  }

  private async send(line: LogLine): Promise<void> {
    if (!this.writer.write(frame(line, this.options.format))) await this.writer.drained();
  }

  private failed(error: unknown): void {
    if (this.closed) return;
    const code = error instanceof ComputeError ? error.code : 'INTERNAL';
    const message = error instanceof ComputeError ? error.message : 'reading the logs failed';
    this.options.log.warn({ code }, 'log stream stopped: reading the runtime logs failed');
    if (this.options.format === 'sse')
      this.writer.write(`event: error\ndata: ${JSON.stringify({ code, message })}\n\n`);
  }
}

/** Control characters other than tab could forge frames or terminal escapes: shown escaped. */
function clean(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u0008\u000a-\u001f\u007f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

export function frame(line: LogLine, format: LogFormat): string {
  if (format === 'text') return `${clean(line.line)}\n`;
  // JSON escapes every control character, so the data is one line.
  return `event: log\ndata: ${JSON.stringify({ ts: line.ts, stream: line.stream, line: line.line })}\n\n`;
}
