/**
 * Profiling (`--only profile`): where the control plane spends its time. The Lessor child runs with
 * SQL statement counting and caller attribution, and a V8 CPU profile is taken (inspector) over
 * exactly the measured window of (a) create→ready at concurrency 16 with the fake provider, and
 * (b) GET /v1/tenants/{name} under autocannon. Reports statements per tenant / per GET with the code
 * that issues them, CPU ms per tenant / per GET, and the top self-time functions and code areas.
 */
import { join } from 'node:path';
import autocannon from 'autocannon';
import { summariseProfile, type ProfileSummary } from '../lib/cpu-profile.js';
import { runCreateLoop } from '../lib/create-loop.js';
import { baseServerEnv, createBenchDatabase, fakeProviderEnv, type Backend } from '../lib/databases.js';
import { startLessorProcess, type LessorProcess } from '../lib/lessor-process.js';
import { ReadyWatcher } from '../lib/ready-watcher.js';
import { readProc } from '../lib/proc.js';
import { atMost, type PrintableTable, type SectionContext, type SectionOutput } from '../lib/section.js';
import type { SqlStat } from '../lib/sql-counter.js';
import { round } from '../lib/stats.js';

/** Concurrency of the profiled create→ready window; LESSOR_BENCH_PROFILE_CONCURRENCY overrides it. */
const PROFILE_CONCURRENCY = Number(process.env.LESSOR_BENCH_PROFILE_CONCURRENCY ?? 16);

interface SqlReport {
  readonly statements: Record<string, SqlStat>;
  readonly callers: Record<string, number>;
}

export interface ProfiledWindow {
  readonly units: number;
  readonly unit: string;
  readonly cpuMsPerUnit: number;
  readonly statementsPerUnit: number;
  /**
   * Store transactions begun: BEGINs, plus on SQLite the savepoints of the transactions that
   * joined a shared group-commit batch (group-commit-driver.ts), so that both databases count alike.
   */
  readonly transactionsPerUnit: number;
  /** SQLite: the batches (BEGIN IMMEDIATE) those transactions shared. */
  readonly beginsPerUnit: number;
  readonly commitsPerUnit: number;
  readonly sqlMsPerUnit: number;
  /** Statement kinds by SQL time (ms and count per unit), the costliest first. */
  readonly sqlMsPerUnitByStatement: Record<string, { count: number; ms: number }>;
  /** `statement ← store function ← caller` per unit. */
  readonly callersPerUnit: Record<string, number>;
  readonly profile: ProfileSummary;
}

/** Who issues which statement, per unit: a short separate window (stack capture is costly). */
async function attributed(
  server: LessorProcess,
  work: () => Promise<number>,
): Promise<Record<string, number>> {
  await server.rpc('reset-sql');
  await server.rpc('sql-callers:on');
  const units = await work();
  await server.rpc('sql-callers:off');
  const { sql } = await server.rpc<{ sql: SqlReport }>('stats');
  const per = Object.entries(sql.callers).map(([k, v]) => [k, round(v / Math.max(units, 1), 2)] as const);
  return Object.fromEntries(per.filter(([, v]) => v >= 0.05));
}

async function profiled(
  server: LessorProcess,
  file: string,
  unit: string,
  work: () => Promise<number>,
): Promise<Omit<ProfiledWindow, 'callersPerUnit'>> {
  await server.rpc('reset-sql');
  const before = readProc(server.pid).cpuSeconds;
  await server.rpc('profile-start');
  const units = await work();
  await server.rpc(`profile-stop:${file}`);
  const cpuMs = (readProc(server.pid).cpuSeconds - before) * 1000;
  const { sql } = await server.rpc<{ sql: SqlReport }>('stats');
  const stats = Object.entries(sql.statements);
  const count = stats.reduce((sum, [, s]) => sum + s.count, 0);
  const ms = stats.reduce((sum, [, s]) => sum + s.ms, 0);
  const per = (v: number) => round(v / Math.max(units, 1), 2);
  return {
    units,
    unit,
    cpuMsPerUnit: per(cpuMs),
    statementsPerUnit: per(count),
    transactionsPerUnit: per((sql.statements.begin?.count ?? 0) + (sql.statements.savepoint?.count ?? 0)),
    beginsPerUnit: per(sql.statements.begin?.count ?? 0),
    commitsPerUnit: per(sql.statements.commit?.count ?? 0),
    sqlMsPerUnit: per(ms),
    sqlMsPerUnitByStatement: Object.fromEntries(
      stats
        .sort(([, a], [, b]) => b.ms - a.ms)
        .slice(0, 15)
        .map(([statement, s]) => [statement, { count: per(s.count), ms: per(s.ms) }]),
    ),
    profile: summariseProfile(file, 40),
  };
}

interface BackendProfile {
  readonly backend: Backend;
  readonly create: ProfiledWindow;
  readonly get: ProfiledWindow;
}

async function profileBackend(ctx: SectionContext, backend: Backend): Promise<BackendProfile> {
  const db = await createBenchDatabase(backend, ctx.workDir, `profile_${backend}`);
  const env = { ...baseServerEnv(db, ctx.workDir), ...fakeProviderEnv(), LESSOR_BENCH_SQL_STATS: '1' };
  const server = await startLessorProcess({ env, logFile: join(ctx.workDir, `profile_${backend}.log`) });
  const watcher = await ReadyWatcher.open(db.target);
  const seconds = ctx.quick ? 4 : 10;
  const file = (what: string) => join(ctx.workDir, `${what}-${backend}.cpuprofile`);
  try {
    const loop = (prefix: string, durationMs: number) =>
      runCreateLoop({
        url: server.url,
        watcher,
        serverPid: server.pid,
        concurrency: PROFILE_CONCURRENCY,
        durationMs,
        prefix,
        spec: { provider: 'fake', config: {} },
      });
    await loop('warm', 2000);
    const createCallers = await attributed(server, async () => (await loop('attr', 2000)).ready);
    const creates = async () => (await loop('prof', seconds * 1000)).ready;
    const create = {
      ...(await profiled(server, file('create'), 'tenant', creates)),
      callersPerUnit: createCallers,
    };
    const gets = async (duration: number) => {
      const path = () => `/v1/tenants/prof-${Math.floor(Math.random() * 50)}`;
      const result = await autocannon({
        url: server.url,
        connections: 16,
        duration,
        requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: path() }) }],
      });
      return result.requests.total;
    };
    const getCallers = await attributed(server, () => gets(1));
    const get = {
      ...(await profiled(server, file('get'), 'GET', () => gets(seconds))),
      callersPerUnit: getCallers,
    };
    return { backend, create, get };
  } finally {
    await watcher.close();
    await server.stop();
    await db.cleanup();
  }
}

function tables(profiles: readonly BackendProfile[]): PrintableTable[] {
  const windows = profiles.flatMap((p) => [p.create, p.get].map((w) => ({ backend: p.backend, w })));
  const out: PrintableTable[] = [
    {
      title: `Profile (concurrency ${PROFILE_CONCURRENCY}, fake provider): cost per unit in the server`,
      head: [
        'db',
        'unit',
        'units',
        'CPU ms/unit',
        'SQL stmts/unit',
        'txns/unit',
        'BEGINs/unit',
        'SQL ms/unit',
      ],
      rows: windows.map(({ backend, w }) => [
        backend,
        w.unit,
        w.units,
        w.cpuMsPerUnit,
        w.statementsPerUnit,
        w.transactionsPerUnit,
        w.beginsPerUnit,
        w.sqlMsPerUnit,
      ]),
    },
  ];
  const sqlite = profiles.find((p) => p.backend === 'sqlite') ?? profiles[0];
  if (sqlite) {
    out.push({
      title: 'Profile: SQL per tenant (create→ready) by caller (≥ 0.5 per tenant)',
      head: ['per tenant', 'statement ← store function ← caller'],
      rows: Object.entries(sqlite.create.callersPerUnit)
        .filter(([, v]) => v >= 0.5)
        .map(([k, v]) => [v, k.replace(/ \(src\//g, ' (')]),
    });
  }
  for (const { backend, w } of windows) {
    const areas = w.profile.areas
      .slice(0, 8)
      .map((a) => `${a.name} ${a.selfPct}%`)
      .join(', ');
    out.push({
      title: `Profile ${backend} ${w.unit}: top self time (% of busy); areas: ${areas}`,
      head: ['function', '%'],
      rows: w.profile.functions.slice(0, 12).map((f) => [f.name, f.selfPct]),
    });
  }
  return out;
}

export async function profileSection(
  ctx: SectionContext,
): Promise<SectionOutput & { profiles: BackendProfile[] }> {
  const backends: Backend[] = ctx.quick ? ['sqlite'] : ['sqlite', 'postgres'];
  const profiles: BackendProfile[] = [];
  for (const backend of backends) profiles.push(await profileBackend(ctx, backend));
  return {
    profiles,
    tables: tables(profiles),
    targets: profiles.flatMap(({ backend, create }) => [
      atMost(`SQL statements per create→ready (${backend})`, create.statementsPerUnit, 25),
      atMost(`transactions per create→ready (${backend})`, create.transactionsPerUnit, 4),
    ]),
    notes: [`CPU profiles: ${ctx.workDir}/{create,get}-<db>.cpuprofile (kept with --keep)`],
  };
}
