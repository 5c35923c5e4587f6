/**
 * (4) API throughput: GET /v1/tenants/{name} (random names among N seeded tenants) with
 * autocannon, against a bare Fastify route returning the same document, each in its own child
 * process on the same machine. autocannon runs in the bench process (the other core). Rounds
 * alternate the order; the figure is the median round. Ratio = Lessor rps / bare rps.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon, { type Result } from 'autocannon';
import { baseServerEnv, createBenchDatabase, fakeProviderEnv } from '../lib/databases.js';
import { httpGet } from '../lib/http-latency.js';
import { startLessorProcess, type LessorProcess } from '../lib/lessor-process.js';
import { UsageMeter } from '../lib/proc.js';
import { atLeast, type SectionContext, type SectionOutput } from '../lib/section.js';
import { summariseProfile, type ProfileSummary } from '../lib/cpu-profile.js';
import { seededName, seedTenants } from '../lib/seed.js';
import { median, round } from '../lib/stats.js';

const CONNECTIONS = 32;

/**
 * `LESSOR_BENCH_API_PROFILE=1`: a V8 CPU profile of Lessor's measured rounds (the profiler costs
 * throughput, so the ratio of such a run is not the bench's figure).
 */
const PROFILE = process.env.LESSOR_BENCH_API_PROFILE === '1';

export interface CannonRound {
  readonly rps: number;
  /** Requests answered in the round (for per-request figures). */
  readonly requests: number;
  readonly latencyP50: number;
  readonly latencyP99: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly usage: ReturnType<UsageMeter['finish']>;
}

export interface ApiResult extends SectionOutput {
  readonly tenants: number;
  readonly connections: number;
  readonly durationS: number;
  readonly lessor: readonly CannonRound[];
  readonly bare: readonly CannonRound[];
  readonly lessorRps: number;
  readonly bareRps: number;
  readonly ratio: number;
  readonly profile?: ProfileSummary;
}

async function cannon(server: LessorProcess, n: number, durationS: number): Promise<CannonRound> {
  const meter = new UsageMeter(server.pid);
  const result: Result = await autocannon({
    url: server.url,
    connections: CONNECTIONS,
    duration: durationS,
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => ({ ...req, path: `/v1/tenants/${seededName(Math.floor(Math.random() * n))}` }),
      },
    ],
  });
  return {
    rps: round(result.requests.average, 0),
    requests: result.requests.total,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    usage: meter.finish(),
  };
}

export async function apiSection(ctx: SectionContext): Promise<ApiResult> {
  const n = ctx.quick ? 10_000 : 100_000;
  const durationS = ctx.quick ? 3 : 10;
  const rounds = ctx.quick ? 1 : 3;
  const db = await createBenchDatabase('sqlite', ctx.workDir, 'api');
  await seedTenants(db, n);
  const env = { ...baseServerEnv(db, ctx.workDir), ...fakeProviderEnv(), LESSOR_BENCH_FAKE_RUNTIMES: '1' };
  const lessor = await startLessorProcess({
    env,
    logFile: join(ctx.workDir, 'api.log'),
    startTimeoutMs: 180_000,
  });
  let bare: LessorProcess | undefined;
  const results = { lessor: [] as CannonRound[], bare: [] as CannonRound[] };
  const profileFile = join(ctx.workDir, 'api-lessor.cpuprofile');
  let profile: ProfileSummary | undefined;
  try {
    const sample = await httpGet(lessor.url, `/v1/tenants/${seededName(1)}`);
    const tenantFile = join(ctx.workDir, 'tenant.json');
    writeFileSync(tenantFile, sample.body);
    bare = await startLessorProcess({
      entry: 'bench/lib/bare-fastify.ts',
      env: { LESSOR_BENCH_TENANT_FILE: tenantFile },
      logFile: join(ctx.workDir, 'bare.log'),
      // Its whole life (it speaks no profile-start), for comparing shares with Lessor's rounds.
      ...(PROFILE && { cpuProfDir: join(ctx.workDir, 'bare-profile') }),
    });
    await cannon(lessor, n, 1);
    await cannon(bare, n, 1);
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 === 0 ? (['lessor', 'bare'] as const) : (['bare', 'lessor'] as const);
      for (const which of order) {
        if (PROFILE && which === 'lessor') await lessor.rpc('profile-start');
        const round = await cannon(which === 'lessor' ? lessor : bare, n, durationS);
        if (PROFILE && which === 'lessor') await lessor.rpc(`profile-stop:${profileFile}`);
        results[which].push(round);
        ctx.log(
          `api ${which}: ${round.rps} rps, p99 ${round.latencyP99} ms, server CPU ${round.usage.serverCpuPct}%, client CPU ${round.usage.clientCpuPct}%`,
        );
      }
    }
    if (PROFILE) profile = summariseProfile(profileFile, 40);
  } finally {
    await bare?.stop();
    await lessor.stop();
  }
  const lessorRps = median(results.lessor.map((r) => r.rps));
  const bareRps = median(results.bare.map((r) => r.rps));
  const ratio = round(lessorRps / bareRps, 3);
  const row = (name: string, list: readonly CannonRound[], rps: number) => {
    const mid = list.find((r) => r.rps === rps) ?? list[0]!;
    return [
      name,
      rps,
      mid.latencyP50,
      mid.latencyP99,
      mid.usage.serverCpuPct,
      mid.usage.serverKernelPct,
      round(mid.usage.serverIoCalls / Math.max(mid.requests, 1), 2),
      mid.usage.clientCpuPct,
      mid.errors + mid.non2xx,
    ];
  };
  return {
    tenants: n,
    connections: CONNECTIONS,
    durationS,
    ...results,
    lessorRps,
    bareRps,
    ratio,
    ...(profile && { profile }),
    tables: [
      {
        title: `(4) GET /v1/tenants/{name}: autocannon, ${CONNECTIONS} connections, ${durationS} s × ${rounds} round(s), ${n} tenants`,
        head: [
          'server',
          'req/s',
          'p50 ms',
          'p99 ms',
          'server CPU%',
          'kernel %',
          'I/O calls/GET',
          'client CPU%',
          'errors',
        ],
        rows: [
          row('Lessor (embedded+SQLite)', results.lessor, lessorRps),
          row('bare Fastify, same document', results.bare, bareRps),
          ['ratio', ratio, null, null, null, null, null, null, null],
        ],
      },
    ],
    targets: [atLeast('(4) GET rps vs bare Fastify', ratio, 0.5, '×')],
    notes: profile
      ? [
          `CPU profile of Lessor's rounds: ${profileFile} (kept with --keep); areas: ${profile.areas
            .slice(0, 10)
            .map((a) => `${a.name} ${a.selfPct}%`)
            .join(', ')}`,
          ...profile.functions.slice(0, 25).map((f) => `  ${f.selfPct}% ${f.name}`),
        ]
      : [],
  };
}
