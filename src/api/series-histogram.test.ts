/**
 * `SeriesHistogram` writes `/metrics` byte for byte as prom-client's `Histogram` does for the same
 * observations, through every way series appear and go (reset, remove, zero), and refuses what
 * prom-client refuses.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { createHttpMetrics } from './metrics.js';
import { SeriesHistogram } from './series-histogram.js';

type Step = (h: Histogram<'method' | 'route' | 'status_code'>) => void;

const buckets = [0.001, 0.01, 0.1, 1];

/** Observations over a few label sets, with values on, between and beyond the bounds. */
const observations: Step[] = [];
const values = [0, 0.001, 0.0005, 0.05, 0.1, 0.7, 3, 1e-9];
const labelSets = [
  { method: 'GET', route: '/v1/tenants/:idOrName', status_code: '200' },
  { method: 'GET', route: '/v1/tenants/:idOrName', status_code: '404' },
  { method: 'PUT', route: '/v1/tenants/:idOrName', status_code: '200' },
  { route: '/v1/tenants', status_code: '200', method: 'GET' },
  { method: 'GET', route: 'unmatched', status_code: 404 },
  { method: 'GET', route: 'unmatched', status_code: '404' },
];
for (let i = 0; i < 200; i++) {
  const labels = labelSets[(i * 7) % labelSets.length]!;
  const value = values[i % values.length]!;
  observations.push((h) => h.observe(labels, value));
}

async function render(
  make: (registry: Registry) => Histogram<'method' | 'route' | 'status_code'>,
  steps: Step[],
) {
  const registry = new Registry();
  const histogram = make(registry);
  for (const step of steps) step(histogram);
  return registry.metrics();
}

const config = (registry: Registry) => ({
  name: 'test_duration_seconds',
  help: 'test',
  labelNames: ['method', 'route', 'status_code'] as const,
  buckets,
  registers: [registry],
});
const plain = (registry: Registry) => new Histogram(config(registry));
const series = (registry: Registry) => new SeriesHistogram(config(registry));

async function assertSame(steps: Step[]) {
  const expected = await render(plain, steps);
  const actual = await render(series, steps);
  assert.equal(actual, expected);
  return actual;
}

describe('SeriesHistogram', () => {
  test('the same text as Histogram for the same observations', async () => {
    const text = await assertSame(observations);
    assert.match(text, /test_duration_seconds_count\{method="GET",route="unmatched",status_code="404"\} \d+/);
  });

  test('the same after reset, remove and zero drop or replace series', async () => {
    const first = labelSets[0]!;
    await assertSame([
      ...observations,
      (h) => h.reset(),
      ...observations.slice(0, 50),
      (h) => h.remove(first),
      ...observations.slice(0, 30),
      (h) => h.zero(first),
      ...observations.slice(0, 10),
      (h) => h.remove('PUT', '/v1/tenants/:idOrName', '200'),
      ...observations.slice(0, 20),
    ]);
  });

  test('observe(value) and a histogram without labels', async () => {
    const steps = values.map((v) => (h: Histogram<string>) => h.observe(v));
    const make = (Kind: typeof Histogram) => (registry: Registry) =>
      new Kind({ name: 'plain_seconds', help: 'p', buckets, registers: [registry] });
    const mixed = [...steps, (h: Histogram<string>) => h.observe({}, 0.2), ...steps];
    assert.equal(await render(make(SeriesHistogram), mixed), await render(make(Histogram), mixed));
  });

  test('refuses unknown label names and values that are not finite, as Histogram does', () => {
    const h = series(new Registry());
    h.observe(labelSets[0]!, 0.1);
    assert.throws(() => h.observe({ ...labelSets[0]!, extra: 'x' } as never, 0.1));
    assert.throws(() => h.observe(labelSets[0]!, Number.NaN), TypeError);
  });

  test('the HTTP request metric, shared by two servers on one registry', async () => {
    const registry = new Registry();
    const observe = createHttpMetrics(registry);
    const again = createHttpMetrics(registry);
    observe('GET', '/v1/tenants/:idOrName', 200, 0.002);
    again('GET', '/v1/tenants/:idOrName', 200, 0.02);
    const text = await registry.metrics();
    assert.match(
      text,
      /lessor_http_request_duration_seconds_count\{method="GET",route="\/v1\/tenants\/:idOrName",status_code="200"\} 2/,
    );
  });
});
