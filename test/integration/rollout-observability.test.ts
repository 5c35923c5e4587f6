/**
 * Rollout metrics and spans through the real composition root (SQLite file, embedded engine, fake
 * provider, SDK's in-memory exporter): a rollout over three tenants, one of which fails every
 * update, halts on its failure policy. `/metrics` then shows one active rollout, its members by
 * state and one halt by reason; the trace shows the rollout's run under the request that created
 * it, the halt as an event on a tick's span, and the member reconciles under the tick that changed
 * them. Aborting the halted rollout empties the gauges.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { LessorClient } from '../../src/api/client.js';
import type { Tenant } from '../../src/api/types.js';
import { startTestLessor, type TestLessor } from '../../src/cli/testing/test-lessor.js';
import { sample, scrapeMetrics } from '../support/prometheus.js';
import { waitFor, waitForPhase } from '../support/wait.js';

const WAIT = { timeoutMs: 60_000 } as const;
const FAILING = { faults: { nonRetriable: true, failOperations: ['update'] } };

let app: TestLessor | undefined;
let client: LessorClient;
const exporter = new InMemorySpanExporter();

before(async () => {
  app = await startTestLessor({
    env: { LESSOR_SERVER__METRICS__REFRESH_INTERVAL_MS: '1' },
    traceExporter: exporter,
  });
  client = new LessorClient({ baseUrl: app.url });
});

after(() => app?.close());

const scrape = () => scrapeMetrics(app!.url);

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

test('a rollout that halts: active, members by state and the halt in /metrics; its run, ticks and halt in the trace', async () => {
  const before = await scrape();
  assert.equal(sample(before, 'lessor_rollouts_active', {}), 0, 'no rollout yet');
  assert.equal(sample(before, 'lessor_rollout_tenants', { state: 'failed' }), 0);

  const tenants: Tenant[] = [];
  for (const [i, failing] of [false, true, false].entries()) {
    const config = { image: 'app:1', ...(failing ? FAILING : {}) };
    tenants.push(await client.createTenant({ name: `ro-obs-${i}`, spec: { config, labels: { g: 'obs' } } }));
  }
  for (const tenant of tenants)
    await waitForPhase(client, tenant.id, 'ready', { ...WAIT, failOn: ['failed'] });

  const rollout = await client.createRollout({
    description: 'obs to app:2',
    selector: { labels: 'g=obs' },
    change: { patch: { config: { image: 'app:2' } } },
    strategy: { waves: ['100%'], maxParallel: 3 },
    failurePolicy: { maxFailedPercent: 10, onHalt: 'pause' },
  });
  const halted = await waitFor(
    'the rollout to halt with its members settled',
    async () => {
      const r = await client.getRollout(rollout.id);
      return r.status.phase === 'halted' && r.status.counts.inProgress === 0 && r;
    },
    WAIT,
  );
  assert.deepEqual([halted.status.counts.succeeded, halted.status.counts.failed], [2, 1]);

  const m = await scrape();
  assert.equal(sample(m, 'lessor_rollouts_active', {}), 1, 'a halted rollout is still active');
  const byState = (state: string) => sample(m, 'lessor_rollout_tenants', { state });
  assert.deepEqual(
    [byState('succeeded'), byState('failed'), byState('pending'), byState('inProgress')],
    [2, 1, 0, 0],
  );
  assert.equal(sample(m, 'lessor_rollout_halts_total', { reason: 'max_failed_percent' }), 1);

  // The trace: request → workflow rollout → step tick:N, the halt an event on a tick's span (the
  // tick that decided it ends after the API shows the halt).
  const haltedIn = (s: ReadableSpan) =>
    s.events.some(
      (e) => e.name === 'rollout.phase_changed' && e.attributes?.['lessor.rollout.phase'] === 'halted',
    );
  const spans = await waitFor(
    'the tick that halted the rollout, and its run, to end',
    async () => {
      const all = exporter.getFinishedSpans();
      const runIds = new Set(
        all.filter((s) => s.name === 'workflow rollout').map((s) => s.spanContext().spanId),
      );
      return (
        all.some((s) => s.name.startsWith('step tick:') && haltedIn(s) && runIds.has(parentOf(s) ?? '')) &&
        all
      );
    },
    WAIT,
  );
  const [request] = spans.filter(
    (s) => s.name === 'POST /v1/rollouts' && s.attributes['http.response.status_code'] === 201,
  );
  assert.ok(request, 'the create request has a span');
  const runs = spans.filter((s) => s.name === 'workflow rollout');
  const first = runs.find((s) => parentOf(s) === request.spanContext().spanId);
  assert.ok(first, `the rollout's run is under its create request: ${runs.map((s) => parentOf(s)).join()}`);
  const ticks = spans.filter(
    (s) => s.name.startsWith('step tick:') && runs.some((r) => r.spanContext().spanId === parentOf(s)),
  );
  const haltTick = ticks.find(haltedIn);
  assert.ok(haltTick, 'the halt is an event on the tick that decided it');
  const tickIds = new Set(ticks.map((s) => s.spanContext().spanId));
  const memberReconciles = spans.filter(
    (s) =>
      s.name === 'reconcile' &&
      tickIds.has(parentOf(s) ?? '') &&
      tenants.some((t) => t.id === s.attributes['lessor.tenant.id']),
  );
  assert.equal(
    new Set(memberReconciles.map((s) => s.attributes['lessor.tenant.id'])).size,
    3,
    'each member change is reconciled under the tick that made it',
  );

  await client.commandRollout(rollout.id, 'abort');
  const done = await waitFor(
    'the aborted rollout to leave the gauges',
    async () => {
      const scraped = await scrape();
      return sample(scraped, 'lessor_rollouts_active', {}) === 0 && scraped;
    },
    WAIT,
  );
  assert.equal(sample(done, 'lessor_rollout_tenants', { state: 'succeeded' }), 0);
  assert.equal(sample(done, 'lessor_rollout_halts_total', { reason: 'max_failed_percent' }), 1);
});
