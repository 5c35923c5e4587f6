/**
 * What an API client sees: create→ready observed through Lessor's own event stream
 * (`GET /v1/events`, what `lessor tenants create --wait` follows), one tenant at a time. The
 * difference from the watcher's figure is the stream's delivery delay.
 */
import { LessorClient } from '../../src/api/client.js';
import { summarize, wallMs, type Summary } from './stats.js';

export interface SseObservation {
  readonly tenants: number;
  /** POST start → `ready` event received on the SSE stream (ms). */
  readonly latency: Summary;
  /** Transition time in the event → received on the stream (ms). */
  readonly deliveryDelay: Summary;
}

export async function observeViaSse(url: string, count: number, prefix: string): Promise<SseObservation> {
  const client = new LessorClient({ baseUrl: url, timeoutMs: 30_000 });
  const abort = new AbortController();
  const readyAt = new Map<string, { received: number; at: number }>();
  const waiters = new Map<string, () => void>();
  const stream = (async () => {
    for await (const event of client.streamEvents({ signal: abort.signal })) {
      if (event.data.toPhase !== 'ready' || event.data.tenantId === null) continue;
      readyAt.set(event.data.tenantId, { received: wallMs(), at: Date.parse(event.data.at) });
      waiters.get(event.data.tenantId)?.();
    }
  })().catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 300));
  const latencies: number[] = [];
  const delays: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const t0 = wallMs();
      const tenant = await client.createTenant({
        name: `${prefix}-${i}`,
        spec: { provider: 'fake', config: {} },
      });
      if (!readyAt.has(tenant.id)) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`no ready event for ${tenant.id} on the stream within 10 s`)),
            10_000,
          );
          waiters.set(tenant.id, () => (clearTimeout(timer), resolve()));
        });
      }
      const seen = readyAt.get(tenant.id)!;
      latencies.push(seen.received - t0);
      delays.push(seen.received - seen.at);
    }
  } finally {
    abort.abort();
    await stream;
  }
  return { tenants: count, latency: summarize(latencies), deliveryDelay: summarize(delays) };
}
