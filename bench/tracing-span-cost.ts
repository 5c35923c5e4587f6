/**
 * The CPU cost of the spans of one create → ready, measured apart from the rest of the work
 * (`npx tsx bench/tracing-span-cost.ts [--tenants N] [--rounds R]`): the calls Lessor makes for one
 * tenant — the request's server span continuing a traceparent header, the reconcile, the stored
 * traceparent, the run span continued from it, five steps and a provider call, each with the
 * context switch it makes and an await inside — repeated N times with tracing off, then on
 * (Lessor's tracing set-up: the batch processor, here into the SDK's in-memory exporter). CPU time
 * is what the load of a shared machine changes least; the figure to compare with is the CPU ms per
 * tenant of the whole create → ready (bench/observability-overhead.ts).
 */
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  contextFromHeaders,
  inSpan,
  SpanKind,
  startSpan,
  TRACEPARENT_TAG,
  withContext,
  withTraceparent,
} from '../src/domain/tracing.js';
import { startTracing } from '../src/main/telemetry/tracing.js';

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const STEPS = ['record', 'provision', 'await', 'health', 'ready'];
const headers = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };

async function oneTenant(n: number): Promise<void> {
  const { span: request, context } = startSpan('POST /v1/tenants', {
    kind: SpanKind.SERVER,
    parent: contextFromHeaders(headers),
    attributes: { 'http.request.method': 'POST', 'http.route': '/v1/tenants' },
  });
  const tags = await inSpan(
    'reconcile',
    { attributes: { 'lessor.tenant.id': `t${n}`, 'lessor.trigger': 'api' }, parent: context },
    (_span, reconcile) => Promise.resolve(withTraceparent({ subject: `tenant:t${n}` }, reconcile)),
  );
  request.setAttribute('http.response.status_code', 201);
  request.end();
  const parent = contextFromHeaders({ traceparent: tags[TRACEPARENT_TAG] });
  const attributes = { 'lessor.run.id': `r${n}`, 'lessor.workflow': 'provision', 'lessor.run.attempt': 1 };
  await inSpan('workflow provision', { attributes, parent }, async (_span, run) => {
    for (const [seq, name] of STEPS.entries()) {
      await inSpan(
        `step ${name}`,
        { attributes: { 'lessor.step.name': name, 'lessor.step.seq': seq }, parent: run },
        (_step, step) =>
          name === 'provision'
            ? withContext(step, () =>
                inSpan(
                  'provider fake provision',
                  {
                    kind: SpanKind.CLIENT,
                    attributes: { 'lessor.provider': 'fake', 'lessor.operation': 'provision' },
                  },
                  () => Promise.resolve(),
                ),
              )
            : Promise.resolve(),
      );
    }
  });
}

async function measure(tenants: number): Promise<number> {
  const cpu = process.cpuUsage();
  for (let n = 0; n < tenants; n++) await oneTenant(n);
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / 1000 / tenants;
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const tenants = flag('tenants', 20_000);
  const rounds = flag('rounds', 5);
  const off: number[] = [];
  const on: number[] = [];
  await measure(2_000); // warm-up
  for (let r = 0; r < rounds; r++) {
    off.push(await measure(tenants));
    const exporter = new InMemorySpanExporter();
    const tracing = startTracing({ exporter, batch: true })!;
    await measure(2_000); // warm-up of the recording path
    exporter.reset();
    on.push(await measure(tenants));
    await tracing.stop();
    console.log(
      `round ${r + 1}: off ${(off.at(-1)! * 1000).toFixed(1)} µs/tenant, on ${(on.at(-1)! * 1000).toFixed(1)} µs/tenant`,
    );
  }
  const cost = median(on) - median(off);
  console.log(
    `\nspans of one create → ready (9 spans): ${(cost * 1000).toFixed(1)} µs CPU per tenant (median of ${rounds} rounds × ${tenants})`,
  );
}

await main();
