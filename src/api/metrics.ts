/**
 * HTTP metrics for `/metrics`: a request-duration histogram by method, route pattern (never the raw
 * URL, so ids do not explode the label set) and status code. Safe to call for several servers on
 * one registry: an existing histogram is reused. Observed on every request, so its series are found
 * by their label values (series-histogram.ts).
 */
import { Histogram, Registry } from 'prom-client';
import { SeriesHistogram } from './series-histogram.js';

export const HTTP_DURATION_METRIC = 'lessor_http_request_duration_seconds';

export type ObserveRequest = (method: string, route: string, status: number, seconds: number) => void;

export function createHttpMetrics(registry: Registry): ObserveRequest {
  const existing = registry.getSingleMetric(HTTP_DURATION_METRIC);
  const histogram =
    existing instanceof Histogram
      ? (existing as Histogram<'method' | 'route' | 'status_code'>)
      : new SeriesHistogram({
          name: HTTP_DURATION_METRIC,
          help: 'Duration of HTTP requests served by the Lessor API, by route pattern and status',
          labelNames: ['method', 'route', 'status_code'] as const,
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers: [registry],
        });
  return (method, route, status, seconds) => {
    histogram.observe({ method, route, status_code: String(status) }, seconds);
  };
}
