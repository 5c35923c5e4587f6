/**
 * Counts and times every SQL statement the server process runs, for profiling (never during the
 * measured runs). Installed in the server child by patching the drivers' prototypes before the
 * store opens: better-sqlite3 (`Database#prepare`, `Statement#run/all/get`) and pg (`Client#query`).
 * Statements are keyed by verb and table: `insert tenant_events`, `select workflow_runs`, `begin`.
 */
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';

export interface SqlStat {
  count: number;
  ms: number;
}

const stats = new Map<string, SqlStat>();
/** `statement ← store function ← caller` → count: who issues which statement. */
const callers = new Map<string, number>();
let traceCallers = false;

/** Caller attribution captures a stack per statement: costly, so only in its own short window. */
export function traceSqlCallers(on: boolean): void {
  traceCallers = on;
}
let prepareMs = 0;
let prepares = 0;

export function sqlKey(source: string): string {
  const text = source.trim().toLowerCase();
  const verb = /^\w+/.exec(text)?.[0] ?? '?';
  if (verb === 'begin' || verb === 'commit' || verb === 'rollback' || verb === 'savepoint') return verb;
  const table = /(?:\bfrom|\binto|^update)\s+"?(\w+)"?/.exec(text)?.[1] ?? '';
  const locking = / for update/.test(text) ? ' for update' : '';
  return `${verb} ${table}${locking}`.trim();
}

/** The first store frame and the first non-store src/ frame of the current (async) stack. */
function callerOf(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const frames = stack
    .split('\n')
    .map((line) => /at (?:async )?(.*?) \(?.*?\/(src\/[^:]+):(\d+)/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ fn: m[1]!, file: m[2]!, line: m[3]! }));
  const store = frames.find(
    (f) => f.file.startsWith('src/store/') && !f.file.includes('binding') && !f.file.includes('unavailable'),
  );
  const caller = frames.find((f) => !f.file.startsWith('src/store/'));
  const show = (f: { fn: string; file: string; line: string } | undefined) =>
    f ? `${f.fn} (${f.file}:${f.line})` : '?';
  return `${show(store)} ← ${show(caller)}`;
}

function record(key: string, ms: number): void {
  if (traceCallers) {
    const site = `${key} ← ${callerOf()}`;
    callers.set(site, (callers.get(site) ?? 0) + 1);
  }
  const stat = stats.get(key) ?? { count: 0, ms: 0 };
  stat.count++;
  stat.ms += ms;
  stats.set(key, stat);
}

export function sqlStats(): {
  statements: Record<string, SqlStat>;
  callers: Record<string, number>;
  prepares: number;
  prepareMs: number;
} {
  const sorted = [...stats.entries()].sort((a, b) => b[1].count - a[1].count);
  const sites = [...callers.entries()].sort((a, b) => b[1] - a[1]);
  return {
    statements: Object.fromEntries(sorted),
    callers: Object.fromEntries(sites),
    prepares,
    prepareMs: Math.round(prepareMs),
  };
}

export function resetSqlStats(): void {
  stats.clear();
  callers.clear();
  prepareMs = 0;
  prepares = 0;
}

type AnyFn = (this: unknown, ...args: unknown[]) => unknown;

function installSqlite(): void {
  const proto = BetterSqlite3.prototype as unknown as { prepare: AnyFn };
  const probe = new BetterSqlite3(':memory:');
  const statementProto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, AnyFn>;
  probe.close();
  const originalPrepare = proto.prepare;
  proto.prepare = function (this: unknown, ...args: unknown[]) {
    const started = performance.now();
    const statement = originalPrepare.apply(this, args);
    prepareMs += performance.now() - started;
    prepares++;
    return statement;
  };
  for (const method of ['run', 'all', 'get'] as const) {
    const original = statementProto[method]!;
    statementProto[method] = function (this: unknown, ...args: unknown[]) {
      const started = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        record(sqlKey((this as { source: string }).source), performance.now() - started);
      }
    };
  }
}

function installPostgres(): void {
  const proto = pg.Client.prototype as unknown as { query: AnyFn };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === 'string' ? first : ((first as { text?: string } | null)?.text ?? '');
    const started = performance.now();
    const result = original.apply(this, args);
    const done = () => record(sqlKey(text), performance.now() - started);
    if (result instanceof Promise) result.then(done, done);
    else done();
    return result;
  };
}

export function installSqlCounter(): void {
  installSqlite();
  installPostgres();
}
