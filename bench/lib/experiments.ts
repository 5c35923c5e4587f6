/**
 * Bench-only experiments that try a proposed fix inside the server child without touching src/,
 * so a finding can be reported with its measured effect. Off unless the env variable is set.
 *
 * LESSOR_BENCH_EXP_LOG_LEVEL=warn — the server logs at that level (no per-request info lines):
 * what moving Fastify's request logging to debug would save.
 *
 * LESSOR_BENCH_EXP_SQLITE_PRAGMAS="wal_autocheckpoint = 0; cache_size = -65536" — extra pragmas on
 * every SQLite database the server opens, after the binding's own (sqlite-binding.ts sets
 * `synchronous` last): what changing them there would do.
 *
 * LESSOR_BENCH_EXP_SQLITE_TIMES=/tmp/times.json — every better-sqlite3 statement's `run`/`all`/`get` is
 * timed by SQL text (calls, total µs; COMMITs also in process CPU µs) and the table written to that file every second: which
 * statements a workload's SQLite time goes to. The timing itself costs about 0.1 µs per call.
 *
 * LESSOR_BENCH_EXP_PG_POOL_SIZE=40 — the server's PostgreSQL pool holds that many connections
 * (`database.poolSize`, default 10): how much of a run's time is spent waiting for a connection.
 *
 * LESSOR_BENCH_EXP_PG_UNNAMED=1 — prepared queries go to PostgreSQL as unnamed statements, parsed
 * and planned on every execution, as before they were named (postgres-binding.ts): what naming saves.
 */
import { writeFileSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';

function sendUnnamed(): void {
  const proto = pg.Client.prototype as unknown as { query(config: unknown, values?: unknown): unknown };
  const query = proto.query;
  proto.query = function (this: unknown, config: unknown, values?: unknown) {
    const named = typeof config === 'object' && config !== null && 'name' in config;
    if (!named) return query.call(this, config, values);
    const { text, values: bound } = config as unknown as { text: string; values?: unknown };
    return query.call(this, text, bound);
  };
}

function installSqlitePragmas(pragmas: readonly string[]): void {
  const proto = BetterSqlite3.prototype as unknown as {
    pragma(source: string, options?: unknown): unknown;
  };
  const pragma = proto.pragma;
  proto.pragma = function (this: unknown, source: string, options?: unknown) {
    const result = pragma.call(this, source, options);
    if (source.startsWith('synchronous')) for (const extra of pragmas) pragma.call(this, extra);
    return result;
  };
}

interface StatementTime {
  calls: number;
  micros: number;
  /** COMMITs only: the process's CPU time (user + system) in the call, µs. */
  cpuMicros: number;
}

function installSqliteTimes(file: string): void {
  const probe = new BetterSqlite3(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<
    'run' | 'all' | 'get',
    (this: { source: string }, ...args: unknown[]) => unknown
  >;
  probe.close();
  const times = new Map<string, StatementTime>();
  for (const method of ['run', 'all', 'get'] as const) {
    const original = proto[method];
    proto[method] = function (this: { source: string }, ...args: unknown[]) {
      const commit = this.source === 'commit';
      const cpuBefore = commit ? process.cpuUsage() : undefined;
      const started = process.hrtime.bigint();
      try {
        return original.apply(this, args);
      } finally {
        const micros = Number(process.hrtime.bigint() - started) / 1000;
        const cpu = cpuBefore ? process.cpuUsage(cpuBefore) : undefined;
        const cpuMicros = cpu ? cpu.user + cpu.system : 0;
        const key = `${method} ${this.source}`;
        const time = times.get(key);
        if (time) {
          time.calls++;
          time.micros += micros;
          time.cpuMicros += cpuMicros;
        } else times.set(key, { calls: 1, micros, cpuMicros });
      }
    };
  }
  setInterval(() => {
    const table = [...times].map(([sql, t]) => ({
      sql,
      calls: t.calls,
      micros: Math.round(t.micros),
      cpuMicros: t.cpuMicros,
    }));
    table.sort((a, b) => b.micros - a.micros);
    writeFileSync(file, JSON.stringify(table, null, 1));
  }, 1000).unref();
}

export function installExperiments(env: NodeJS.ProcessEnv): string[] {
  const active: string[] = [];
  const level = env.LESSOR_BENCH_EXP_LOG_LEVEL;
  if (level) {
    env.LESSOR_LOG__LEVEL = level;
    active.push(`log-level-${level}`);
  }
  const pragmas = (env.LESSOR_BENCH_EXP_SQLITE_PRAGMAS ?? '')
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (pragmas.length > 0) {
    installSqlitePragmas(pragmas);
    active.push(`sqlite-pragmas: ${pragmas.join('; ')}`);
  }
  const timesFile = env.LESSOR_BENCH_EXP_SQLITE_TIMES;
  if (timesFile) {
    installSqliteTimes(timesFile);
    active.push(`sqlite-times: ${timesFile}`);
  }
  const poolSize = env.LESSOR_BENCH_EXP_PG_POOL_SIZE;
  if (poolSize) {
    env.LESSOR_DATABASE__POOL_SIZE = poolSize;
    active.push(`pg-pool-size-${poolSize}`);
  }
  if (env.LESSOR_BENCH_EXP_PG_UNNAMED === '1') {
    sendUnnamed();
    active.push('pg-unnamed-statements');
  }
  return active;
}
