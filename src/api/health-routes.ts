/**
 * Open operational endpoints: `/healthz` (the process serves), `/readyz` and `/metrics` (Prometheus
 * text format). `/readyz` is 200 when, within 2 s, the database takes a write (the store's write
 * probe: a read would not notice a full disk or a read-only file), the workflow engine answers, and
 * the optional `ready` check passes; else 503 — STORE_UNAVAILABLE when the database failed,
 * UNAVAILABLE otherwise. After a storage fault it therefore stays 503 until a write succeeds.
 */
import type { Registry } from 'prom-client';
import { StoreUnavailableError, UnavailableError } from '../domain/errors.js';
import type { ApiApp, ApiContext } from './api-deps.js';
import { createMetricsGuard, DEFAULT_METRICS_ACCESS } from './metrics-access.js';
import { HealthSchema, ReadinessSchema } from './schemas-resources.js';

const tags = ['operations'];
const PING_TIMEOUT_MS = 2000;

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function readiness(ctx: ApiContext): Promise<Record<string, 'ok'>> {
  const checks: [string, () => Promise<void>][] = [
    ['database', () => ctx.deps.store.probeWrite()],
    ['engine', () => ctx.deps.runs.ping()],
  ];
  const ready = ctx.options.ready;
  if (ready) checks.push(['controller', ready]);
  const results = await Promise.allSettled(checks.map(([, check]) => withTimeout(check(), PING_TIMEOUT_MS)));
  const failed = checks.filter((_, i) => results[i]!.status === 'rejected').map(([name]) => name);
  if (failed.length === 0) return Object.fromEntries(checks.map(([name]) => [name, 'ok' as const]));
  const message = `not ready: ${failed.join(', ')} unavailable`;
  throw failed.includes('database') ? new StoreUnavailableError(message) : new UnavailableError(message);
}

export function registerHealthRoutes(app: ApiApp, ctx: ApiContext, registry: Registry): void {
  const open = { access: 'open' as const };
  const security: never[] = [];
  const guardMetrics = createMetricsGuard(ctx.options.metrics ?? DEFAULT_METRICS_ACCESS, ctx.options.tokens);

  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'healthz',
        summary: 'Liveness',
        description: 'Answers 200 while the process serves HTTP; it checks nothing else.',
        tags,
        security,
        response: { 200: HealthSchema },
      },
      config: open,
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'readyz',
        summary: 'Readiness',
        description:
          'Answers 200 when, within 2 s each, the database takes a write and the workflow engine ' +
          'answers; else 503 (STORE_UNAVAILABLE when the database failed, UNAVAILABLE otherwise). ' +
          'After a storage fault it stays 503 until writes have succeeded again for 5 s.',
        tags,
        security,
        response: { 200: ReadinessSchema },
      },
      config: open,
    },
    async () => ({ status: 'ready' as const, checks: await readiness(ctx) }),
  );

  app.get(
    '/metrics',
    {
      schema: {
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        description:
          'The Prometheus text format: HTTP request durations, the controller work queue and reconciles, ' +
          'workflow runs, compute executions and provider calls, callback delivery, tenants by phase and ' +
          'store latency (names and labels in docs/operations.md). Open to loopback callers; others ' +
          'present the metrics token or an API token (`server.metrics`).',
        tags,
        security,
        produces: ['text/plain'],
      },
      config: open,
    },
    async (request, reply) => {
      guardMetrics(request);
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  );
}
