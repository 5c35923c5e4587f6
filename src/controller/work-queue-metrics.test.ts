import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../domain/logger.js';
import { createPromMetrics } from '../main/telemetry/prom-metrics.js';
import { WorkQueue } from './work-queue.js';

async function values(registry: Registry, name: string): Promise<Record<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  assert.ok(metric, `${name} is registered`);
  return Object.fromEntries(
    metric.values.map((v) => [
      `${(v as { metricName?: string }).metricName ?? name}${JSON.stringify(v.labels)}`,
      v.value,
    ]),
  );
}

test('work queue metrics: adds, collapsed enqueues, a failure retried, requeue_after, depth back to 0', async () => {
  const registry = new Registry();
  const metrics = createPromMetrics(registry);
  const calls = new Map<string, number>();
  const queue = new WorkQueue<string>({
    workers: 1,
    ratePerSecond: 1000,
    timeoutMs: 5_000,
    backoff: { initialMs: 1, maxMs: 1 },
    logger: silentLogger,
    random: () => 1,
    name: 'tenants',
    metrics: { queue: metrics.workQueue, controller: metrics.controller },
    handle: async (key) => {
      const n = (calls.get(key) ?? 0) + 1;
      calls.set(key, n);
      if (key === 'flaky' && n === 1) throw new Error('first handling fails');
      if (key === 'again' && n === 1) return { requeueAfterMs: 1 };
    },
  });
  queue.enqueue('ok', 'api');
  queue.enqueue('ok', 'api'); // collapses into the queued one
  queue.enqueue('flaky', 'api');
  queue.enqueue('again', 'api');
  queue.start();
  await waitUntil(() => calls.get('flaky') === 2 && calls.get('again') === 2);
  await queue.whenIdle();

  const label = '{"name":"tenants"}';
  // ok, flaky, again, then flaky's retry and again's requeue
  assert.equal(
    (await values(registry, 'lessor_workqueue_adds_total'))[`lessor_workqueue_adds_total${label}`],
    5,
  );
  assert.equal(
    (await values(registry, 'lessor_workqueue_retries_total'))[`lessor_workqueue_retries_total${label}`],
    1,
  );
  assert.equal((await values(registry, 'lessor_workqueue_depth'))[`lessor_workqueue_depth${label}`], 0);
  const reconciles = await values(registry, 'lessor_controller_reconcile_total');
  assert.deepEqual(reconciles, {
    'lessor_controller_reconcile_total{"controller":"tenants","result":"success"}': 3,
    'lessor_controller_reconcile_total{"controller":"tenants","result":"error"}': 1,
    'lessor_controller_reconcile_total{"controller":"tenants","result":"requeue_after"}': 1,
  });
  const errors = await values(registry, 'lessor_controller_reconcile_errors_total');
  assert.equal(errors['lessor_controller_reconcile_errors_total{"controller":"tenants"}'], 1);
  const work = await values(registry, 'lessor_workqueue_work_duration_seconds');
  assert.equal(work[`lessor_workqueue_work_duration_seconds_count${label}`], 5);
  const waited = await values(registry, 'lessor_workqueue_queue_duration_seconds');
  assert.equal(waited[`lessor_workqueue_queue_duration_seconds_count${label}`], 5);
  await queue.stop(0);
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(condition(), 'condition reached');
}
