/**
 * The webhook outbox's fleet-wide gauges: deliveries pending and dead, read from the store (two
 * indexed counts) at a scrape only when the last reading is older than `refreshIntervalMs`, one
 * reading at a time, like the other fleet gauges (fleet-gauges.ts). A failed reading keeps the last
 * values and is retried at the next scrape.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../domain/logger.js';
import { CachedSnapshot } from './cached-snapshot.js';
import type { WebhookOutboxStats } from '../../store/webhook-store.js';

export const WEBHOOK_GAUGE_NAMES = {
  pending: 'lessor_webhook_outbox_pending',
  dead: 'lessor_webhook_outbox_dead',
} as const;

export interface WebhookGaugeOptions {
  readonly read: () => Promise<WebhookOutboxStats>;
  readonly refreshIntervalMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** Registers both gauges on `registry` (once: a second call for the same registry does nothing). */
export function registerWebhookGauges(registry: Registry, options: WebhookGaugeOptions): void {
  if (registry.getSingleMetric(WEBHOOK_GAUGE_NAMES.pending)) return;
  const stats = new CachedSnapshot({ ...options, what: 'the webhook outbox' });
  const gauge = (name: string, help: string, pick: (s: WebhookOutboxStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const value = await stats.get();
        if (value) this.set(pick(value));
      },
    });
  gauge(
    WEBHOOK_GAUGE_NAMES.pending,
    'Webhook deliveries waiting to be delivered, fleet-wide (cached)',
    (s) => s.pending,
  );
  gauge(
    WEBHOOK_GAUGE_NAMES.dead,
    'Webhook deliveries parked as dead letters, fleet-wide (cached)',
    (s) => s.dead,
  );
}
