/**
 * (6) Rollouts: 10 000 seeded ready tenants (fake provider, 0 ms, runtimes present), one rollout of
 * a new image in waves [1%, 10%, 100%] with maxParallel 200, SQLite (PostgreSQL and Restate over
 * SQLite too in full mode, reported without a bar): the time from create to `succeeded`. Then a fleet
 * where every 20th tenant fails its updates (5 %) and `maxFailedPercent: 2`: the rollout must halt
 * inside the first wave that crosses it, and the members of later waves that started are counted
 * (the bar: 0).
 *
 * `runRollout` also serves profiling runs of another size, from a small driver script: with
 * `profileDir` the server counts its SQL statements and writes a CPU profile of the rollout.
 */
import { join } from 'node:path';
import { LessorClient } from '../../src/api/client.js';
import type { Rollout } from '../../src/api/types.js';
import { createStore } from '../../src/store/create-store.js';
import { startRestateServer, type RestateServer } from '../../src/workflow/restate/testing/restate-server.js';
import { summariseProfile, type ProfileSummary } from '../lib/cpu-profile.js';
import { baseServerEnv, createBenchDatabase, fakeProviderEnv, type Backend } from '../lib/databases.js';
import { freePort, startLessorProcess } from '../lib/lessor-process.js';
import { readProc } from '../lib/proc.js';
import { atMost, type SectionContext, type SectionOutput, type TargetCheck } from '../lib/section.js';
import { seededName, seedTenants } from '../lib/seed.js';
import type { SqlStat } from '../lib/sql-counter.js';

const TENANTS = 10_000;
const FAIL_EVERY = 20;

export type RolloutEngine = 'embedded' | 'restate';

export interface RolloutRunOptions {
  readonly backend: Backend;
  readonly engine: RolloutEngine;
  readonly failing: boolean;
  readonly tenants: number;
  /** Count SQL statements and write a CPU profile of the rollout into this directory. */
  readonly profileDir?: string;
  /** With `profileDir`: also name each statement's caller (slow: a stack per statement). */
  readonly traceCallers?: boolean;
}

export interface RolloutRow {
  readonly backend: Backend;
  readonly engine: RolloutEngine;
  readonly scenario: 'all succeed' | '5% failing';
  readonly phase: string;
  readonly ms: number;
  /** CPU time of the server process (user + system) over the same window: less noisy on a busy box. */
  readonly cpuMs: number;
  readonly counts: Rollout['status']['counts'];
  /** Members of waves after the halted one that started (not pending). */
  readonly laterWaveStarted: number | null;
}

export interface RolloutProfile {
  /** Statements by kind during the rollout, the most frequent first. */
  readonly statements: Record<string, SqlStat>;
  readonly callers: Record<string, number>;
  readonly profile: ProfileSummary;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every 20th seeded tenant fails each update from now on (a spec change before Lessor starts). */
async function makeFailing(url: string, tenants: number): Promise<void> {
  const store = await createStore({ url });
  try {
    for (let i = 0; i < tenants; i += FAIL_EVERY) {
      await store.tenants.change(seededName(i), {
        actor: 'bench',
        spec: {
          ...(await store.tenants.get(seededName(i)))!.spec,
          config: {
            image: 'registry.example/app:1.4.2',
            faults: { nonRetriable: true, failOperations: ['update'] },
          },
        },
      });
    }
  } finally {
    await store.close();
  }
}

async function restateEnv(server: RestateServer): Promise<Record<string, string>> {
  return {
    LESSOR_ENGINE__TYPE: 'restate',
    LESSOR_ENGINE__RESTATE__INGRESS_URL: server.ingressUrl,
    LESSOR_ENGINE__RESTATE__ADMIN_URL: server.adminUrl,
    LESSOR_ENGINE__RESTATE__ENDPOINT_PORT: String(await freePort()),
  };
}

export async function runRollout(
  ctx: SectionContext,
  options: RolloutRunOptions,
): Promise<RolloutRow & { profile?: RolloutProfile }> {
  const { backend, engine, failing, tenants } = options;
  const label = `rollouts_${engine}_${backend}_${failing ? 'failing' : 'ok'}`;
  const db = await createBenchDatabase(backend, ctx.workDir, label);
  let restate: RestateServer | undefined;
  try {
    await seedTenants(db, tenants);
    if (failing) await makeFailing(db.url, tenants);
    const env: Record<string, string> = {
      ...baseServerEnv(db, ctx.workDir),
      ...fakeProviderEnv(),
      LESSOR_BENCH_FAKE_RUNTIMES: '1',
      ...(options.profileDir !== undefined && { LESSOR_BENCH_SQL_STATS: '1' }),
    };
    if (engine === 'restate') {
      restate = await startRestateServer();
      Object.assign(env, await restateEnv(restate));
    }
    const server = await startLessorProcess({
      env,
      logFile: join(ctx.workDir, `${label}.log`),
      startTimeoutMs: 180_000,
    });
    try {
      const client = new LessorClient({ baseUrl: server.url, timeoutMs: 120_000 });
      if (failing) await sleep(5_000); // the failing tenants' own updates run (and fail) first
      if (options.profileDir !== undefined) {
        await server.rpc('reset-sql');
        await server.rpc('profile-start');
        if (options.traceCallers === true) await server.rpc('sql-callers:on');
      }
      const started = performance.now();
      const cpuBefore = readProc(server.pid).cpuSeconds;
      const created = await client.createRollout(
        {
          description: 'bench',
          selector: { labels: 'plan!=none' },
          change: { patch: { config: { image: 'registry.example/app:2.0.0' } } },
          strategy: { waves: ['1%', '10%', '100%'], maxParallel: 200, progressDeadlineMs: 600_000 },
          failurePolicy: { maxFailedPercent: failing ? 2 : null },
        },
        { skipInvalid: true },
      );
      let rollout = created;
      for (;;) {
        rollout = await client.getRollout(created.id);
        const { phase } = rollout.status;
        const settled = rollout.status.counts.inProgress === 0;
        if (['succeeded', 'aborted', 'rolledBack'].includes(phase) || (phase === 'halted' && settled)) break;
        await sleep(200);
      }
      const ms = Math.round(performance.now() - started);
      const cpuMs = Math.round((readProc(server.pid).cpuSeconds - cpuBefore) * 1000);
      let profile: RolloutProfile | undefined;
      if (options.profileDir !== undefined) {
        const file = join(options.profileDir, `${label}.cpuprofile`);
        await server.rpc(`profile-stop:${file}`);
        const { sql } = await server.rpc<{ sql: Omit<RolloutProfile, 'profile'> }>('stats');
        profile = { statements: sql.statements, callers: sql.callers, profile: summariseProfile(file) };
      }
      const halted = rollout.status.waves.findIndex((w) => w.failed > 0);
      const later =
        halted === -1
          ? null
          : rollout.status.waves.slice(halted + 1).reduce((n, w) => n + w.size - w.pending, 0);
      ctx.log(
        `rollouts ${engine}+${backend} ${failing ? 'failing' : 'ok'}: ${rollout.status.phase} in ${ms} ms (server CPU ${cpuMs} ms)`,
      );
      return {
        backend,
        engine,
        scenario: failing ? '5% failing' : 'all succeed',
        phase: rollout.status.phase,
        ms,
        cpuMs,
        counts: rollout.status.counts,
        laterWaveStarted: failing ? later : null,
        ...(profile && { profile }),
      };
    } finally {
      await server.stop();
    }
  } finally {
    await restate?.stop();
    await db.cleanup();
  }
}

export async function rolloutsSection(ctx: SectionContext): Promise<SectionOutput & { rows: RolloutRow[] }> {
  const configs: { backend: Backend; engine: RolloutEngine }[] = ctx.quick
    ? [{ backend: 'sqlite', engine: 'embedded' }]
    : [
        { backend: 'sqlite', engine: 'embedded' },
        { backend: 'postgres', engine: 'embedded' },
        { backend: 'sqlite', engine: 'restate' },
      ];
  const rows: RolloutRow[] = [];
  for (const config of configs) {
    rows.push(await runRollout(ctx, { ...config, failing: false, tenants: TENANTS }));
  }
  rows.push(
    await runRollout(ctx, { backend: 'sqlite', engine: 'embedded', failing: true, tenants: TENANTS }),
  );
  const ok = rows.find(
    (r) => r.engine === 'embedded' && r.backend === 'sqlite' && r.scenario === 'all succeed',
  );
  const failing = rows.find((r) => r.scenario === '5% failing');
  const targets: TargetCheck[] = [
    atMost(
      'rollouts: 10 000 tenants start→succeeded (sqlite) ms',
      ok?.phase === 'succeeded' ? ok.ms : null,
      60_000,
    ),
    atMost('rollouts: later-wave tenants started after a halt', failing?.laterWaveStarted ?? null, 0),
  ];
  return {
    rows,
    tables: [
      {
        title: `(6) Rollouts: ${TENANTS} tenants, waves [1%, 10%, 100%], maxParallel 200 (fake provider, 0 ms)`,
        head: [
          'engine',
          'db',
          'scenario',
          'phase',
          'ms',
          'server CPU ms',
          'succeeded',
          'failed',
          'pending',
          'later waves started',
        ],
        rows: rows.map((r) => [
          r.engine,
          r.backend,
          r.scenario,
          r.phase,
          r.ms,
          r.cpuMs,
          r.counts.succeeded,
          r.counts.failed,
          r.counts.pending,
          r.laterWaveStarted,
        ]),
      },
    ],
    targets,
    notes: ['PostgreSQL and Restate (over SQLite) are reported without a bar.'],
  };
}
