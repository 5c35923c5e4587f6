/**
 * (1) Control-plane overhead: the `fake` provider at zero latency, tenants created through the HTTP
 * API until ready, closed loop at concurrency 1, 16 and 128, for embedded+SQLite,
 * embedded+PostgreSQL and restate (Restate server + SQLite store). Each configuration gets a fresh
 * database and its own Lessor child process; a short warm-up (JIT, connection pools) comes first.
 */
import { join } from 'node:path';
import { startRestateServer, type RestateServer } from '../../src/workflow/restate/testing/restate-server.js';
import { runCreateLoop, type CreateLoopResult } from '../lib/create-loop.js';
import { baseServerEnv, createBenchDatabase, fakeProviderEnv, type Backend } from '../lib/databases.js';
import { freePort, startLessorProcess, type LessorProcess } from '../lib/lessor-process.js';
import { ReadyWatcher } from '../lib/ready-watcher.js';
import {
  atLeast,
  atMost,
  describeError,
  type PrintableTable,
  type SectionContext,
  type SectionOutput,
  type TargetCheck,
} from '../lib/section.js';
import { awaitQuietMachine, loadNow } from '../lib/machine.js';
import { RestateProbe, type RestateSide } from '../lib/restate-probe.js';
import { observeViaSse, type SseObservation } from '../lib/sse-observer.js';
import { round } from '../lib/stats.js';

export type ControlPlaneConfig = 'embedded+sqlite' | 'embedded+postgres' | 'restate+sqlite';

interface LoopDelay {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface ControlPlaneRow extends CreateLoopResult {
  readonly config: ControlPlaneConfig;
  readonly loadavg: number;
  /** How late the server's timers fired (ms): stretches in which it served no I/O. */
  readonly loopDelay: LoopDelay;
  /** Server CPU time per tenant made ready (ms; 2 ms ⇔ 500/s on one core). */
  readonly serverCpuMsPerTenant: number;
  /** restate+sqlite: the Restate server's CPU and invocation attempts per tenant. */
  readonly restate?: RestateSide;
}

export interface ControlPlaneResult extends SectionOutput {
  readonly rows: readonly ControlPlaneRow[];
  readonly unavailable: readonly { config: ControlPlaneConfig; reason: string }[];
  readonly method: string;
  /** c = 1 through the API's own event stream, embedded+SQLite. */
  readonly viaSse?: SseObservation;
}

const CONFIGS: readonly { config: ControlPlaneConfig; backend: Backend; restate: boolean }[] = [
  { config: 'embedded+sqlite', backend: 'sqlite', restate: false },
  { config: 'embedded+postgres', backend: 'postgres', restate: false },
  { config: 'restate+sqlite', backend: 'sqlite', restate: true },
];
const LEVELS = [1, 16, 128] as const;

/**
 * `LESSOR_BENCH_CONTROL_PLANE_LEVELS=128` (comma-separated) measures only those concurrencies, and
 * leaves out the c = 1 event-stream observation unless 1 is among them: more rounds of an A/B in the
 * same minutes.
 */
function selectedLevels(): readonly number[] {
  const wanted = process.env.LESSOR_BENCH_CONTROL_PLANE_LEVELS?.split(',').map((level) =>
    Number(level.trim()),
  );
  if (!wanted) return LEVELS;
  const unknown = wanted.filter((level) => !(LEVELS as readonly number[]).includes(level));
  if (unknown.length > 0)
    throw new Error(`unknown control-plane concurrency level(s): ${unknown.join(', ')}`);
  return LEVELS.filter((level) => wanted.includes(level));
}

/**
 * `LESSOR_BENCH_CONTROL_PLANE=restate+sqlite` (comma-separated) measures only those configurations,
 * e.g. to compare two builds of one engine in the same minute.
 */
function selectedConfigs(): typeof CONFIGS {
  const wanted = process.env.LESSOR_BENCH_CONTROL_PLANE?.split(',').map((name) => name.trim());
  if (!wanted) return CONFIGS;
  const unknown = wanted.filter((name) => !CONFIGS.some((c) => c.config === name));
  if (unknown.length > 0) throw new Error(`unknown control-plane configuration(s): ${unknown.join(', ')}`);
  return CONFIGS.filter((c) => wanted.includes(c.config));
}

export async function controlPlaneSection(ctx: SectionContext): Promise<ControlPlaneResult> {
  const rows: ControlPlaneRow[] = [];
  const unavailable: { config: ControlPlaneConfig; reason: string }[] = [];
  const sse: { result?: SseObservation } = {};
  for (const spec of selectedConfigs()) {
    // Each configuration starts on a quiet machine, not in the previous one's aftermath (the
    // PostgreSQL run leaves its server checkpointing and vacuuming for a while).
    const quiet = await awaitQuietMachine();
    ctx.log(`${spec.config}: machine quiet after ${quiet.waitedMs} ms (CPU ${quiet.busyPct ?? '?'}% busy)`);
    try {
      rows.push(...(await runConfig(ctx, spec.config, spec.backend, spec.restate, sse)));
    } catch (error) {
      ctx.log(`${spec.config}: not available (${describeError(error)})`);
      unavailable.push({ config: spec.config, reason: describeError(error) });
    }
  }
  const notes = unavailable.map((u) => `${u.config.split('+')[0] ?? u.config}: not available (${u.reason})`);
  for (const row of rows) {
    if (row.restate)
      notes.push(
        `restate c=${row.concurrency}: restate-server ${row.restate.serverCpuMsPerTenant} ms CPU per tenant, ` +
          `${row.restate.invocationAttemptsPerTenant} invocation attempts per tenant (2 = no retry or replay)`,
      );
  }
  if (sse.result) {
    const { latency, deliveryDelay } = sse.result;
    notes.push(
      `c=1 observed through GET /v1/events (SSE), embedded+sqlite: create→ready p50 ${latency.p50} ms / p99 ${latency.p99} ms; stream delivery delay p50 ${deliveryDelay.p50} ms / max ${deliveryDelay.max} ms`,
    );
  }
  return {
    rows,
    unavailable,
    method: METHOD,
    viaSse: sse.result,
    tables: [table(rows)],
    targets: targets(rows),
    notes,
  };
}

const METHOD =
  'Lessor runs as a separate child process (bench/lib/bench-server.ts = lessor serve); the load generator ' +
  '(typed client, global fetch, keep-alive) and the ready watcher run in the bench process. Closed loop: each ' +
  'worker POSTs /v1/tenants then waits for ready. Ready is observed by polling tenant_events every 2 ms on a ' +
  'separate DB connection (no API polling). Latency = POST start → watcher saw ready.';

async function runConfig(
  ctx: SectionContext,
  config: ControlPlaneConfig,
  backend: Backend,
  restate: boolean,
  sse: { result?: SseObservation },
): Promise<ControlPlaneRow[]> {
  const label = config.replace(/\W/g, '_');
  const db = await createBenchDatabase(backend, ctx.workDir, label);
  let restateServer: RestateServer | undefined;
  try {
    const env: Record<string, string> = { ...baseServerEnv(db, ctx.workDir), ...fakeProviderEnv() };
    if (restate) {
      restateServer = await startRestateServer();
      Object.assign(env, {
        LESSOR_ENGINE__TYPE: 'restate',
        LESSOR_ENGINE__RESTATE__INGRESS_URL: restateServer.ingressUrl,
        LESSOR_ENGINE__RESTATE__ADMIN_URL: restateServer.adminUrl,
        LESSOR_ENGINE__RESTATE__ENDPOINT_PORT: String(await freePort()),
      });
    }
    const server = await startLessorProcess({ env, logFile: join(ctx.workDir, `${label}.log`) });
    const watcher = await ReadyWatcher.open(db.target);
    try {
      const rows = await runLevels(ctx, config, server, watcher, restateServer);
      if (config === 'embedded+sqlite' && selectedLevels().includes(1))
        sse.result = await observeViaSse(server.url, ctx.quick ? 10 : 40, 'sse');
      return rows;
    } finally {
      await watcher.close();
      await server.stop();
    }
  } finally {
    await restateServer?.stop();
    await db.cleanup();
  }
}

async function runLevels(
  ctx: SectionContext,
  config: ControlPlaneConfig,
  server: LessorProcess,
  watcher: ReadyWatcher,
  restateServer?: RestateServer,
): Promise<ControlPlaneRow[]> {
  const spec = { provider: 'fake', config: {} };
  const base = { url: server.url, watcher, serverPid: server.pid, spec };
  const warm = await runCreateLoop({
    ...base,
    concurrency: 16,
    durationMs: ctx.quick ? 1000 : 4000,
    prefix: 'warm',
  });
  if (warm.ready === 0)
    throw new Error(`warm-up produced no ready tenant (${warm.firstError ?? `${warm.failed} failed`})`);
  const rows: ControlPlaneRow[] = [];
  for (const concurrency of selectedLevels()) {
    const durationMs = ctx.quick ? 2500 : 12_000;
    await server.rpc('loop-delay');
    const probe = restateServer && (await RestateProbe.begin(restateServer));
    const result = await runCreateLoop({ ...base, concurrency, durationMs, prefix: `c${concurrency}` });
    const loopDelay = await server.rpc<LoopDelay>('loop-delay');
    const restate = await probe?.end(result.ready);
    const cpuMs = result.usage.serverCpuS * 1000;
    const row = {
      config,
      ...result,
      loadavg: loadNow(),
      loopDelay,
      serverCpuMsPerTenant: round(cpuMs / Math.max(result.ready, 1)),
      ...(restate && { restate }),
    };
    ctx.log(
      `${config} c=${concurrency}: ${row.tenantsPerSecond}/s p50 ${row.latency.p50} ms p99 ${row.latency.p99} ms ` +
        `(server cpu ${row.usage.serverCpuPct}%, failed ${row.failed}, errors ${row.errors})` +
        (restate
          ? `; restate-server ${restate.serverCpuMsPerTenant} ms CPU and ${restate.invocationAttemptsPerTenant} invocation attempts per tenant`
          : ''),
    );
    rows.push(row);
  }
  return rows;
}

function targets(rows: readonly ControlPlaneRow[]): TargetCheck[] {
  const find = (config: ControlPlaneConfig, c: number) =>
    rows.find((r) => r.config === config && r.concurrency === c);
  return [
    atLeast('(1) sqlite tenants/s @128', find('embedded+sqlite', 128)?.tenantsPerSecond, 500, '/s'),
    atMost('(1) sqlite p50 @1', find('embedded+sqlite', 1)?.latency.p50, 15, ' ms'),
    atLeast('(1) postgres tenants/s @128', find('embedded+postgres', 128)?.tenantsPerSecond, 300, '/s'),
  ];
}

function table(rows: readonly ControlPlaneRow[]): PrintableTable {
  return {
    title: '(1) Control plane, fake provider @0 ms: create→ready through the HTTP API (closed loop)',
    head: [
      'engine+db',
      'conc',
      'tenants/s',
      'p50 ms',
      'p99 ms',
      'POST p50',
      'srv CPU%',
      'CPU ms/tenant',
      'kernel %',
      'I/O calls/tenant',
      'loop delay p99/max',
      'rq-wait%',
      'fail/err',
    ],
    rows: rows.map((r) => [
      r.config,
      r.concurrency,
      r.tenantsPerSecond,
      r.latency.p50,
      r.latency.p99,
      r.post.p50,
      r.usage.serverCpuPct,
      r.serverCpuMsPerTenant,
      r.usage.serverKernelPct,
      round(r.usage.serverIoCalls / Math.max(r.ready, 1), 1),
      `${r.loopDelay.p99} / ${r.loopDelay.max}`,
      r.usage.serverRunqueueWaitPct,
      `${r.failed}/${r.errors}`,
    ]),
  };
}
