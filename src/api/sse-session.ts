/**
 * One Server-Sent Events connection: writes the events its feed subscription hands it as
 * `id:/event:/data:` frames, sends heartbeat comments, respects backpressure, and stops on client
 * disconnect, on `close()` (server shutdown) or when the subscription ends — the client fell too
 * far behind, or a catch-up read failed. In every case the client reconnects with `Last-Event-ID`
 * and loses nothing.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { EventSubscription, SubscriptionEnd } from '../callbacks/event-subscription.js';
import type { TenantEvent } from '../domain/tenant-event.js';
import { StreamWriter } from './stream-writer.js';

export interface SseSessionOptions {
  readonly response: ServerResponse;
  readonly requestId: string;
  readonly subscription: EventSubscription;
  readonly heartbeatMs: number;
  readonly log: FastifyBaseLogger;
}

const RECONNECT_MS = 2000;

export class SseSession {
  private closed = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly writer: StreamWriter;

  constructor(private readonly options: SseSessionOptions) {
    this.writer = new StreamWriter(options.response);
  }

  /** Writes the headers and streams until closed; resolves when the stream has ended. */
  async run(): Promise<void> {
    const { response, subscription } = this.options;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': this.options.requestId,
    });
    response.on('close', () => this.close());
    // The client may have gone while the subscription was being set up: 'close' fired already.
    if (response.destroyed) this.close();
    void subscription.ended.then((end) => this.ended(end));
    this.writer.write(`retry: ${RECONNECT_MS}\n\n`);
    this.heartbeat = setInterval(() => this.writer.write(': heartbeat\n\n'), this.options.heartbeatMs);
    try {
      await this.loop();
    } finally {
      this.close();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.options.subscription.close();
    this.writer.close();
    if (!this.options.response.writableEnded) this.options.response.end();
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      const events = await this.options.subscription.next();
      if (events === null) return;
      for (const event of events) {
        if (this.closed) return;
        if (!this.writer.write(frame(event))) await this.writer.drained();
      }
    }
  }

  private ended(end: SubscriptionEnd): void {
    if (end.reason === 'overflow')
      this.options.log.info(
        'event stream closed: the client fell too far behind; it resumes with Last-Event-ID',
      );
    if (end.reason === 'failed')
      this.options.log.warn({ err: end.error }, 'event stream stopped: reading events failed');
    this.close();
  }
}

/** Frames are shared by every stream an event goes to: serialised once. */
const frames = new WeakMap<TenantEvent, string>();

/** One SSE frame; JSON never contains a raw newline, so `data` is a single line. */
export function frame(event: TenantEvent): string {
  let text = frames.get(event);
  if (text === undefined) {
    const type = event.type.replace(/[^A-Za-z0-9_.-]/g, '');
    text = `id: ${event.seq}\nevent: ${type}\ndata: ${JSON.stringify(event)}\n\n`;
    frames.set(event, text);
  }
  return text;
}
