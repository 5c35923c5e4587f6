/**
 * Outgoing webhooks as one service of the process: the address guard, the HTTP sender and the
 * dispatcher, wired to the store and to the API (which checks URLs with the same guard, and wakes
 * the dispatcher after a test ping or a retry by hand).
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../domain/logger.js';
import type { WebhookApi } from '../api/api-deps.js';
import { renderWebhookEvent } from '../api/webhook-view.js';
import { DestinationGuard } from '../callbacks/webhook-destination.js';
import { WebhookDispatcher } from '../callbacks/webhook-dispatcher.js';
import { webhookSender } from '../callbacks/webhook-sender.js';
import type { ProviderRegistry } from '../compute/provider-registry.js';
import type { Store } from '../store/store.js';
import type { LessorConfig } from './config/load-config.js';
import { createWebhookMetrics } from './telemetry/prom-metrics.js';
import { registerWebhookGauges } from './telemetry/webhook-gauges.js';

export interface WebhookService {
  readonly api: WebhookApi;
  start(): void;
  wake(): void;
  stop(graceMs: number): Promise<void>;
}

export function webhookService(
  config: LessorConfig['webhooks'],
  deps: {
    store: Store;
    providers: ProviderRegistry;
    instanceId: string;
    logger: Logger;
    /** Absent: no metrics. */
    metrics?: { registry: Registry; refreshIntervalMs: number };
  },
): WebhookService {
  const guard = new DestinationGuard(config);
  const logger = deps.logger.child({ component: 'webhooks' });
  if (deps.metrics) {
    registerWebhookGauges(deps.metrics.registry, {
      read: () => deps.store.webhooks.outboxStats(),
      refreshIntervalMs: deps.metrics.refreshIntervalMs,
      logger,
    });
  }
  const sender = webhookSender(guard);
  const dispatcher = new WebhookDispatcher(
    {
      webhooks: deps.store.webhooks,
      send: sender.send,
      render: (event) => renderWebhookEvent(event, deps.providers),
      ownerId: deps.instanceId,
      logger,
      ...(deps.metrics && { metrics: createWebhookMetrics(deps.metrics.registry) }),
    },
    config,
  );
  return {
    api: { guard, wake: () => dispatcher.wake(), secretOverlapMs: config.secretOverlapMs },
    start: () => dispatcher.start(),
    wake: () => dispatcher.wake(),
    stop: async (graceMs) => {
      await dispatcher.stop(graceMs);
      sender.close();
    },
  };
}
