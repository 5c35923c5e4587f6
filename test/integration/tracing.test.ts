/**
 * Traces through the real composition root with the SDK's in-memory exporter: a create sent with a
 * W3C `traceparent` yields one trace — API request → reconcile → workflow run → steps → the
 * provider call — continuing the caller's trace, and the run row carries the traceparent a resumed
 * execution continues from.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { LessorClient } from '../../src/api/client.js';
import { waitFor, waitForPhase } from '../support/wait.js';
import { startYamlLessor, type YamlLessor } from '../support/yaml-lessor.js';

const WAIT = { timeoutMs: 30_000 } as const;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

let lessor: YamlLessor | undefined;
let client: LessorClient;
const exporter = new InMemorySpanExporter();
const logLines: string[] = [];

before(async () => {
  lessor = await startYamlLessor({
    prefix: 'lessor-tracing-',
    body: `
log: { level: info }
engine: { type: embedded, embedded: { pollIntervalMs: 100 } }
compute: { defaultProvider: fake, providers: { fake: {} } }
`,
    onLog: (line) => logLines.push(line),
    traceExporter: exporter,
  });
  client = new LessorClient({ baseUrl: lessor.app.url });
});

after(() => lessor?.close());

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

test('one create → ready is one trace: request → reconcile → workflow run → steps → provider call', async () => {
  const response = await fetch(`${lessor!.app.url}/v1/tenants`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` },
    body: JSON.stringify({ name: 'traced', spec: { config: {} } }),
  });
  assert.equal(response.status, 201);
  const { id } = (await response.json()) as { id: string };
  const ready = await waitForPhase(client, id, 'ready', { ...WAIT, failOn: ['failed'] });

  const spans = await waitFor(
    'the workflow span to end',
    async () => {
      const all = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === TRACE_ID);
      return all.some((s) => s.name === 'workflow provision') && all;
    },
    WAIT,
  );
  const named = (name: string) => spans.filter((s) => s.name === name);
  const [request] = named('POST /v1/tenants');
  assert.ok(request, spans.map((s) => s.name).join(', '));
  assert.equal(parentOf(request), CALLER_SPAN, "the request continues the caller's span");
  assert.equal(request.attributes['http.response.status_code'], 201);

  const reconciles = named('reconcile').filter((s) => parentOf(s) === request.spanContext().spanId);
  assert.equal(reconciles.length, 1, 'the reconcile the create triggered is a child of the request');
  const [run] = named('workflow provision');
  assert.ok(run);
  assert.equal(
    parentOf(run),
    reconciles[0]!.spanContext().spanId,
    'the run continues the reconcile that started it',
  );
  assert.equal(run.attributes['lessor.run.id'], ready.status.workflow!.runId);

  const steps = spans.filter((s) => s.name.startsWith('step ') && parentOf(s) === run.spanContext().spanId);
  assert.ok(steps.length >= 2, `steps under the run: ${steps.map((s) => s.name).join(', ')}`);
  const stepIds = new Set(steps.map((s) => s.spanContext().spanId));
  const [provision] = named('provider fake provision');
  assert.ok(provision, spans.map((s) => s.name).join(', '));
  assert.ok(stepIds.has(parentOf(provision)!), 'the provider call is under the step that started it');
  assert.equal(provision.attributes['lessor.operation'], 'provision');

  // The run row carries the traceparent its executions continue from (a resume joins this trace).
  const row = await lessor!.app.store.runs.get(ready.status.workflow!.runId);
  assert.match(
    row!.tags.traceparent ?? '',
    new RegExp(`^00-${TRACE_ID}-${reconciles[0]!.spanContext().spanId}-01$`),
  );

  // Log lines written inside a span carry its ids.
  const traced = logLines
    .map((line) => JSON.parse(line) as { traceId?: string; msg: string })
    .filter((l) => l.traceId === TRACE_ID);
  assert.ok(traced.length > 0, 'some log line carries the trace id');
});
