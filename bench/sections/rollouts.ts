/**
 * (6) Rollouts: 10 000 seeded ready tenants (fake provider, 0 ms, runtimes present), one rollout of
 * a new image in waves [1%, 10%, 100%] with maxParallel 200, SQLite (PostgreSQL too in full mode):
 * the time from create to `succeeded`. Then a fleet where every 20th tenant fails its updates (5 %)
 * and `maxFailedPercent: 2`: the rollout must halt inside the first wave that crosses it, and the
 * members of later waves that started are counted (the bar: 0).
 */
import { join } from 'node:path';
import { LessorClient } from '../../src/api/client.js';
import type { Rollout } from '../../src/api/types.js';
import { createStore } from '../../src/store/create-store.js';
import { baseServerEnv, createBenchDatabase, fakeProviderEnv, type Backend } from '../lib/databases.js';
import { startLessorProcess } from '../lib/lessor-process.js';
import { atMost, type SectionContext, type SectionOutput, type TargetCheck } from '../lib/section.js';
import { seededName, seedTenants } from '../lib/seed.js';

const TENANTS = 10_000;
const FAIL_EVERY = 20;

interface RolloutRow {
  readonly backend: Backend;
  readonly scenario: 'all succeed' | '5% failing';
  readonly phase: string;
  readonly ms: number;
  readonly counts: Rollout['status']['counts'];
  /** Members of waves after the halted one that started (not pending). */
  readonly laterWaveStarted: number | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every 20th seeded tenant fails each update from now on (a spec change before Lessor starts). */
async function makeFailing(url: string): Promise<void> {
  const store = await createStore({ url });
  try {
    for (let i = 0; i < TENANTS; i += FAIL_EVERY) {
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

async function runRollout(ctx: SectionContext, backend: Backend, failing: boolean): Promise<RolloutRow> {
  const label = `rollouts_${backend}_${failing ? 'failing' : 'ok'}`;
  const db = await createBenchDatabase(backend, ctx.workDir, label);
  try {
    await seedTenants(db, TENANTS);
    if (failing) await makeFailing(db.url);
    const env = { ...baseServerEnv(db, ctx.workDir), ...fakeProviderEnv(), LESSOR_BENCH_FAKE_RUNTIMES: '1' };
    const server = await startLessorProcess({
      env,
      logFile: join(ctx.workDir, `${label}.log`),
      startTimeoutMs: 180_000,
    });
    try {
      const client = new LessorClient({ baseUrl: server.url, timeoutMs: 120_000 });
      if (failing) await sleep(5_000); // the failing tenants' own updates run (and fail) first
      const started = performance.now();
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
      const halted = rollout.status.waves.findIndex((w) => w.failed > 0);
      const later =
        halted === -1
          ? null
          : rollout.status.waves.slice(halted + 1).reduce((n, w) => n + w.size - w.pending, 0);
      ctx.log(`rollouts ${backend} ${failing ? 'failing' : 'ok'}: ${rollout.status.phase} in ${ms} ms`);
      return {
        backend,
        scenario: failing ? '5% failing' : 'all succeed',
        phase: rollout.status.phase,
        ms,
        counts: rollout.status.counts,
        laterWaveStarted: failing ? later : null,
      };
    } finally {
      await server.stop();
    }
  } finally {
    await db.cleanup();
  }
}

export async function rolloutsSection(ctx: SectionContext): Promise<SectionOutput & { rows: RolloutRow[] }> {
  const backends: Backend[] = ctx.quick ? ['sqlite'] : ['sqlite', 'postgres'];
  const rows: RolloutRow[] = [];
  for (const backend of backends) rows.push(await runRollout(ctx, backend, false));
  rows.push(await runRollout(ctx, 'sqlite', true));
  const ok = rows.find((r) => r.backend === 'sqlite' && r.scenario === 'all succeed');
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
        head: ['db', 'scenario', 'phase', 'ms', 'succeeded', 'failed', 'pending', 'later waves started'],
        rows: rows.map((r) => [
          r.backend,
          r.scenario,
          r.phase,
          r.ms,
          r.counts.succeeded,
          r.counts.failed,
          r.counts.pending,
          r.laterWaveStarted,
        ]),
      },
    ],
    targets,
    notes: ['Restate is not measured here yet (the section starts the embedded engine only).'],
  };
}
