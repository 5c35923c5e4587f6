/**
 * (3) Scale: N = 100 000 ready tenants seeded into the store by SQL (bench/lib/seed.ts), Lessor
 * started on it (each tenant's fake runtime present, as after a real provisioning), then:
 * GET /v1/tenants/{name} p99 (random names, sequential), list pages of 100 (walking the cursor),
 * one full resync pass (timed inside the server), and the server's idle CPU and RSS over 60 s
 * with the controller's periodic resync and drift passes as configured by default, then retention
 * passes (one now; in full mode one with every record past its window, and the next). Full mode
 * waits for the controller's first drift pass (a full pass over every ready tenant, reported on its
 * own) and then a settle period of 40 s, sampled and reported on its own, so that the window shows
 * the steady state: after the busy phases V8's memory reducer runs a few mark-compact GCs (seen
 * with `--trace-gc`: some 200 ms of main-thread GC work plus its concurrent markers), a one-off
 * cost of going idle that used to fall into the window or not depending on when the first drift
 * pass ended. The reducer looks every 8 s whether the allocation rate has dropped; its GCs came
 * about 10 s into the quiet on a fast machine and 24 s in on one at half that speed, so the settle
 * covers five of its looks. Quick mode samples 10 s right away.
 */
import { join } from 'node:path';
import { baseServerEnv, createBenchDatabase, fakeProviderEnv, type Backend } from '../lib/databases.js';
import { sequentialLatency } from '../lib/http-latency.js';
import { startLessorProcess, type LessorProcess } from '../lib/lessor-process.js';
import { sampleIdle, type IdleProfile } from '../lib/proc.js';
import { atMost, type SectionContext, type SectionOutput } from '../lib/section.js';
import { seededName, seedTenants } from '../lib/seed.js';
import { round, sleep, type Summary } from '../lib/stats.js';
import type { RetentionPass } from '../../src/store/retention-sweeper.js';

export const SCALE_TENANTS = 100_000;
/** Full mode: sampled between the first drift pass and the idle window (see above). */
const SETTLE_MS = 40_000;

interface Pass {
  readonly startedAt: number;
  readonly ms: number;
  readonly result: number;
}

export interface ScaleRow {
  readonly backend: Backend;
  readonly tenants: number;
  readonly seedMs: number;
  readonly startupMs: number;
  /** Heap held by the seeded fake runtimes (a bench artefact inside the server's RSS). */
  readonly fakeRuntimesHeapMb: number;
  readonly get: Summary;
  readonly list: Summary;
  readonly listByLabel: Summary;
  readonly resyncMs: readonly number[];
  readonly idle: IdleProfile;
  /** Controller passes that overlapped the idle window (timed by the server). */
  readonly idlePasses: { resync: readonly Pass[]; drift: readonly Pass[]; driftRunningAtEnd: boolean };
  /** The controller's first drift pass after start — a full one over every ready tenant (full mode). */
  readonly driftPass?: Pass;
  /** The settle period between that pass and the idle window (full mode), reported on its own. */
  readonly settle?: IdleProfile;
  /** process.memoryUsage() of the server at the end of the idle window. */
  readonly memoryMb: Record<string, number>;
  /**
   * Retention passes after the idle window (timed in the server): the hourly pass as it is (nothing
   * past the window), and in full mode a full pass with the clock 31 days ahead — every event but
   * the newest deleted, every tenant's run read and kept (its status names it) — then the next pass.
   */
  readonly retention: { readonly now: RetentionPasses; readonly expired?: RetentionPasses };
}

interface RetentionPasses {
  readonly first: RetentionPass;
  readonly next: RetentionPass;
}

export interface ScaleResult extends SectionOutput {
  readonly rows: readonly ScaleRow[];
}

const randomName = (n: number) => seededName(Math.floor(Math.random() * n));

async function measure(
  ctx: SectionContext,
  server: LessorProcess,
  backend: Backend,
  n: number,
  seedMs: number,
  startupMs: number,
): Promise<ScaleRow> {
  const count = ctx.quick ? 400 : 3000;
  await sequentialLatency(server.url, 200, () => `/v1/tenants/${randomName(n)}`);
  const get = await sequentialLatency(server.url, count, () => `/v1/tenants/${randomName(n)}`);
  const pages = ctx.quick ? 100 : 500;
  const walk = (query: string) => (i: number, body: string | undefined) => {
    const cursor =
      i % 200 === 0 || body === undefined
        ? null
        : (JSON.parse(body) as { nextCursor: string | null }).nextCursor;
    return `/v1/tenants?limit=100${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
  };
  const list = await sequentialLatency(server.url, pages, walk(''));
  const listByLabel = await sequentialLatency(
    server.url,
    Math.round(pages / 2),
    walk('&labels=plan%3Denterprise'),
  );
  const resyncMs: number[] = [];
  for (let i = 0; i < 3; i++) resyncMs.push((await server.rpc<{ ms: number }>('resync')).ms);
  ctx.log(
    `scale ${backend}: GET p99 ${get.latency.p99} ms, list p99 ${list.latency.p99} ms, resync ${resyncMs.join('/')} ms; idle window…`,
  );
  // Full mode measures the steady state: the controller's first drift pass (a full one, timed by
  // the server) and the settle after it (V8's memory-reducing GCs, reported apart) are over before
  // the window starts, and the window holds the next periodic pass.
  const driftPass = ctx.quick ? undefined : await firstDriftPass(server);
  let settle: IdleProfile | undefined;
  if (ctx.quick) await sleep(2000);
  else settle = await sampleIdle(server.pid, SETTLE_MS);
  const windowStart = Date.now();
  const idle = await sampleIdle(server.pid, ctx.quick ? 10_000 : 60_000);
  const windowEnd = Date.now();
  const stats = await server.rpc<ServerStats>('stats');
  const inWindow = (p: Pass) => p.startedAt < windowEnd && p.startedAt + p.ms > windowStart;
  const driftRunning = stats.running.drift;
  const retention = {
    now: await server.rpc<RetentionPasses>('retention:0'),
    ...(!ctx.quick && { expired: await server.rpc<RetentionPasses>('retention:31') }),
  };
  return {
    backend,
    tenants: n,
    seedMs,
    startupMs,
    fakeRuntimesHeapMb: server.fakeRuntimesHeapMb,
    get: get.latency,
    list: list.latency,
    listByLabel: listByLabel.latency,
    resyncMs,
    idle,
    idlePasses: {
      resync: stats.passes.resync.filter(inWindow),
      drift: stats.passes.drift.filter(inWindow),
      driftRunningAtEnd: driftRunning !== null,
    },
    ...(driftPass && { driftPass }),
    ...(settle && { settle }),
    memoryMb: Object.fromEntries(Object.entries(stats.memory).map(([k, v]) => [k, round(v / 2 ** 20, 1)])),
    retention,
  };
}

function retentionCell(r: ScaleRow['retention']): string {
  const { expired } = r;
  if (!expired) return `${r.now.first.ms} ms`;
  const deleted = Object.values(expired.first.deleted).reduce((a, b) => a + b, 0);
  const examined = Object.values(expired.first.examined).reduce((a, b) => a + b, 0);
  return `${r.now.first.ms} ms; +31 d: ${round(expired.first.ms / 1000, 1)} s (${examined} read, ${deleted} deleted), next ${expired.next.ms} ms`;
}

interface ServerStats {
  readonly passes: { resync: Pass[]; drift: Pass[] };
  readonly running: { resync: number | null; drift: number | null };
  readonly memory: Record<string, number>;
}

/** The controller's first drift pass, waited for (up to 4 min: it starts one interval after start). */
async function firstDriftPass(server: LessorProcess): Promise<Pass | undefined> {
  for (let waited = 0; waited < 240; waited++) {
    const stats = await server.rpc<ServerStats>('stats');
    const first = stats.passes.drift[0];
    if (first) return first;
    await sleep(1000);
  }
  return undefined;
}

async function runBackend(ctx: SectionContext, backend: Backend, n: number): Promise<ScaleRow> {
  const db = await createBenchDatabase(backend, ctx.workDir, `scale_${backend}`);
  try {
    const { ms: seedMs } = await seedTenants(db, n);
    ctx.log(`scale ${backend}: seeded ${n} tenants in ${seedMs} ms`);
    const started = Date.now();
    const env = { ...baseServerEnv(db, ctx.workDir), ...fakeProviderEnv(), LESSOR_BENCH_FAKE_RUNTIMES: '1' };
    const server = await startLessorProcess({
      env,
      logFile: join(ctx.workDir, `scale_${backend}.log`),
      startTimeoutMs: 180_000,
    });
    try {
      return await measure(ctx, server, backend, n, seedMs, Date.now() - started);
    } finally {
      await server.stop();
    }
  } finally {
    await db.cleanup();
  }
}

export async function scaleSection(ctx: SectionContext): Promise<ScaleResult> {
  const backends: Backend[] = ctx.quick ? ['sqlite'] : ['sqlite', 'postgres'];
  const rows: ScaleRow[] = [];
  for (const backend of backends) rows.push(await runBackend(ctx, backend, SCALE_TENANTS));
  const window = (r: ScaleRow) =>
    `${r.idle.windowS} s: ${r.idlePasses.resync.length} resync, ${r.idlePasses.drift.length} drift (${r.idlePasses.drift.map((d) => `${d.ms} ms`).join(', ') || (r.idlePasses.driftRunningAtEnd ? 'running' : '-')})`;
  return {
    rows,
    tables: [
      {
        title: `(3) Scale: ${SCALE_TENANTS} ready tenants in the store (fake provider, runtimes present)`,
        head: [
          'db',
          'GET p50/p99 ms',
          'list p50/p99 ms',
          'label list p99',
          'resync ms',
          'idle CPU %',
          'peak 1 s %',
          'RSS MB',
          'idle window',
          'first drift pass',
          'retention pass',
        ],
        rows: rows.map((r) => [
          r.backend,
          `${r.get.p50} / ${r.get.p99}`,
          `${r.list.p50} / ${r.list.p99}`,
          r.listByLabel.p99,
          r.resyncMs.join(' / '),
          r.idle.cpuPct,
          r.idle.peakCpuPctPerSecond,
          r.idle.rssMbMax,
          window(r),
          r.driftPass ? `${round(r.driftPass.ms / 1000, 1)} s` : null,
          retentionCell(r.retention),
        ]),
      },
    ],
    targets: rows.flatMap((r) => {
      const db = r.backend === 'sqlite' ? '' : ` [${r.backend}]`;
      return [
        atMost(`(3) GET by name p99${db}`, r.get.p99, 5, ' ms'),
        atMost(`(3) list page p99${db}`, r.list.p99, 20, ' ms'),
        atMost(`(3) resync pass${db}`, round(Math.max(...r.resyncMs) / 1000, 2), 2, ' s'),
        atMost(`(3) idle CPU${db}`, r.idle.cpuPct, 1, ' %'),
        atMost(`(3) RSS${db}`, r.idle.rssMbMax, 250, ' MB'),
      ];
    }),
    notes: rows.flatMap((r) => {
      const m = (key: string): string => String(r.memoryMb[key] ?? '?');
      const settle = r.settle
        ? [
            `${r.backend}: settle ${r.settle.windowS} s between the first drift pass and the idle window: ` +
              `CPU ${r.settle.cpuPct} % (peak 1 s ${r.settle.peakCpuPctPerSecond} %), RSS max ${r.settle.rssMbMax} MB ` +
              `— V8's memory-reducing GCs after the busy phases fall here`,
          ]
        : [];
      return [
        ...settle,
        `${r.backend}: seeded in ${r.seedMs} ms, server start ${r.startupMs} ms; memory at the end of the window: ` +
          `rss ${m('rss')} MB, heapUsed ${m('heapUsed')} MB, external ${m('external')} MB, arrayBuffers ${m('arrayBuffers')} MB — ` +
          `of which ${r.fakeRuntimesHeapMb} MB heap are the ${r.tenants} seeded fake runtimes (a bench artefact)`,
      ];
    }),
  };
}
