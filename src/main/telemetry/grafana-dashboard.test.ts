/**
 * deploy/grafana/lessor-dashboard.json queries only metrics Lessor exports: every `lessor_*` name
 * in every panel's PromQL (histogram series `_bucket`/`_sum`/`_count` map to their family) is a
 * family on a registry set up as the app sets it up (PostgreSQL pool gauges included), and every
 * exported family is shown somewhere.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { createHttpMetrics } from '../../api/metrics.js';
import { silentLogger } from '../../domain/logger.js';
import type { StoreStatsRepository } from '../../store/store.js';
import { registerFleetGauges } from './fleet-gauges.js';
import { createPromMetrics, createRolloutMetrics, createWebhookMetrics } from './prom-metrics.js';
import { registerWebhookGauges } from './webhook-gauges.js';

const DASHBOARD = new URL('../../../deploy/grafana/lessor-dashboard.json', import.meta.url);

interface Panel {
  readonly title?: string;
  readonly targets?: readonly { readonly expr?: string }[];
  readonly panels?: readonly Panel[];
}

function expressions(panels: readonly Panel[]): { panel: string; expr: string }[] {
  return panels.flatMap((panel) => [
    ...(panel.targets ?? []).flatMap((t) => (t.expr ? [{ panel: panel.title ?? '?', expr: t.expr }] : [])),
    ...expressions(panel.panels ?? []),
  ]);
}

async function exportedFamilies(): Promise<Set<string>> {
  const registry = new Registry();
  createPromMetrics(registry);
  createHttpMetrics(registry);
  const stats: StoreStatsRepository = {
    tenantsByPhase: async () => ({}),
    activeRuns: async () => [],
    callbackOutbox: async () => ({ pending: 0, dead: 0, oldestPendingAt: null }),
    connectionPool: () => ({ total: 1, idle: 1, waiting: 0, max: 10 }),
  };
  registerFleetGauges(registry, { stats, refreshIntervalMs: 1000, logger: silentLogger });
  createWebhookMetrics(registry);
  createRolloutMetrics(registry);
  registerWebhookGauges(registry, {
    read: async () => ({ pending: 0, dead: 0 }),
    refreshIntervalMs: 1000,
    logger: silentLogger,
  });
  const text = await registry.metrics();
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
}

function family(series: string, families: ReadonlySet<string>): string {
  if (families.has(series)) return series;
  const base = series.replace(/_(bucket|sum|count)$/, '');
  return base;
}

test('every metric the Grafana dashboard queries is exported, and every exported one is on it', async () => {
  const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: Panel[]; title: string };
  assert.equal(dashboard.title, 'Lessor');
  const families = await exportedFamilies();
  const queried = new Set<string>();
  const all = expressions(dashboard.panels);
  assert.ok(all.length >= 20, `${all.length} queries`);
  for (const { panel, expr } of all) {
    const names = [...expr.matchAll(/\blessor_[a-z0-9_]+/g)].map((m) => m[0]);
    assert.ok(names.length > 0, `panel "${panel}" queries no Lessor metric: ${expr}`);
    for (const name of names) {
      const f = family(name, families);
      assert.ok(families.has(f), `panel "${panel}" queries ${name}, which Lessor does not export`);
      queried.add(f);
    }
  }
  const unshown = [...families].filter((f) => f.startsWith('lessor_') && !queried.has(f));
  assert.deepEqual(unshown, [], 'exported but on no panel');
});
