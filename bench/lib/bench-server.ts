/**
 * The Lessor server as the bench runs it, in its own process: exactly what `lessor serve` does
 * (`loadConfig` from the environment, and from LESSOR_BENCH_CONFIG_FILE as `--config` → `createLogger`
 * → `startLessor`), plus bench-only hooks the
 * parent drives over IPC:
 * - LESSOR_BENCH_SQL_STATS=1 counts and times every SQL statement (profiling runs only),
 *   LESSOR_BENCH_ENGINE_STATS=1 every Docker Engine API call of the docker provider;
 * - LESSOR_BENCH_EXP_* try a proposed fix (experiments.ts);
 * - LESSOR_BENCH_FAKE_RUNTIMES=1 gives every stored fake tenant a running runtime in the process's
 *   fake engine, as if the tenants had been provisioned by this process (seeded scale tests);
 * - the controller's resync and drift passes are timed;
 * - messages: `stats`, `loop-delay` (event-loop delay since the last ask; the first ask turns the
 *   monitor on), `reset-sql`,
 *   `sql-callers:on|off`, `resync` (one pass now, timed), `retention:<days ahead>` (a retention
 *   pass with the clock that far ahead, then the next one), `profile-start`,
 *   `profile-stop:<file>` (a V8 CPU profile of just that window, via the inspector), `stop`.
 */
// First, as in cli-entry.ts: Lessor's V8 settings before any other module is evaluated.
import '../../src/main/v8-flags.js';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../../src/main/config/load-config.js';
import { startLessor, type LessorApp } from '../../src/main/lessor-app.js';
import { createLogger } from '../../src/main/logger.js';
import { sharedFakeEngine } from '../../src/compute/providers/fake/index.js';
import { createStore } from '../../src/store/create-store.js';
import { RetentionSweeper } from '../../src/store/retention-sweeper.js';
import { installExperiments } from './experiments.js';
import { engineStats, installEngineCounter, resetEngineStats } from './engine-counter.js';
import { installSqlCounter, resetSqlStats, sqlStats, traceSqlCallers } from './sql-counter.js';

interface PassRecord {
  readonly startedAt: number;
  readonly ms: number;
  readonly result: number;
}

const passes = { resync: [] as PassRecord[], drift: [] as PassRecord[] };
/** Start time of a pass still in progress (a drift pass over many tenants outlasts a window). */
const running: Record<'resync' | 'drift', number | null> = { resync: null, drift: null };
/**
 * How late timers fire: long stretches without a turn of the event loop (no I/O served either).
 * Off until first asked for: its 10 ms timer wakes the process 100 times a second, about 1 % of a
 * core, which an idle-CPU measurement would otherwise count as Lessor's.
 */
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
let loopDelayOn = false;

if (process.env.LESSOR_BENCH_SQL_STATS === '1') installSqlCounter();
if (process.env.LESSOR_BENCH_ENGINE_STATS === '1') installEngineCounter();
const experiments = installExperiments(process.env);

const configFile = process.env.LESSOR_BENCH_CONFIG_FILE;
const config = loadConfig({ env: process.env, ...(configFile && { configFile }) });
const logger = createLogger(config.log);

/** Reads every non-archived tenant (keyset pages) and puts a running fake runtime for it. */
async function seedFakeRuntimes(): Promise<number> {
  const store = await createStore({ url: config.database.url, dataDir: config.dataDir });
  let count = 0;
  try {
    let cursor: string | undefined;
    do {
      const page = await store.tenants.list({ limit: 500, cursor, provider: 'fake' });
      for (const tenant of page.items) {
        sharedFakeEngine.put({
          tenantId: tenant.id,
          tenantName: tenant.name,
          generation: tenant.generation,
          executionId: tenant.status.compute?.executionId ?? 'seeded',
          config: tenant.spec.config,
          volumeId: `fake-vol-${count}`,
          runtimeId: `fake-rt-${count}`,
          running: true,
        });
        count++;
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  } finally {
    await store.close();
  }
  return count;
}

/** Times the controller's periodic passes by wrapping them on the instance its timers call. */
function timePasses(app: LessorApp): void {
  const controller = app.controller as unknown as Record<'resync' | 'checkDrift', () => Promise<number>>;
  for (const [method, key] of [
    ['resync', 'resync'],
    ['checkDrift', 'drift'],
  ] as const) {
    const original = controller[method].bind(controller);
    controller[method] = async () => {
      // An overlapping call (the controller skips a drift pass while one runs) is not a pass.
      if (running[key] !== null) return original();
      const startedAt = Date.now();
      const started = performance.now();
      running[key] = startedAt;
      try {
        const result = await original();
        passes[key].push({ startedAt, ms: Math.round(performance.now() - started), result });
        return result;
      } finally {
        running[key] = null;
      }
    };
  }
}

/** Heap the seeded fake runtimes take (MB, after GC when --expose-gc is on): not Lessor's own memory. */
async function seedWithHeapDelta(): Promise<{ fakeRuntimes: number; fakeRuntimesHeapMb: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const fakeRuntimes = await seedFakeRuntimes();
  gc?.();
  return {
    fakeRuntimes,
    fakeRuntimesHeapMb: Math.round((process.memoryUsage().heapUsed - before) / 1e5) / 10,
  };
}

async function main(): Promise<void> {
  const seeded =
    process.env.LESSOR_BENCH_FAKE_RUNTIMES === '1'
      ? await seedWithHeapDelta()
      : { fakeRuntimes: 0, fakeRuntimesHeapMb: 0 };
  const app = await startLessor(config, logger);
  timePasses(app);
  const stop = async (): Promise<void> => {
    await app.close(5_000);
    process.exit(0);
  };
  process.on('message', (message: { id: number; cmd: string }) => {
    void answer(app, message.cmd, stop).then(
      (result) => process.send?.({ id: message.id, result }),
      (error: unknown) => process.send?.({ id: message.id, error: String(error) }),
    );
  });
  process.once('SIGTERM', () => void stop());
  process.send?.({ type: 'ready', url: app.url, ...seeded, experiments });
}

let profiler: Session | undefined;

async function answer(app: LessorApp, command: string, stop: () => Promise<void>): Promise<unknown> {
  const [cmd, arg] = command.split(/:(.*)/s) as [string, string | undefined];
  switch (cmd) {
    case 'profile-start':
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
      await profiler.post('Profiler.start');
      return null;
    case 'profile-stop': {
      if (!profiler || !arg) throw new Error('profile-stop:<file> needs a running profile');
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(arg, JSON.stringify(profile));
      profiler.disconnect();
      profiler = undefined;
      return arg;
    }
    case 'stats':
      return { passes, running, sql: sqlStats(), engine: engineStats(), memory: process.memoryUsage() };
    case 'loop-delay': {
      if (!loopDelayOn) {
        loopDelay.enable();
        loopDelayOn = true;
      }
      const ms = (ns: number) => Math.round(ns / 1e4) / 100;
      const result = {
        p50: ms(loopDelay.percentile(50)),
        p99: ms(loopDelay.percentile(99)),
        max: ms(loopDelay.max),
      };
      loopDelay.reset();
      return result;
    }
    case 'reset-sql':
      resetSqlStats();
      resetEngineStats();
      return null;
    case 'sql-callers':
      traceSqlCallers(arg === 'on');
      return null;
    case 'resync': {
      const started = performance.now();
      const enqueued = await app.controller.resync();
      return { ms: Math.round(performance.now() - started), enqueued };
    }
    case 'retention': {
      // One retention pass as if the clock were `arg` days ahead, then the next (incremental) one.
      const clock = { now: Date.now() + Number(arg ?? 0) * 86_400_000 };
      const deps = { retention: app.store.retention, logger, now: () => clock.now };
      const sweeper = new RetentionSweeper(deps, config.retention);
      const first = await sweeper.pass();
      clock.now += config.retention.sweepIntervalMs;
      return { first, next: await sweeper.pass() };
    }
    case 'stop':
      setImmediate(() => void stop());
      return null;
    default:
      throw new Error(`unknown command ${cmd}`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench server failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
