/**
 * (2) Real containers: create→ready of a tenant through Lessor's docker provider (HTTP API, Lessor
 * as a child process, embedded engine + SQLite) against the same container created, started and
 * health-checked directly through the engine API (Podman's Docker-compatible socket). Runs are
 * interleaved in alternating order after one warm-up of each; ratio = median(Lessor) / median(direct).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LessorClient } from '../../src/api/client.js';
import { baseServerEnv, createBenchDatabase } from '../lib/databases.js';
import { CONTAINER_CONFIG, directRun, dockerClient, PODMAN_HOST } from '../lib/direct-container.js';
import { startLessorProcess } from '../lib/lessor-process.js';
import { ReadyWatcher } from '../lib/ready-watcher.js';
import { engineStats, installEngineCounter, resetEngineStats } from '../lib/engine-counter.js';
import { atMost, describeError, type SectionContext, type SectionOutput } from '../lib/section.js';
import { median, round, summarize, wallMs, type Summary } from '../lib/stats.js';

export interface ContainersResult extends SectionOutput {
  readonly pairs: number;
  readonly lessor?: Summary;
  readonly direct?: Summary;
  readonly ratio?: number;
  readonly pairRatioMedian?: number;
  readonly samples?: { lessorMs: number[]; directMs: number[] };
  /** Median split of Lessor's time, from the compute execution's startedAt / finishedAt. */
  readonly lessorSplit?: Split;
  /** Engine API calls of the docker provider per provision (count, total ms). */
  readonly engineCallsPerProvision?: Record<string, { count: number; ms: number }>;
  /** Engine API calls of one direct run, for comparison (count, total ms). */
  readonly engineCallsPerDirectRun?: Record<string, { count: number; ms: number }>;
}

/** Where a Lessor create→ready went: before the provider call, in it, after it (ms). */
interface Split {
  readonly beforeProvider: number;
  readonly provider: number;
  readonly afterProvider: number;
}

async function lessorRun(
  client: LessorClient,
  watcher: ReadyWatcher,
  name: string,
  splits: Split[],
  afterReady?: () => Promise<void>,
): Promise<number> {
  const t0 = wallMs();
  const tenant = await client.createTenant({ name, spec: { provider: 'docker', config: CONTAINER_CONFIG } });
  const settled = await watcher.wait(tenant.id, ['ready', 'failed'], 120_000);
  const elapsed = settled.seenAt - t0;
  const execution = (await client.tenantExecutions(tenant.id)).items.find((e) => e.operation === 'provision');
  if (execution?.startedAt && execution.finishedAt) {
    const started = Date.parse(execution.startedAt);
    const finished = Date.parse(execution.finishedAt);
    splits.push({
      beforeProvider: round(started - t0),
      provider: finished - started,
      afterProvider: round(settled.seenAt - finished),
    });
  }
  await afterReady?.();
  await client.deleteTenant(tenant.id);
  await watcher.wait(tenant.id, ['archived', 'failed'], 120_000);
  if (settled.phase !== 'ready')
    throw new Error(`tenant ${name} failed: ${(await client.getTenant(tenant.id)).status.message}`);
  return elapsed;
}

type CallStats = Record<string, { count: number; ms: number }>;

/** Adds one run's engine calls, divided by the number of runs, into `into`. */
function addCalls(into: CallStats, calls: CallStats, runs: number): void {
  for (const [op, stat] of Object.entries(calls)) {
    const sum = (into[op] ??= { count: 0, ms: 0 });
    sum.count += stat.count / runs;
    sum.ms += stat.ms / runs;
  }
}

function roundCalls(calls: CallStats): CallStats {
  return Object.fromEntries(
    Object.entries(calls).map(([op, v]) => [op, { count: round(v.count, 2), ms: round(v.ms, 1) }]),
  );
}

function describeCalls(calls: CallStats): string {
  return Object.entries(calls)
    .map(([op, v]) => `${op} ×${v.count} (${v.ms} ms)`)
    .join(', ');
}

let directCounter = false;

export async function containersSection(ctx: SectionContext): Promise<ContainersResult> {
  const engine = dockerClient();
  try {
    await engine.ping(AbortSignal.timeout(5_000));
    await engine.inspectImage(CONTAINER_CONFIG.image, AbortSignal.timeout(5_000));
  } catch (error) {
    const reason = `container engine at ${PODMAN_HOST} or image ${CONTAINER_CONFIG.image} not available: ${describeError(error)} (bash scripts/setup-podman.sh)`;
    ctx.log(`containers: ${reason}`);
    return { pairs: 0, tables: [], targets: [atMost('(2) docker/direct ratio', null, 1.1)], notes: [reason] };
  }
  const db = await createBenchDatabase('sqlite', ctx.workDir, 'containers');
  // A YAML file, because provider options set through the environment arrive as strings and the
  // docker provider rejects a string stopTimeoutSeconds. 1 s: httpd as PID 1 ignores SIGTERM.
  const configFile = join(ctx.workDir, 'containers.yaml');
  writeFileSync(
    configFile,
    `compute:\n  defaultProvider: docker\n  providers:\n    docker: { host: "${PODMAN_HOST}", stopTimeoutSeconds: 1 }\n`,
  );
  const env = {
    ...baseServerEnv(db, ctx.workDir),
    LESSOR_BENCH_CONFIG_FILE: configFile,
    LESSOR_BENCH_ENGINE_STATS: '1',
  };
  const server = await startLessorProcess({ env, logFile: join(ctx.workDir, 'containers.log') });
  const watcher = await ReadyWatcher.open(db.target);
  const client = new LessorClient({ baseUrl: server.url, timeoutMs: 60_000 });
  const lessorMs: number[] = [];
  const directMs: number[] = [];
  const pairs = ctx.quick ? 3 : 10;
  const splits: Split[] = [];
  const engineCalls: CallStats = {};
  const directCalls: CallStats = {};
  // The direct runs' engine calls are counted in this process as the provider's are in Lessor's.
  if (!directCounter) installEngineCounter();
  directCounter = true;
  try {
    await lessorRun(client, watcher, 'bench-ctr-warm', []);
    await directRun(engine, -1);
    for (let i = 0; i < pairs; i++) {
      const runLessor = async () => {
        await server.rpc('reset-sql');
        const ms = await lessorRun(client, watcher, `bench-ctr-${i}`, splits, async () => {
          const { engine: calls } = await server.rpc<{ engine: CallStats }>('stats');
          addCalls(engineCalls, calls, pairs);
        });
        lessorMs.push(round(ms));
      };
      const runDirect = async () => {
        resetEngineStats();
        directMs.push(round(await directRun(engine, i)));
        // Up to healthy, as Lessor's are counted up to ready: not the removal that follows.
        const { removeContainer: _removal, ...calls } = engineStats();
        addCalls(directCalls, calls, pairs);
      };
      if (i % 2 === 0) await runLessor().then(runDirect);
      else await runDirect().then(runLessor);
      ctx.log(
        `containers pair ${i + 1}/${pairs}: lessor ${lessorMs.at(-1) ?? '-'} ms, direct ${directMs.at(-1) ?? '-'} ms`,
      );
    }
  } finally {
    await watcher.close();
    await server.stop();
    engine.close();
  }
  const ratio = round(median(lessorMs) / median(directMs), 3);
  const pairRatioMedian = round(median(lessorMs.map((l, i) => l / directMs[i]!)), 3);
  const lessor = summarize(lessorMs);
  const direct = summarize(directMs);
  const lessorSplit: Split = {
    beforeProvider: median(splits.map((x) => x.beforeProvider)),
    provider: median(splits.map((x) => x.provider)),
    afterProvider: median(splits.map((x) => x.afterProvider)),
  };
  const engineCallsPerProvision = roundCalls(engineCalls);
  const engineCallsPerDirectRun = roundCalls(directCalls);
  return {
    pairs,
    lessor,
    direct,
    ratio,
    pairRatioMedian,
    samples: { lessorMs, directMs },
    lessorSplit,
    engineCallsPerProvision,
    engineCallsPerDirectRun,
    tables: [
      {
        title: `(2) Real containers (Podman, ${CONTAINER_CONFIG.image}, http health check every 50 ms), ${pairs} interleaved pairs`,
        head: ['path', 'median ms', 'p90 ms', 'max ms'],
        rows: [
          ['Lessor docker provider (API → ready)', lessor.p50, lessor.p90, lessor.max],
          ['direct engine API (create+start+check)', direct.p50, direct.p90, direct.max],
          ['ratio (median / median)', ratio, null, null],
          ['  Lessor: POST → provider call starts', lessorSplit.beforeProvider, null, null],
          ['  Lessor: provider call (engine + health)', lessorSplit.provider, null, null],
          ['  Lessor: provider done → ready seen', lessorSplit.afterProvider, null, null],
        ],
      },
    ],
    targets: [atMost('(2) docker/direct ratio', ratio, 1.1)],
    notes: [
      `engine calls per Lessor create→ready (the provision; the docker provider returns healthy, so the workflow describes nothing after it): ${describeCalls(engineCallsPerProvision)}`,
      `engine calls per direct run: ${describeCalls(engineCallsPerDirectRun)}`,
    ],
  };
}
