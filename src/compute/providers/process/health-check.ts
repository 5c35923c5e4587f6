/**
 * Health checks for local processes: HTTP GET (2xx/3xx) or a TCP connect to 127.0.0.1, retried at
 * an interval until it passes, the process dies, the retries run out, or the signal aborts.
 */
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HealthCheckConfig } from './process-schema.js';

export const HEALTH_DEFAULTS = { intervalMs: 200, timeoutMs: 1_000, retries: 50, path: '/' } as const;

export type HealthOutcome =
  { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly exited: boolean };

/** One probe; resolves with the failure reason, or undefined when healthy. */
export async function probeOnce(
  check: HealthCheckConfig,
  port: number,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const target = check.port ?? port;
  const timeoutMs = check.timeoutMs ?? HEALTH_DEFAULTS.timeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    if (check.type === 'tcp') return await tcpProbe(target, combined);
    const response = await fetch(`http://127.0.0.1:${target}${check.path ?? HEALTH_DEFAULTS.path}`, {
      signal: combined,
      redirect: 'manual',
    });
    await response.body?.cancel();
    return response.status >= 200 && response.status < 400 ? undefined : `HTTP ${response.status}`;
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    return describeProbeError(error);
  }
}

/** Probes until healthy; `alive` is consulted between probes so a crashed process fails fast. */
export async function waitHealthy(
  check: HealthCheckConfig,
  port: number,
  alive: () => Promise<boolean>,
  signal: AbortSignal,
): Promise<HealthOutcome> {
  const retries = check.retries ?? HEALTH_DEFAULTS.retries;
  let reason = 'not probed';
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (!(await alive())) return { ok: false, reason: 'the process exited', exited: true };
    const failure = await probeOnce(check, port, signal);
    if (failure === undefined) return { ok: true };
    reason = failure;
    if (attempt < retries) await sleep(check.intervalMs ?? HEALTH_DEFAULTS.intervalMs, undefined, { signal });
  }
  return { ok: false, reason: `${reason} after ${retries + 1} probes`, exited: false };
}

function tcpProbe(port: number, signal: AbortSignal): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, signal });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error) => resolve(describeProbeError(error)));
  });
}

function describeProbeError(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code) return code;
  return cause instanceof Error ? cause.name : 'probe failed';
}
