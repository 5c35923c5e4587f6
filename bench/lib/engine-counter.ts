/**
 * Counts and times the Docker Engine API calls Lessor's docker provider makes (server child, when
 * LESSOR_BENCH_ENGINE_STATS=1), by wrapping `DockerClient#call` — so the overhead in (2) can be
 * split into extra engine round trips and control-plane time.
 */
import { DockerClient } from '../../src/compute/providers/docker/docker-client.js';

export interface EngineCallStat {
  count: number;
  ms: number;
}

const calls = new Map<string, EngineCallStat>();

type CallFn = (this: unknown, call: { operation: string }, signal: AbortSignal) => Promise<unknown>;

export function installEngineCounter(): void {
  const proto = DockerClient.prototype as unknown as { call: CallFn };
  const original = proto.call;
  proto.call = async function (this: unknown, call, signal) {
    const started = performance.now();
    try {
      return await original.call(this, call, signal);
    } finally {
      const stat = calls.get(call.operation) ?? { count: 0, ms: 0 };
      stat.count++;
      stat.ms += performance.now() - started;
      calls.set(call.operation, stat);
    }
  };
}

export function engineStats(): Record<string, EngineCallStat> {
  return Object.fromEntries(
    [...calls.entries()].map(([k, v]) => [k, { count: v.count, ms: Math.round(v.ms) }]),
  );
}

export function resetEngineStats(): void {
  calls.clear();
}
