/**
 * Conformance cases of the optional provider operations — `suspend`/`resume` and `logs` — added to
 * `runProviderConformance`. A provider without them is checked for offering neither half of the
 * pair; one with them is checked against the real engine: a suspended runtime exists but does not
 * run and its endpoint refuses, resume starts the very same runtime (same resources) also from a
 * new provider instance, and logs carry what the runtime printed and end when asked to.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { ComputeError } from '../../domain/compute-error.js';
import type { Endpoint, JsonObject } from '../../domain/tenant.js';
import {
  supportsSuspend,
  type ComputeProvider,
  type ComputeRequest,
  type LogLine,
  type LogRequest,
  type TenantRef,
} from '../provider.js';

export interface SuspendConformanceOptions {
  /** A line the runtime of `validConfig` writes to its output when it starts. */
  readonly startLine?: string;
  /** Checks that an endpoint does NOT answer (connection refused or similar) while suspended. */
  readonly probeRefused?: (endpoint: Endpoint) => Promise<void>;
}

/** What the main suite shares with these cases. */
export interface SuspendSuiteContext {
  readonly options: SuspendConformanceOptions & {
    readonly validConfig: JsonObject;
    readonly probe?: (endpoint: Endpoint, config: JsonObject) => Promise<void>;
    readonly countRuntimes?: (tenant: TenantRef) => Promise<number>;
  };
  readonly newTenant: () => TenantRef;
  readonly request: (tenant: TenantRef, generation: number, config: JsonObject) => ComputeRequest;
  readonly withProvider: <T>(fn: (p: ComputeProvider) => Promise<T>) => Promise<T>;
  readonly signal: () => AbortSignal;
}

/** Reads a non-following log request to its end. */
export async function collectLogs(
  provider: ComputeProvider,
  request: LogRequest,
  signal: AbortSignal,
): Promise<LogLine[]> {
  assert.ok(provider.logs, `${provider.type} offers no logs`);
  const lines: LogLine[] = [];
  for await (const line of provider.logs(request, signal)) lines.push(line);
  return lines;
}

/** Polls the logs until a line contains `text` (output reaches the engine asynchronously). */
async function awaitLogLine(
  provider: ComputeProvider,
  request: LogRequest,
  text: string,
  signal: AbortSignal,
): Promise<LogLine[]> {
  for (;;) {
    const lines = await collectLogs(provider, request, signal);
    if (lines.some((l) => l.line.includes(text))) return lines;
    if (signal.aborted) assert.fail(`no log line containing '${text}' in ${JSON.stringify(lines)}`);
    await sleep(100, undefined, { signal }).catch(() => undefined);
  }
}

export function suspendConformanceTests(ctx: SuspendSuiteContext): void {
  const { options, newTenant, request, withProvider, signal } = ctx;
  const config = options.validConfig;
  const runtimes = async (tenant: TenantRef, expected: number): Promise<void> => {
    if (options.countRuntimes)
      assert.equal(await options.countRuntimes(tenant), expected, 'runtimes of the tenant');
  };

  test('suspend and resume are offered together or not at all', () =>
    withProvider(async (p) => {
      assert.equal(p.suspend === undefined, p.resume === undefined);
    }));

  test('suspend keeps the runtime stopped; resume (also after a restart) starts the same one', () =>
    withProvider(async (p) => {
      if (!supportsSuspend(p)) return; // optional: the API refuses suspend for this provider
      const tenant = newTenant();
      const made = await p.provision(request(tenant, 1, config), signal());
      const first = await p.suspend!(request(tenant, 2, config), signal());
      const again = await p.suspend!(request(tenant, 2, config), signal());
      assert.deepEqual(again.resources, first.resources, 'a retried suspend finds the suspended runtime');
      const suspended = await p.describe({ tenant, config }, signal());
      assert.equal(suspended.exists, true, 'suspend keeps the runtime');
      assert.equal(suspended.running, false, 'a suspended runtime does not run');
      if (options.countRuntimes) assert.ok((await options.countRuntimes(tenant)) <= 1, 'never two runtimes');
      for (const endpoint of made.endpoints) await options.probeRefused?.(endpoint);
      if (p.listRunning)
        assert.equal((await p.listRunning(signal())).has(tenant.id), false, 'not listed as running');

      const resumed = await withProvider((fresh) => fresh.resume!(request(tenant, 3, config), signal()));
      const resumedAgain = await p.resume!(request(tenant, 3, config), signal());
      assert.deepEqual(
        resumedAgain.resources,
        resumed.resources,
        'a retried resume finds the running runtime',
      );
      const observed = await p.describe({ tenant, config }, signal());
      assert.equal(observed.running, true);
      assert.equal(observed.healthy, true);
      assert.equal(observed.generation, 1, 'resume keeps the runtime as it was made');
      for (const key of Object.keys(made.resources)) {
        if (key === 'pid') continue; // a process gets a new pid; its identity is its state dir
        assert.equal(observed.resources[key], made.resources[key], `same ${key} after resume`);
      }
      await runtimes(tenant, 1);
      for (const endpoint of observed.endpoints) await options.probe?.(endpoint, config);
    }));

  test('suspend of nothing succeeds; resume of nothing is NOT_FOUND; delete of a suspended runtime works', () =>
    withProvider(async (p) => {
      if (!supportsSuspend(p)) return;
      const tenant = newTenant();
      await p.suspend!(request(tenant, 1, config), signal());
      await assert.rejects(p.resume!(request(tenant, 1, config), signal()), (error: unknown) => {
        assert.ok(error instanceof ComputeError, String(error));
        assert.equal(error.code, 'NOT_FOUND');
        return true;
      });
      await p.provision(request(tenant, 1, config), signal());
      await p.suspend!(request(tenant, 2, config), signal());
      await p.delete(request(tenant, 2, config), signal());
      assert.equal((await p.describe({ tenant, config }, signal())).exists, false);
      await runtimes(tenant, 0);
    }));

  test('logs carry what the runtime printed at start; tail and since bound them', () =>
    withProvider(async (p) => {
      if (!p.logs || options.startLine === undefined) return;
      const tenant = newTenant();
      await p.provision(request(tenant, 1, config), signal());
      const all = await awaitLogLine(p, { tenant, config, follow: false }, options.startLine, signal());
      for (const line of all) {
        assert.ok(line.stream === 'stdout' || line.stream === 'stderr');
        assert.ok(!Number.isNaN(Date.parse(line.ts)), `ts is a time: ${line.ts}`);
        assert.ok(!line.line.includes('\n'), 'one line per entry');
      }
      const last = await collectLogs(p, { tenant, config, follow: false, tail: 1 }, signal());
      assert.equal(last.length, 1);
      assert.deepEqual(last[0], all.at(-1));
      const future = Date.now() + 3_600_000;
      assert.deepEqual(
        await collectLogs(p, { tenant, config, follow: false, sinceMs: future }, signal()),
        [],
      );
    }));

  test('a followed log ends when the reader leaves and when the runtime is deleted', () =>
    withProvider(async (p) => {
      if (!p.logs) return;
      const tenant = newTenant();
      await p.provision(request(tenant, 1, config), signal());
      const leave = new AbortController();
      const reading = (async () => {
        const seen: LogLine[] = [];
        for await (const line of p.logs!({ tenant, config, follow: true, tail: 10 }, leave.signal))
          seen.push(line);
        return seen;
      })();
      await sleep(200);
      leave.abort();
      await reading;

      const deadline = signal();
      const deleted = (async () => {
        let count = 0;
        for await (const _ of p.logs!({ tenant, config, follow: true, tail: 0 }, deadline)) count++;
        return count;
      })();
      await sleep(200);
      await p.delete(request(tenant, 1, config), signal());
      await deleted.catch((error: unknown) => {
        // Ending with NOT_FOUND is as good as ending quietly: the runtime is gone.
        assert.ok(error instanceof ComputeError && error.code === 'NOT_FOUND', String(error));
      });
      assert.equal(deadline.aborted, false, 'the stream ended because the runtime went, not at the deadline');
    }));
}
