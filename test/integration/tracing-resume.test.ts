/**
 * Traces across a crash, on real `lessor serve` processes exporting OTLP/HTTP to a receiver in the
 * test, on each engine: a create sent with a W3C `traceparent` is killed with SIGKILL while its
 * provider call is in flight, the server is restarted, and the run it resumes continues the same
 * trace — the new `workflow provision` span's parent is the traceparent stored with the run (the
 * reconcile of the killed process), and the resumed steps and provider calls hang under it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { backends } from '../../src/store/testing/test-databases.js';
import { deploy, withLogs, type Deployment } from '../support/deployment.js';
import { engines } from '../support/engines.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { processWorld, type ProcessWorld } from '../support/process-runtimes.js';
import { waitFor, waitForPhase } from '../support/wait.js';

const WAIT = { timeoutMs: 90_000 } as const;
const CALLER_SPAN = '00f067aa0ba902b7';

for (const engine of engines()) {
  describe(`tracing across kill -9 [${engine.name}]`, () => {
    let receiver: OtlpReceiver;
    let world: ProcessWorld;
    let d: Deployment | undefined;

    before(async () => {
      receiver = await startOtlpReceiver();
      world = await processWorld();
      d = await deploy({
        backend: backends()[0]!,
        engine,
        providers: { process: { stopGraceMs: 1_000 } },
        env: {
          LESSOR_TELEMETRY__OTLP__ENDPOINT: receiver.url,
          // Export within a fifth of a second, so the killed process's finished spans got out.
          OTEL_BSP_SCHEDULE_DELAY: '200',
        },
      });
    });
    after(async () => {
      await d?.close();
      await world?.cleanup();
      await receiver?.close();
    });

    test('the resumed run continues the trace the killed process started', () =>
      withLogs(d, async () => {
        const traceId = randomBytes(16).toString('hex');
        const inTrace = (): ReceivedSpan[] => receiver.spans().filter((s) => s.traceId === traceId);
        const named = (name: string): ReceivedSpan[] => inTrace().filter((s) => s.name === name);

        const response = await fetch(`${d!.lessor.url}/v1/tenants`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            traceparent: `00-${traceId}-${CALLER_SPAN}-01`,
          },
          body: JSON.stringify({
            name: `traced-${engine.name}`,
            spec: { config: world.config({ startDelayS: 4 }) },
          }),
        });
        assert.equal(response.status, 201, await response.clone().text());
        const { id } = (await response.json()) as { id: string };

        // The first process exported the request and its reconcile, and its provider call is in flight.
        const [request, reconcile] = await waitFor(
          'the request and reconcile spans of the first process',
          async () => {
            const [req] = named('POST /v1/tenants');
            const rec = req && named('reconcile').find((s) => s.parentSpanId === req.spanId);
            return req && rec ? ([req, rec] as const) : undefined;
          },
          WAIT,
        );
        assert.equal(request.parentSpanId, CALLER_SPAN, "the request continues the caller's span");
        await waitFor(
          'the provision call in flight',
          async () =>
            (await d!.client.tenantExecutions(id)).items.some(
              (e) => e.operation === 'provision' && e.status === 'running',
            ),
          WAIT,
        );
        assert.equal(named('workflow provision').length, 0, 'the first execution of the run has not ended');

        await d!.lessor.kill('SIGKILL');
        await d!.lessor.restart();
        const ready = await waitForPhase(d!.client, id, 'ready', { ...WAIT, failOn: ['failed'] });
        const runId = ready.status.workflow!.runId;

        // The stored traceparent points at the first process's reconcile.
        const row = await d!.store.runs.get(runId);
        assert.equal(row?.tags.traceparent, `00-${traceId}-${reconcile.spanId}-01`);

        const run = await waitFor(
          'the resumed run span',
          async () => named('workflow provision').find((s) => s.attributes['lessor.run.id'] === runId),
          WAIT,
        );
        assert.equal(run.parentSpanId, reconcile.spanId, 'the resumed run continues the stored traceparent');
        assert.equal(run.resource['service.name'], 'lessor');
        assert.equal(run.status, 0, 'the resumed execution succeeded');

        const steps = await waitFor(
          'steps of the resumed run',
          async () => {
            const under = inTrace().filter(
              (s) => s.name.startsWith('step ') && s.parentSpanId === run.spanId,
            );
            return under.length > 0 && under;
          },
          WAIT,
        );
        const stepIds = new Set(steps.map((s) => s.spanId));
        const calls = await waitFor(
          'a provider call under a resumed step',
          async () => {
            const under = inTrace().filter(
              (s) => s.name.startsWith('provider process ') && stepIds.has(s.parentSpanId),
            );
            return under.length > 0 && under;
          },
          WAIT,
        );
        assert.ok(
          calls.every((s) => s.kind === 3 && s.attributes['lessor.provider'] === 'process'),
          'provider calls are client spans',
        );
        // One trace: every span of it descends from the caller's span.
        const byId = new Map(inTrace().map((s) => [s.spanId, s]));
        for (const span of [run, ...steps, ...calls]) {
          let at: ReceivedSpan | undefined = span;
          const path: string[] = [];
          while (at && at.parentSpanId !== CALLER_SPAN) {
            path.push(at.name);
            at = byId.get(at.parentSpanId);
          }
          assert.ok(at, `${span.name} reaches the caller's span: ${path.join(' ← ')}`);
        }
        assert.deepEqual(receiver.rejected(), [], 'every export was well-formed OTLP/HTTP JSON');
      }));
  });
}
