/**
 * Closed-loop create→ready load: `concurrency` workers each POST a tenant through the HTTP API,
 * wait until the watcher sees it ready (or failed), and go again until the time is up. Latency is
 * measured from just before the POST to the moment the watcher saw the transition; the
 * server-stamped figure (transition time in the event row − POST start) is kept beside it.
 */
import { LessorClient } from '../../src/api/client.js';
import type { TenantSpecInput } from '../../src/api/types.js';
import { UsageMeter } from './proc.js';
import type { ReadyWatcher } from './ready-watcher.js';
import { round, summarize, wallMs, type Summary } from './stats.js';

export interface CreateLoopOptions {
  readonly url: string;
  readonly watcher: ReadyWatcher;
  readonly serverPid: number;
  readonly concurrency: number;
  readonly durationMs: number;
  /** Tenant names are `<prefix>-<n>`; unique per loop. */
  readonly prefix: string;
  readonly spec: TenantSpecInput;
  readonly readyTimeoutMs?: number;
}

export interface CreateLoopResult {
  readonly concurrency: number;
  readonly durationS: number;
  readonly ready: number;
  readonly failed: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly tenantsPerSecond: number;
  /** create→ready as the bench observed it (ms). */
  readonly latency: Summary;
  /** create→ready by the server's own transition timestamp (ms, 1 ms resolution). */
  readonly serverStampedLatency: Summary;
  /** The POST alone (ms). */
  readonly post: Summary;
  readonly usage: ReturnType<UsageMeter['finish']>;
}

export async function runCreateLoop(options: CreateLoopOptions): Promise<CreateLoopResult> {
  const client = new LessorClient({ baseUrl: options.url, timeoutMs: 60_000 });
  const latencies: number[] = [];
  const stamped: number[] = [];
  const posts: number[] = [];
  let failed = 0;
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  let lastSeen = 0;
  const meter = new UsageMeter(options.serverPid);
  const started = wallMs();
  const deadline = started + options.durationMs;

  const worker = async (): Promise<void> => {
    while (wallMs() < deadline) {
      const name = `${options.prefix}-${next++}`;
      const t0 = wallMs();
      try {
        const tenant = await client.createTenant({ name, spec: options.spec });
        posts.push(wallMs() - t0);
        const settled = await options.watcher.wait(
          tenant.id,
          ['ready', 'failed'],
          options.readyTimeoutMs ?? 60_000,
        );
        if (settled.phase !== 'ready') failed++;
        else {
          latencies.push(settled.seenAt - t0);
          stamped.push(settled.serverAt - t0);
        }
        lastSeen = Math.max(lastSeen, settled.seenAt);
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
  const elapsedS = (Math.max(lastSeen, started + 1) - started) / 1000;
  return {
    concurrency: options.concurrency,
    durationS: round(elapsedS),
    ready: latencies.length,
    failed,
    errors,
    ...(firstError !== undefined && { firstError }),
    tenantsPerSecond: round(latencies.length / elapsedS, 1),
    latency: summarize(latencies),
    serverStampedLatency: summarize(stamped),
    post: summarize(posts),
    usage: meter.finish(),
  };
}
