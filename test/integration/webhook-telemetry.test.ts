/**
 * Webhook metrics and spans through the real composition root (`startLessor`: SQLite file,
 * embedded engine, fake provider, HTTP API, the SDK's in-memory span exporter). Four endpoints
 * subscribe to `tenant.created` and answer in known ways — 204; 400 (failed, not retried); 503 then
 * 200 (failed, retried, delivered); 503 with a `Retry-After` past the retry window (dead) — and one
 * tenant is created. `/metrics` then holds exactly the counts that sequence implies, with no id in
 * any label, and each attempt is one `webhook deliver` span under the create request's span, in
 * the trace its `traceparent` header started.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { LessorClient } from '../../src/api/client.js';
import { WebhookReceiver, type Answer } from '../../src/callbacks/testing/webhook-receiver.js';
import { startTestLessor, type TestLessor } from '../../src/cli/testing/test-lessor.js';
import { sample, scrapeMetrics } from '../support/prometheus.js';
import { waitFor } from '../support/wait.js';

const WAIT = { timeoutMs: 30_000 } as const;
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';

let app: TestLessor | undefined;
let client: LessorClient;
const exporter = new InMemorySpanExporter();
const receivers: WebhookReceiver[] = [];

before(async () => {
  app = await startTestLessor({
    env: {
      LESSOR_SERVER__METRICS__REFRESH_INTERVAL_MS: '1',
      LESSOR_WEBHOOKS__ALLOW_HTTP: 'true',
      LESSOR_WEBHOOKS__ALLOWED_NETWORKS: '127.0.0.0/8',
      LESSOR_WEBHOOKS__RETRY_WINDOW_MS: '60000',
      LESSOR_WEBHOOKS__INITIAL_BACKOFF_MS: '10',
      LESSOR_WEBHOOKS__MAX_BACKOFF_MS: '10',
      LESSOR_WEBHOOKS__POLL_INTERVAL_MS: '50',
    },
    traceExporter: exporter,
  });
  client = new LessorClient({ baseUrl: app.url });
});

after(async () => {
  await app?.close();
  for (const r of receivers) await r.close();
});

async function endpoint(
  answer: (index: number) => Answer,
): Promise<{ id: string; receiver: WebhookReceiver }> {
  const receiver = new WebhookReceiver();
  receiver.answer = (_request, index) => answer(index);
  receivers.push(receiver);
  await receiver.start();
  const hook = await client.createWebhook({ url: receiver.url, events: ['tenant.created'] });
  receiver.secrets = [hook.secret];
  return { id: hook.id, receiver };
}

const scrape = () => scrapeMetrics(app!.url);

test('after delivered, refused, retried and dead attempts, metrics and spans report exactly that', async () => {
  const before = await scrape();
  assert.equal(sample(before, 'lessor_webhook_outbox_pending', {}), 0);
  assert.equal(sample(before, 'lessor_webhook_outbox_dead', {}), 0);

  const ok = await endpoint(() => ({ status: 204 }));
  const refused = await endpoint(() => ({ status: 400 }));
  const flaky = await endpoint((i) => (i === 0 ? { status: 503 } : { status: 200 }));
  const gone = await endpoint(() => ({ status: 503, headers: { 'retry-after': '3600' } }));
  const created = await fetch(`${app!.url}/v1/tenants`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` },
    body: JSON.stringify({ name: 'webhook-telemetry', spec: { config: {} } }),
  });
  assert.equal(created.status, 201);

  const settled = async (id: string, status: string) =>
    (await client.listWebhookDeliveries(id)).items.every((d) => d.status === status);
  await waitFor(
    'every delivery to settle',
    async () =>
      (await settled(ok.id, 'delivered')) &&
      (await settled(refused.id, 'failed')) &&
      (await settled(flaky.id, 'delivered')) &&
      (await settled(gone.id, 'dead')),
    WAIT,
  );
  const m = await waitFor(
    'the five attempts to be counted',
    async () => {
      const scraped = await scrape();
      const counted = ['delivered', 'failed', 'dead']
        .map((outcome) => sample(scraped, 'lessor_webhook_deliveries_total', { outcome }) ?? 0)
        .reduce((a, b) => a + b, 0);
      return counted === 5 && scraped;
    },
    WAIT,
  );
  assert.equal(sample(m, 'lessor_webhook_deliveries_total', { outcome: 'delivered' }), 2);
  assert.equal(sample(m, 'lessor_webhook_deliveries_total', { outcome: 'failed' }), 2);
  assert.equal(sample(m, 'lessor_webhook_deliveries_total', { outcome: 'dead' }), 1);
  assert.equal(sample(m, 'lessor_webhook_dead_letters_total', {}), 1);
  assert.equal(sample(m, 'lessor_webhook_delivery_lag_seconds_count', {}), 2, 'one lag per delivery');
  assert.equal(sample(m, 'lessor_webhook_delivery_lag_seconds_bucket', { le: '+Inf' }), 2);
  assert.ok((sample(m, 'lessor_webhook_delivery_lag_seconds_sum', {}) ?? -1) >= 0);
  assert.equal(sample(m, 'lessor_webhook_outbox_pending', {}), 0);
  assert.equal(sample(m, 'lessor_webhook_outbox_dead', {}), 1);
  const ids = [ok.id, refused.id, flaky.id, gone.id];
  for (const s of m.samples.filter((x) => x.name.startsWith('lessor_webhook_'))) {
    for (const value of Object.values(s.labels)) {
      assert.ok(!ids.some((id) => value.includes(id)), `${s.name} carries an id: ${value}`);
    }
  }

  const finished = exporter.getFinishedSpans();
  const spans = finished.filter((s) => s.name === 'webhook deliver');
  assert.equal(spans.length, 5, 'one span per attempt');
  const request = finished.find((s) => s.name === 'POST /v1/tenants' && s.spanContext().traceId === TRACE_ID);
  assert.ok(request, 'the create request was traced');
  for (const span of spans) {
    assert.equal(span.kind, SpanKind.CLIENT);
    assert.equal(span.spanContext().traceId, TRACE_ID, "each attempt joins the event's trace");
    assert.equal(
      span.parentSpanContext?.spanId,
      request.spanContext().spanId,
      'under the request whose transaction queued the delivery',
    );
    assert.equal(span.attributes['lessor.webhook.event_type'], 'tenant.created');
    assert.equal(span.attributes['lessor.webhook.recorded'], true);
    assert.match(String(span.attributes['lessor.webhook.message_id']), /^msg_/);
  }
  const of = (id: string) =>
    spans
      .filter((s) => s.attributes['lessor.webhook.id'] === id)
      .sort(
        (a, b) =>
          Number(a.attributes['lessor.webhook.attempt']) - Number(b.attributes['lessor.webhook.attempt']),
      )
      .map((s) => [
        s.attributes['lessor.webhook.attempt'],
        s.attributes['http.response.status_code'],
        s.attributes['lessor.webhook.outcome'],
        s.status.code,
      ]);
  assert.deepEqual(of(ok.id), [[1, 204, 'delivered', SpanStatusCode.UNSET]]);
  assert.deepEqual(of(refused.id), [[1, 400, 'failed', SpanStatusCode.ERROR]]);
  assert.deepEqual(of(flaky.id), [
    [1, 503, 'pending', SpanStatusCode.ERROR],
    [2, 200, 'delivered', SpanStatusCode.UNSET],
  ]);
  assert.deepEqual(of(gone.id), [[1, 503, 'dead', SpanStatusCode.ERROR]]);
  const messageIds = new Set(spans.map((s) => s.attributes['lessor.webhook.message_id']));
  assert.equal(messageIds.size, 1, 'one event is one message id for every endpoint, retries included');
  assert.ok(ok.receiver.verified().length === 1 && gone.receiver.received.length === 1);
});
