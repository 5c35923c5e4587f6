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
 */
import { ValidationError, type FieldProblem } from '../../../domain/errors.js';
import { parseDockerHost } from './docker-client.js';

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

export interface DockerProviderOptions {
  readonly host: string;
  readonly apiVersion: string;
  readonly stopTimeoutSeconds: number;
  readonly cleanupTimeoutMs: number;
  readonly ping: boolean;
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
  if (problems.length > 0) throw new ValidationError('invalid docker provider options', problems);
  return {
    host: host as string,
    apiVersion: apiVersion as string,
    stopTimeoutSeconds: stopTimeoutSeconds as number,
    cleanupTimeoutMs: cleanupTimeoutMs as number,
    ping: options.ping === true,
  };
}

function isNonNegativeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}
