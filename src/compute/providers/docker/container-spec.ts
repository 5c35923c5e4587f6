/**
 * What a tenant's container looks like on the engine: its names, its labels and the create body.
 * Pure: the same request always yields the same names, labels and body.
 *
 * Naming: the steady container is `lessor-<tenant-name>`. A zero-downtime update starts the new
 * container under the transient name `lessor-<tenant-name>-g<generation>-<hash8>` (unique per
 * request, so a retry finds it) and renames it once the old one is gone. Names are a convenience:
 * everything is found by the `lessor.tenant-id` label.
 */
import type { ConfigHasher } from '../../../domain/config-hasher.js';
import type { ComputeRequest } from '../../provider.js';
import type { ContainerCreateBody, PortBinding } from './docker-types.js';
import { DEFAULT_HOST_IP } from './host-policy.js';
import {
  DEFAULT_RESTART_POLICY,
  type DockerConfig,
  type HealthCheckSpec,
  type PortSpec,
  type Protocol,
} from './docker-config.js';

export const LABEL = {
  managed: 'lessor.managed',
  tenantId: 'lessor.tenant-id',
  tenantName: 'lessor.tenant-name',
  generation: 'lessor.generation',
  executionId: 'lessor.execution-id',
  configHash: 'lessor.config-hash',
  /** JSON `{field: hash}` of each top-level config field, to report what an update changed. */
  configFields: 'lessor.config-fields',
  /** JSON `RuntimeInfo`: what describe needs (port names, health check) without the config. */
  runtime: 'lessor.runtime',
} as const;

/** Port names and the health check, recorded on the container so `describe` needs no config. */
export interface RuntimeInfo {
  readonly ports: readonly {
    readonly containerPort: number;
    readonly protocol: Protocol;
    readonly name?: string;
  }[];
  readonly healthCheck?: HealthCheckSpec;
}

export function primaryName(tenantName: string): string {
  return `lessor-${tenantName}`;
}

export function transientName(tenantName: string, generation: number, hash: string): string {
  return `lessor-${tenantName}-g${generation}-${hash.slice(0, 8)}`;
}

/** Label filters that select every container of one tenant. */
export function tenantSelector(tenantId: string): string[] {
  return [`${LABEL.managed}=true`, `${LABEL.tenantId}=${tenantId}`];
}

/** The `lessor.config-hash` label: the server's keyed hash, never a plain hash of the secrets. */
export function requestHash(request: ComputeRequest, hash: ConfigHasher): string {
  return hash(request.config);
}

/** Per-field keyed hashes, salted with the tenant id so equal values do not hash alike across tenants. */
export function fieldHashes(
  tenantId: string,
  config: DockerConfig,
  hash: ConfigHasher,
): Record<string, string> {
  return Object.fromEntries(
    (Object.entries(config) as [string, unknown][]).map(([field, value]) => [
      field,
      hash({ tenantId, value }).slice(0, 12),
    ]),
  );
}

/** Top-level config fields that differ from what a container was made with (all when unknown). */
export function changedFields(
  previousLabel: string | undefined,
  current: Readonly<Record<string, string>>,
): string[] {
  const previous = parseJsonRecord(previousLabel);
  if (previous === undefined) return Object.keys(current).sort();
  const fields = new Set([...Object.keys(previous), ...Object.keys(current)]);
  return [...fields].filter((f) => previous[f] !== current[f]).sort();
}

export function readRuntimeInfo(label: string | undefined): RuntimeInfo {
  const parsed = parseJsonRecord(label) as Partial<RuntimeInfo> | undefined;
  const ports: RuntimeInfo['ports'] = Array.isArray(parsed?.ports) ? parsed.ports : [];
  return { ports, ...(parsed?.healthCheck && { healthCheck: parsed.healthCheck }) };
}

export function containerLabels(
  request: ComputeRequest,
  config: DockerConfig,
  hash: ConfigHasher,
): Record<string, string> {
  const runtime: RuntimeInfo = {
    ports: (config.ports ?? []).map((p) => ({
      containerPort: p.containerPort,
      protocol: p.protocol ?? 'tcp',
      ...(p.name !== undefined && { name: p.name }),
    })),
    ...(config.healthCheck && { healthCheck: config.healthCheck }),
  };
  return {
    ...config.labels,
    [LABEL.managed]: 'true',
    [LABEL.tenantId]: request.tenant.id,
    [LABEL.tenantName]: request.tenant.name,
    [LABEL.generation]: String(request.generation),
    [LABEL.executionId]: request.executionId,
    [LABEL.configHash]: requestHash(request, hash),
    [LABEL.configFields]: JSON.stringify(fieldHashes(request.tenant.id, config, hash)),
    [LABEL.runtime]: JSON.stringify(runtime),
  };
}

/**
 * `binds`: the volumes as the host policy resolved them (host-policy.ts `bindsFor`); `hostIp`: the
 * address a port that names none binds (the policy's `hostIp`).
 */
export function createBody(
  request: ComputeRequest,
  config: DockerConfig,
  hash: ConfigHasher,
  binds: readonly string[],
  hostIp: string = DEFAULT_HOST_IP,
): ContainerCreateBody {
  const env = { ...config.env, ...config.secretEnv };
  const ports = config.ports ?? [];
  return {
    Image: config.image,
    ...(config.command && { Cmd: config.command }),
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: containerLabels(request, config, hash),
    ExposedPorts: Object.fromEntries(ports.map((p) => [portKey(p), {}])),
    HostConfig: {
      PortBindings: Object.fromEntries(ports.map((p) => [portKey(p), [binding(p, hostIp)]])),
      RestartPolicy: { Name: config.restartPolicy ?? DEFAULT_RESTART_POLICY },
      ...(config.resources?.cpus !== undefined && { NanoCpus: Math.round(config.resources.cpus * 1e9) }),
      ...(config.resources?.memoryMb !== undefined && { Memory: config.resources.memoryMb * 1024 * 1024 }),
      ...(config.network !== undefined && { NetworkMode: config.network }),
      ...(binds.length > 0 && { Binds: binds }),
    },
  };
}

export function portKey(port: { readonly containerPort: number; readonly protocol?: Protocol }): string {
  return `${port.containerPort}/${port.protocol ?? 'tcp'}`;
}

function binding(port: PortSpec, hostIp: string): PortBinding {
  const hostPort = port.hostPort ?? 0;
  return { HostIp: port.hostIp ?? hostIp, HostPort: hostPort > 0 ? String(hostPort) : '' };
}

function parseJsonRecord(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
