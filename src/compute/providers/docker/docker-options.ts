/**
 * The docker provider's options (`compute.providers.docker`), checked once at start-up.
 *
 * - `host`: `unix:///path.sock`, `tcp://host:port` or `http://host:port`; default `DOCKER_HOST`,
 *   then `unix:///var/run/docker.sock`. Podman: `unix:///run/lessor-podman.sock`.
 * - `apiVersion`: path prefix, default `v1.41` (Podman's compatible API accepts it).
 * - `stopTimeoutSeconds`: grace period before SIGKILL when a container is retired (default 10).
 * - `cleanupTimeoutMs`: budget for removing a failed new container after an abort (default 30000).
 * - `ping`: check the engine answers when the provider is created (default false, so Lessor starts
 *   while the engine is down; calls then fail with PROVIDER_TEMPORARILY_UNAVAILABLE).
 * - `allowedBindRoots`: `[{path, writable?: false}]`, the host directories tenants may bind-mount
 *   from (default none: every bind mount is refused). See host-policy.ts.
 * - `hostIp`: the address a published port binds when the tenant names none (default 127.0.0.1); a
 *   loopback address, or one of `allowedHostIps`.
 * - `allowedHostIps`: host addresses besides `hostIp` that published ports may bind (default none).
 */
import { BlockList, isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import { ValidationError, type FieldProblem } from '../../../domain/errors.js';
import { parseDockerHost } from './docker-client.js';
import { DEFAULT_HOST_IP, type BindRoot, type HostPolicy } from './host-policy.js';

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

export interface DockerProviderOptions {
  readonly host: string;
  readonly apiVersion: string;
  readonly stopTimeoutSeconds: number;
  readonly cleanupTimeoutMs: number;
  readonly ping: boolean;
  readonly hostPolicy: HostPolicy;
}

export function dockerProviderOptions(
  options: Readonly<Record<string, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
): DockerProviderOptions {
  const host = options.host ?? (env.DOCKER_HOST || undefined) ?? DEFAULT_DOCKER_HOST;
  const apiVersion = options.apiVersion ?? 'v1.41';
  const stopTimeoutSeconds = options.stopTimeoutSeconds ?? 10;
  const cleanupTimeoutMs = options.cleanupTimeoutMs ?? 30_000;
  const problems: FieldProblem[] = [];
  if (typeof host !== 'string' || parseDockerHost(host) === undefined) {
    problems.push({
      path: 'host',
      message: 'must be unix:///path.sock, tcp://host:port or http://host:port',
    });
  }
  if (typeof apiVersion !== 'string' || !/^v\d+\.\d+$/.test(apiVersion)) {
    problems.push({ path: 'apiVersion', message: 'must look like v1.41' });
  }
  if (!isNonNegativeInt(stopTimeoutSeconds))
    problems.push({ path: 'stopTimeoutSeconds', message: 'must be an integer ≥ 0' });
  if (!isNonNegativeInt(cleanupTimeoutMs))
    problems.push({ path: 'cleanupTimeoutMs', message: 'must be an integer ≥ 0' });
  const allowedBindRoots = bindRoots(options.allowedBindRoots, problems);
  const allowedHostIps = hostIps(options.allowedHostIps, problems);
  const hostPolicy = {
    allowedBindRoots,
    hostIp: defaultHostIp(options.hostIp, allowedHostIps, problems),
    allowedHostIps,
  };
  if (problems.length > 0) throw new ValidationError('invalid docker provider options', problems);
  return {
    host: host as string,
    apiVersion: apiVersion as string,
    stopTimeoutSeconds: stopTimeoutSeconds as number,
    cleanupTimeoutMs: cleanupTimeoutMs as number,
    ping: options.ping === true,
    hostPolicy,
  };
}

function bindRoots(value: unknown, problems: FieldProblem[]): BindRoot[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push({ path: 'allowedBindRoots', message: 'must be a list of {path, writable?}' });
    return [];
  }
  return value.flatMap((item: unknown, i) => {
    const root = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const extra = Object.keys(root).filter((key) => key !== 'path' && key !== 'writable');
    const { path, writable = false } = root;
    const at = `allowedBindRoots.${i}`;
    if (typeof path !== 'string' || !isAbsolute(path) || path.includes(':') || extra.length > 0) {
      problems.push({ path: at, message: "must be {path, writable?} with an absolute path without ':'" });
    } else if (typeof writable !== 'boolean') {
      problems.push({ path: `${at}.writable`, message: 'must be true or false' });
    } else {
      return [{ path, writable }];
    }
    return [];
  });
}

function hostIps(value: unknown, problems: FieldProblem[]): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((ip) => typeof ip === 'string' && isIP(ip) !== 0)) {
    problems.push({ path: 'allowedHostIps', message: 'must be a list of IP addresses' });
    return [];
  }
  return value as string[];
}

function defaultHostIp(value: unknown, allowed: readonly string[], problems: FieldProblem[]): string {
  if (value === undefined) return DEFAULT_HOST_IP;
  if (typeof value !== 'string' || !(isLoopback(value) || allowed.includes(value))) {
    problems.push({ path: 'hostIp', message: 'must be a loopback address or one of allowedHostIps' });
    return DEFAULT_HOST_IP;
  }
  return value;
}

/** 127.0.0.0/8 and ::1: reachable from this host only. */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

function isLoopback(ip: string): boolean {
  const family = isIP(ip);
  return family !== 0 && LOOPBACK.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

function isNonNegativeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}
