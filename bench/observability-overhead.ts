/**
 * Overhead of observability on create→ready (`npx tsx bench/observability-overhead.ts`): one
 * in-process Lessor (SQLite file, embedded engine, fake provider at 0 ms) per round, N tenants
 * created through the HTTP API by 16 concurrent workers, ready observed through the store's phase
 * counts. Modes: `off` (no metrics beyond HTTP durations, no tracing), `metrics` (every metric of
 * docs/operations.md), `metrics+tracing` (also tracing, through the batch span processor Lessor uses for OTLP, into the
 * SDK's in-memory exporter: the cost of making the spans, not of a network export). Rounds are
 * interleaved (off, metrics, tracing, off, …) so drifting machine load hits every mode alike; the
 * figure per mode is the median of its rounds: tenants made ready per second of wall time, and the
 * process CPU time per tenant (server and client share the process; the client's work is the same
 * in every mode). Flags: --tenants N (default 300), --rounds R (default 3).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trace, type ProxyTracerProvider } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { LessorClient } from '../src/api/client.js';
import { loadConfig } from '../src/main/config/load-config.js';
import { startLessor } from '../src/main/lessor-app.js';
import { createLogger } from '../src/main/logger.js';

type Mode = 'off' | 'metrics' | 'metrics+tracing';
const MODES: readonly Mode[] = ['off', 'metrics', 'metrics+tracing'];
const CONCURRENCY = 16;

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

interface Round {
  readonly perSecond: number;
  readonly cpuMsPerTenant: number;
  readonly spans: number;
}

async function round(mode: Mode, tenants: number, port: number): Promise<Round> {
  const dir = await mkdtemp(join(tmpdir(), 'lessor-obs-bench-'));
  const configFile = join(dir, 'lessor.yaml');
  await writeFile(
    configFile,
    `server: { host: 127.0.0.1, port: ${port}, rateLimit: { perMinute: 0 } }
database: { url: "sqlite:${join(dir, 'lessor.db')}" }
dataDir: "${dir}"
log: { level: warn }
engine: { embedded: { pollIntervalMs: 100 } }
controller: { workers: 16 }
compute: { defaultProvider: fake, providers: { fake: {} } }
`,
  );
  const config = loadConfig({ configFile, env: {}, cwd: dir });
  const exporter = new InMemorySpanExporter();
  const app = await startLessor(config, createLogger(config.log, { write: () => undefined }), {
    metrics: mode !== 'off',
    ...(mode === 'metrics+tracing' && { traceExporter: exporter, batchTraceExport: true }),
  });
  const client = new LessorClient({ baseUrl: app.url });
  try {
    const cpu = process.cpuUsage();
    const started = performance.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < tenants) {
        const n = next++;
        await client.createTenant({ name: `bench-${n}`, spec: { config: {} } });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    for (;;) {
      const phases = await app.store.stats.tenantsByPhase();
      if ((phases.ready ?? 0) + (phases.failed ?? 0) >= tenants) {
        if (phases.failed) throw new Error(`${phases.failed} tenants failed`);
        break;
      }
      // Seldom: this poll's own CPU grows with the round's wall time, which the load varies.
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // The batch processor's queue is exported inside the measured window.
    const provider = (trace.getTracerProvider() as ProxyTracerProvider).getDelegate() as {
      forceFlush?: () => Promise<void>;
    };
    await provider.forceFlush?.();
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    // Spans are dropped as they are counted, so memory stays flat across rounds.
    const spans = exporter.getFinishedSpans().length;
    exporter.reset();
    return {
      perSecond: tenants / seconds,
      cpuMsPerTenant: (used.user + used.system) / 1000 / tenants,
      spans,
    };
  } finally {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const tenants = flag('tenants', 300);
  const rounds = flag('rounds', 3);
  const only = process.argv.indexOf('--modes');
  const modes = only >= 0 ? MODES.filter((m) => process.argv[only + 1]!.split(',').includes(m)) : MODES;
  const { freePort } = await import('../test/support/lessor-process.js');
  await round('off', 50, await freePort()); // warm-up: JIT, SQLite pages
  const results = new Map<Mode, Round[]>(MODES.map((m) => [m, []]));
  for (let r = 0; r < rounds; r++) {
    for (const mode of modes) {
      const result = await round(mode, tenants, await freePort());
      results.get(mode)!.push(result);
      console.log(
        `round ${r + 1} ${mode.padEnd(16)} ${result.perSecond.toFixed(1)} ready/s  ${result.cpuMsPerTenant.toFixed(2)} CPU ms/tenant  ${result.spans} spans`,
      );
    }
  }
  const base = results.get('off')!;
  const baseRate = median(base.map((r) => r.perSecond));
  const baseCpu = median(base.map((r) => r.cpuMsPerTenant));
  console.log(`\ncreate→ready, ${tenants} tenants × ${rounds} rounds, c=${CONCURRENCY} (medians)`);
  for (const mode of modes) {
    const rate = median(results.get(mode)!.map((r) => r.perSecond));
    const cpu = median(results.get(mode)!.map((r) => r.cpuMsPerTenant));
    const rateDelta = ((baseRate - rate) / baseRate) * 100;
    const cpuDelta = ((cpu - baseCpu) / baseCpu) * 100;
    console.log(
      `${mode.padEnd(16)} ${rate.toFixed(1)} ready/s (${rateDelta >= 0 ? '-' : '+'}${Math.abs(rateDelta).toFixed(1)} % throughput)  ${cpu.toFixed(2)} CPU ms/tenant (${cpuDelta >= 0 ? '+' : ''}${cpuDelta.toFixed(1)} %)`,
    );
  }
}

await main();
