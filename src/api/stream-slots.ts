/**
 * How many event streams may be open at once: in total (this process) and per caller (token, or IP
 * when anonymous, as for the rate limit). A caller over its share gets 429 RATE_LIMITED — it can
 * close one of its own streams; a full server gets 503 UNAVAILABLE — nothing the caller did, and
 * another replica may have room. Both carry Retry-After. The slot is freed when the stream ends.
 */
import type { FastifyRequest } from 'fastify';
import type { SseOptions } from './api-deps.js';
import { httpError } from './problem.js';

/** Streams live for minutes; a few seconds is a fair first wait before trying again. */
const RETRY_AFTER_S = 5;

export class StreamSlots {
  private open = 0;
  private readonly perCaller = new Map<string, number>();

  constructor(private readonly limits: Pick<SseOptions, 'maxStreams' | 'maxStreamsPerPrincipal'>) {}

  /** Takes a slot for the request's caller; returns its release (idempotent). Throws when full. */
  acquire(request: Pick<FastifyRequest, 'principal' | 'ip'>): () => void {
    const caller = request.principal.authenticated ? `token:${request.principal.name}` : `ip:${request.ip}`;
    const mine = this.perCaller.get(caller) ?? 0;
    const headers = { 'retry-after': String(RETRY_AFTER_S) };
    if (mine >= this.limits.maxStreamsPerPrincipal) {
      throw httpError(
        'RATE_LIMITED',
        `at most ${this.limits.maxStreamsPerPrincipal} open event streams per caller; close one first`,
        { headers },
      );
    }
    if (this.open >= this.limits.maxStreams) {
      throw httpError('UNAVAILABLE', 'this server has as many event streams open as it serves; retry later', {
        headers,
      });
    }
    this.open += 1;
    this.perCaller.set(caller, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open -= 1;
      const left = (this.perCaller.get(caller) ?? 1) - 1;
      if (left > 0) this.perCaller.set(caller, left);
      else this.perCaller.delete(caller);
    };
  }
}
