/**
 * The health check a container must pass before an execution succeeds: an HTTP GET answering
 * 2xx–3xx, or a TCP connect, against the published host port. Each probe has its own timeout; the
 * caller's signal aborts the whole wait (it rejects, it does not report "unhealthy").
 */
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { HEALTH_CHECK_DEFAULTS, type HealthCheckSpec } from './docker-config.js';

export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
}

export type HealthOutcome =
  | { readonly healthy: true; readonly attempts: number }
  | { readonly healthy: false; readonly attempts: number; readonly reason: string };

/** One probe. Resolves false on any failure of the target (timeout included); rejects only when `signal` aborts. */
export async function probeOnce(
  check: HealthCheckSpec,
  target: ProbeTarget,
  signal: AbortSignal,
): Promise<boolean> {
  signal.throwIfAborted();
  const timeoutMs = check.timeoutMs ?? HEALTH_CHECK_DEFAULTS.timeoutMs;
  const probeSignal = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  const ok =
    check.type === 'http'
      ? await httpProbe(target, check.path ?? HEALTH_CHECK_DEFAULTS.path, probeSignal)
      : await tcpProbe(target, probeSignal);
  signal.throwIfAborted();
  return ok;
}

/**
 * Probes until healthy, `retries` attempts `intervalMs` apart. `deathReason` is asked after each
 * failed probe and ends the wait early when the container has stopped (a string says why).
 */
export async function waitHealthy(
  check: HealthCheckSpec,
  target: ProbeTarget,
  signal: AbortSignal,
  deathReason: () => Promise<string | undefined>,
): Promise<HealthOutcome> {
  const retries = check.retries ?? HEALTH_CHECK_DEFAULTS.retries;
  const intervalMs = check.intervalMs ?? HEALTH_CHECK_DEFAULTS.intervalMs;
  for (let attempt = 1; attempt <= retries; attempt++) {
    if (await probeOnce(check, target, signal)) return { healthy: true, attempts: attempt };
    const died = await deathReason();
    if (died !== undefined) return { healthy: false, attempts: attempt, reason: died };
    if (attempt < retries) await sleep(intervalMs, undefined, { signal });
  }
  const what = check.type === 'http' ? `GET ${check.path ?? HEALTH_CHECK_DEFAULTS.path}` : 'tcp connect';
  return {
    healthy: false,
    attempts: retries,
    reason: `${what} on ${target.host}:${target.port} failed ${retries} times`,
  };
}

function httpProbe(target: ProbeTarget, path: string, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const host = target.host.replace(/^\[(.*)\]$/, '$1');
    const req = http.get({ host, port: target.port, path, signal, agent: false }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status >= 200 && status < 400);
    });
    req.on('error', () => resolve(false));
  });
}

function tcpProbe(target: ProbeTarget, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const host = target.host.replace(/^\[(.*)\]$/, '$1');
    const socket = net.connect({ host, port: target.port, signal });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
