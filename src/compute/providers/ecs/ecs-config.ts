/**
 * The ecs provider's `spec.config` as the provider reads it, with the schema's defaults applied, and
 * the semantic checks the schema cannot express. The compute layer validates against the schema
 * before a provider is called; `validateEcsConfig` is written defensively all the same.
 */
import type { FieldProblem } from '../../../domain/errors.js';
import type { JsonObject } from '../../../domain/tenant.js';

export type LaunchType = 'FARGATE' | 'EC2';

export interface AssumeRole {
  readonly roleArn: string;
  readonly externalId?: string;
  readonly sessionName?: string;
}

export interface PortSpec {
  readonly containerPort: number;
  readonly protocol?: 'tcp' | 'udp';
  readonly name?: string;
}

export interface LoadBalancerSpec {
  readonly targetGroupArn: string;
  readonly containerPort: number;
  readonly containerName?: string;
}

export interface LogsSpec {
  readonly group: string;
  readonly region?: string;
}

export interface EcsConfig {
  readonly cluster: string;
  readonly taskDefinitionArn?: string;
  readonly image?: string;
  readonly command?: readonly string[];
  readonly cpu?: number;
  readonly memory?: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly secretEnv?: Readonly<Record<string, string>>;
  readonly secrets?: Readonly<Record<string, string>>;
  readonly ports?: readonly PortSpec[];
  readonly executionRoleArn?: string;
  readonly taskRoleArn?: string;
  readonly logs?: LogsSpec;
  readonly desiredCount: number;
  readonly launchType: LaunchType;
  readonly subnets?: readonly string[];
  readonly securityGroups?: readonly string[];
  readonly assignPublicIp: boolean;
  readonly loadBalancer?: LoadBalancerSpec;
  readonly endpointUrl?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly region?: string;
  readonly assumeRole?: AssumeRole;
  readonly waitTimeoutMs?: number;
}

/** Where a tenant's service lives (cluster, region, role), from its effective config. */
export interface EcsLocation {
  readonly cluster: string;
  readonly region?: string;
  readonly assumeRole?: AssumeRole;
}

export const DEFAULT_CLUSTER = 'default';
export const CONTAINER_NAME = 'app';
export const RESERVED_TAG_PREFIXES = ['lessor:', 'aws:'] as const;

/** Fargate task sizes: CPU units → allowed memory range in MiB (AWS documentation). */
const FARGATE_MEMORY: Readonly<Record<number, readonly [number, number]>> = {
  256: [512, 2048],
  512: [1024, 4096],
  1024: [2048, 8192],
  2048: [4096, 16384],
  4096: [8192, 30720],
  8192: [16384, 61440],
  16384: [32768, 122880],
};

export function asEcsConfig(config: JsonObject): EcsConfig {
  const raw = config as unknown as Partial<EcsConfig>;
  return {
    ...raw,
    cluster: raw.cluster ?? DEFAULT_CLUSTER,
    desiredCount: raw.desiredCount ?? 1,
    launchType: raw.launchType ?? 'FARGATE',
    assignPublicIp: raw.assignPublicIp ?? false,
  };
}

export function locationOf(config: JsonObject): EcsLocation {
  const c = asEcsConfig(config);
  return {
    cluster: c.cluster,
    ...(c.region && { region: c.region }),
    ...(c.assumeRole && { assumeRole: c.assumeRole }),
  };
}

/** Semantic checks beyond the schema; paths are relative to `spec.config`. */
export function validateEcsConfig(raw: JsonObject): FieldProblem[] {
  const config = asEcsConfig(raw);
  const problems: FieldProblem[] = [...checkSource(config), ...checkNetwork(config)];
  if (config.image !== undefined) problems.push(...checkTaskSize(config), ...checkContainer(config));
  for (const key of Object.keys(config.tags ?? {})) {
    if (RESERVED_TAG_PREFIXES.some((prefix) => key.toLowerCase().startsWith(prefix))) {
      problems.push({
        path: `tags.${key}`,
        message: `the prefixes ${RESERVED_TAG_PREFIXES.join(', ')} are reserved`,
      });
    }
  }
  return problems;
}

function checkSource(config: EcsConfig): FieldProblem[] {
  const hasArn = typeof config.taskDefinitionArn === 'string';
  const hasImage = typeof config.image === 'string';
  if (hasArn === hasImage) {
    return [
      {
        path: hasArn ? 'image' : 'taskDefinitionArn',
        message: 'give exactly one of taskDefinitionArn or image',
      },
    ];
  }
  if (hasArn && config.logs !== undefined) {
    return [{ path: 'logs', message: 'applies to an image; a given task definition has its own logging' }];
  }
  if (hasArn && config.loadBalancer !== undefined && config.loadBalancer.containerName === undefined) {
    return [{ path: 'loadBalancer.containerName', message: 'is required with taskDefinitionArn' }];
  }
  return [];
}

function checkNetwork(config: EcsConfig): FieldProblem[] {
  if (config.launchType === 'FARGATE' && (config.subnets ?? []).length === 0) {
    return [{ path: 'subnets', message: 'is required for FARGATE (awsvpc networking)' }];
  }
  if ((config.securityGroups ?? []).length > 0 && (config.subnets ?? []).length === 0) {
    return [{ path: 'subnets', message: 'is required when securityGroups are given' }];
  }
  return [];
}

function checkTaskSize(config: EcsConfig): FieldProblem[] {
  if (config.launchType !== 'FARGATE') return [];
  if (config.cpu === undefined || config.memory === undefined) {
    return [{ path: config.cpu === undefined ? 'cpu' : 'memory', message: 'is required for FARGATE' }];
  }
  const range = FARGATE_MEMORY[config.cpu];
  if (range === undefined) {
    return [{ path: 'cpu', message: `FARGATE supports ${Object.keys(FARGATE_MEMORY).join(', ')}` }];
  }
  const [min, max] = range;
  if (config.memory < min || config.memory > max) {
    return [{ path: 'memory', message: `with cpu ${config.cpu} FARGATE needs ${min}–${max} MiB` }];
  }
  return [];
}

function checkContainer(config: EcsConfig): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const names = [config.env, config.secretEnv, config.secrets].flatMap((m) => Object.keys(m ?? {}));
  const seen = new Set<string>();
  for (const name of names) {
    if (name === '' || name.includes('='))
      problems.push({ path: 'env', message: `invalid variable name '${name}'` });
    if (seen.has(name))
      problems.push({ path: 'env', message: `'${name}' is set more than once (env, secretEnv, secrets)` });
    seen.add(name);
  }
  const ports = (config.ports ?? []).map((p) => `${p.containerPort}/${p.protocol ?? 'tcp'}`);
  if (new Set(ports).size !== ports.length)
    problems.push({ path: 'ports', message: 'duplicate containerPort' });
  if (Object.keys(config.secrets ?? {}).length > 0 && config.executionRoleArn === undefined) {
    problems.push({ path: 'executionRoleArn', message: 'is required when secrets are given' });
  }
  if (config.logs !== undefined && config.launchType === 'FARGATE' && config.executionRoleArn === undefined) {
    problems.push({ path: 'executionRoleArn', message: 'is required with logs on FARGATE (it writes them)' });
  }
  const lb = config.loadBalancer;
  if (lb !== undefined && !(config.ports ?? []).some((p) => p.containerPort === lb.containerPort)) {
    problems.push({ path: 'loadBalancer.containerPort', message: 'must be a containerPort listed in ports' });
  }
  return problems;
}
