/**
 * Bench-only experiments that try a proposed fix inside the server child without touching src/,
 * so a finding can be reported with its measured effect. Off unless the env variable is set.
 *
 * LESSOR_BENCH_EXP_YIELD_MS=N — better-sqlite3 is synchronous, so every Kysely query resolves in a
 * microtask and a chain of store calls never returns to the event loop (no socket is accepted or
 * read meanwhile). This yields (`setImmediate`) before a query when N ms passed since the last
 * yield: what a fix in src/store/sqlite/sqlite-binding.ts would do.
 *
 * LESSOR_BENCH_EXP_LOG_LEVEL=warn — the server logs at that level (no per-request info lines):
 * what moving Fastify's request logging to debug would save.
 */
import { SqliteDriver, type CompiledQuery, type DatabaseConnection, type QueryResult } from 'kysely';

const YIELDING = Symbol('bench-yielding');

export function installSqliteYield(everyMs: number): void {
  let lastYield = performance.now();
  const proto = SqliteDriver.prototype as unknown as { acquireConnection(): Promise<DatabaseConnection> };
  const acquire = proto.acquireConnection;
  proto.acquireConnection = async function (this: unknown) {
    const connection = (await acquire.call(this)) as DatabaseConnection & { [YIELDING]?: true };
    if (connection[YIELDING]) return connection;
    const execute = connection.executeQuery.bind(connection);
    connection.executeQuery = async <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
      if (performance.now() - lastYield > everyMs) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
      return execute<R>(query);
    };
    connection[YIELDING] = true;
    return connection;
  };
}

export function installExperiments(env: NodeJS.ProcessEnv): string[] {
  const active: string[] = [];
  const level = env.LESSOR_BENCH_EXP_LOG_LEVEL;
  if (level) {
    env.LESSOR_LOG__LEVEL = level;
    active.push(`log-level-${level}`);
  }
  const yieldMs = Number(env.LESSOR_BENCH_EXP_YIELD_MS);
  if (yieldMs > 0) {
    installSqliteYield(yieldMs);
    active.push(`sqlite-yield-${yieldMs}ms`);
  }
  return active;
}
