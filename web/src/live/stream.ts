/**
 * The dashboard's one live connection to `GET /v1/events`, shared by every view. It is a `fetch`
 * stream rather than an EventSource, because EventSource cannot send the `Authorization` header
 * (and a token must never go in a URL). It resumes with `Last-Event-ID` after a drop, waiting
 * what the server's `retry:` asked for (else 2 s, doubling to 30 s while it keeps failing).
 * A 401/403 stops it (signed out); views subscribe and get each event and each state change.
 */
import { parseSse, type SseParserState } from '../../../src/api/client-sse.js';
import type { TenantEvent } from '../../../src/api/types.js';

export type StreamState = 'connecting' | 'live' | 'offline' | 'stopped';

type Listener = (event: TenantEvent) => void;
type StateListener = (state: StreamState) => void;

export class EventStream {
  private readonly listeners = new Set<Listener>();
  private readonly stateListeners = new Set<StateListener>();
  private controller: AbortController | undefined;
  private lastId: number | undefined;
  state: StreamState = 'stopped';

  constructor(private readonly token: () => string | undefined) {}

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onState(listener: StateListener): () => void {
    this.stateListeners.add(listener);
    listener(this.state);
    return () => this.stateListeners.delete(listener);
  }

  start(): void {
    this.stop();
    const controller = new AbortController();
    this.controller = controller;
    this.lastId = undefined;
    void this.run(controller.signal);
  }

  stop(): void {
    this.controller?.abort();
    this.controller = undefined;
    this.setState('stopped');
  }

  private setState(state: StreamState): void {
    if (state === this.state) return;
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private async run(signal: AbortSignal): Promise<void> {
    const parser: SseParserState = { retryMs: undefined };
    let failures = 0;
    while (!signal.aborted) {
      this.setState('connecting');
      try {
        const headers: Record<string, string> = { accept: 'text/event-stream' };
        const token = this.token();
        if (token) headers.authorization = `Bearer ${token}`;
        if (this.lastId !== undefined) headers['last-event-id'] = String(this.lastId);
        const response = await fetch('/v1/events', { headers, signal, cache: 'no-store' });
        if (response.status === 401 || response.status === 403) {
          this.setState('stopped');
          return;
        }
        if (!response.ok || !response.body) throw new Error(`event stream answered ${response.status}`);
        failures = 0;
        this.setState('live');
        for await (const frame of parseSse(response.body, parser)) {
          const event = JSON.parse(frame.data) as TenantEvent;
          this.lastId = Number(frame.id ?? event.seq);
          for (const listener of this.listeners) listener(event);
        }
      } catch {
        if (signal.aborted) return;
      }
      this.setState('offline');
      failures += 1;
      const wait = parser.retryMs ?? Math.min(30_000, 2000 * 2 ** Math.min(failures - 1, 4));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
  }
}
