/**
 * One Server-Sent Events connection: polls the event log after a cursor (every `pollMs`, or at once
 * when woken), writes `id:/event:/data:` frames, sends heartbeat comments, respects backpressure,
 * and stops on client disconnect, on `close()` (server shutdown) or on a read error (the client
 * reconnects with `Last-Event-ID` and loses nothing).
 */
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { TenantEvent } from '../domain/tenant-event.js';

export interface SseSessionOptions {
  readonly response: ServerResponse;
  readonly requestId: string;
  readonly afterSeq: number;
  readonly fetch: (afterSeq: number, limit: number) => Promise<readonly TenantEvent[]>;
  readonly filter?: (event: TenantEvent) => boolean;
  readonly pollMs: number;
  readonly heartbeatMs: number;
  readonly log: FastifyBaseLogger;
}

const BATCH = 500;
const RECONNECT_MS = 2000;

export class SseSession {
  private cursor: number;
  private closed = false;
  /** Ends a wait for `drain` early (closing). */
  private wakeUp: (() => void) | undefined;
  /** Ends the poll sleep early (new events, or closing); unset while the loop reads or writes. */
  private endSleep: (() => void) | undefined;
  /** A wake-up that came while the loop was reading: the next sleep is skipped. */
  private woken = false;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly options: SseSessionOptions) {
    this.cursor = options.afterSeq;
  }

  /** Writes the headers and streams until closed; resolves when the stream has ended. */
  async run(): Promise<void> {
    const { response } = this.options;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': this.options.requestId,
    });
    response.on('close', () => this.close());
    this.write(`retry: ${RECONNECT_MS}\n\n`);
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), this.options.heartbeatMs);
    try {
      await this.loop();
    } catch (error) {
      this.options.log.warn({ err: error }, 'event stream stopped: reading events failed');
    } finally {
      this.close();
    }
  }

  /** Wakes the poll loop at once (new events were committed). */
  wake(): void {
    this.woken = true;
    this.endSleep?.();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.wakeUp?.();
    this.endSleep?.();
    if (!this.options.response.writableEnded) this.options.response.end();
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      const events = await this.options.fetch(this.cursor, BATCH);
      for (const event of events) {
        if (this.closed) return;
        this.cursor = event.seq;
        if (this.options.filter && !this.options.filter(event)) continue;
        if (!this.write(frame(event))) await this.drained();
      }
      if (events.length < BATCH) await this.sleep(this.options.pollMs);
    }
  }

  private write(chunk: string): boolean {
    const { response } = this.options;
    if (this.closed || response.writableEnded || response.destroyed) return true;
    return response.write(chunk);
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.options.response.off('drain', done);
        this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
      this.options.response.once('drain', done);
    });
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(), ms);
      const done = (): void => {
        clearTimeout(timer);
        this.endSleep = undefined;
        this.woken = false;
        resolve();
      };
      this.endSleep = done;
    });
  }
}

/** One SSE frame; JSON never contains a raw newline, so `data` is a single line. */
export function frame(event: TenantEvent): string {
  const type = event.type.replace(/[^A-Za-z0-9_.-]/g, '');
  return `id: ${event.seq}\nevent: ${type}\ndata: ${JSON.stringify(event)}\n\n`;
}
