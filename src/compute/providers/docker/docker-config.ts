/**
 * The docker provider's `spec.config`: its JSON Schema (served by discovery, enforced by the
 * compute layer before a provider is called) and the semantic checks the schema cannot express.
 */
import type { FieldProblem } from '../../../domain/errors.js';
import type { JsonObject } from '../../../domain/tenant.js';
import { CODE_ENV_KEYS } from '../../code-env.js';
import type { JsonSchema } from '../../provider.js';
import { hostPolicyProblems, NO_HOST_ACCESS, type HostPolicy, type VolumeSpec } from './host-policy.js';

export type Protocol = 'tcp' | 'udp';
export type RestartPolicy = 'no' | 'always' | 'unless-stopped' | 'on-failure';

export interface PortSpec {
  readonly containerPort: number;
  /** 0 or absent: the engine picks a free host port. */
  readonly hostPort?: number;
  readonly protocol?: Protocol;
  readonly name?: string;
  /** Host address to bind; default 127.0.0.1. Any other must be in the `allowedHostIps` option. */
  readonly hostIp?: string;
}

export interface HealthCheckSpec {
  readonly type: 'http' | 'tcp';
  /** A container port listed in `ports` (the check goes through its published host port). */
  readonly port: number;
  readonly path?: string;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  readonly retries?: number;
}

export interface DockerConfig {
  readonly image: string;
  readonly command?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly secretEnv?: Readonly<Record<string, string>>;
  readonly ports?: readonly PortSpec[];
  readonly resources?: { readonly cpus?: number; readonly memoryMb?: number };
  readonly healthCheck?: HealthCheckSpec;
  readonly restartPolicy?: RestartPolicy;
  readonly network?: string;
  readonly volumes?: readonly VolumeSpec[];
  readonly labels?: Readonly<Record<string, string>>;
}

export const HEALTH_CHECK_DEFAULTS = { path: '/', intervalMs: 1000, timeoutMs: 2000, retries: 30 } as const;
export const DEFAULT_RESTART_POLICY: RestartPolicy = 'unless-stopped';
export const RESERVED_LABEL_PREFIX = 'lessor.';

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;

export const DOCKER_CONFIG_SCHEMA: JsonSchema = Object.freeze({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://lessor.dev/schemas/providers/docker/config.json',
  title: 'docker provider config',
  type: 'object',
  additionalProperties: false,
  required: ['image'],
  properties: {
    image: {
      type: 'string',
      minLength: 1,
      'x-lessor-code': true,
      description: 'Image reference; must already be present on the engine.',
    },
    command: {
      type: 'array',
      items: { type: 'string' },
      description: 'Overrides the image command.',
      'x-lessor-code': true,
    },
    env: { ...stringMap, description: 'Environment variables.', 'x-lessor-code-keys': CODE_ENV_KEYS },
    secretEnv: {
      ...stringMap,
      'x-lessor-code-keys': CODE_ENV_KEYS,
      'x-lessor-secret': true,
      writeOnly: true,
      description: 'Secret environment variables.',
    },
    ports: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['containerPort'],
        properties: {
          containerPort: port,
          hostPort: {
            type: 'integer',
            minimum: 0,
            maximum: 65535,
            description: '0 or absent: auto-assigned.',
          },
          protocol: { enum: ['tcp', 'udp'], default: 'tcp' },
          name: { type: 'string', pattern: '^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$' },
          hostIp: {
            type: 'string',
            default: '127.0.0.1',
            description: 'Host address to bind; any but 127.0.0.1 must be allowed by the admin.',
          },
        },
      },
    },
    resources: {
      type: 'object',
      additionalProperties: false,
      properties: {
        cpus: { type: 'number', exclusiveMinimum: 0 },
        memoryMb: { type: 'integer', minimum: 6 },
      },
    },
    healthCheck: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'port'],
      properties: {
        type: { enum: ['http', 'tcp'] },
        port: { ...port, description: 'A containerPort listed in `ports`.' },
        path: { type: 'string', pattern: '^/', default: HEALTH_CHECK_DEFAULTS.path },
        intervalMs: { type: 'integer', minimum: 10, default: HEALTH_CHECK_DEFAULTS.intervalMs },
        timeoutMs: { type: 'integer', minimum: 10, default: HEALTH_CHECK_DEFAULTS.timeoutMs },
        retries: { type: 'integer', minimum: 1, default: HEALTH_CHECK_DEFAULTS.retries },
      },
    },
    restartPolicy: {
      enum: ['no', 'always', 'unless-stopped', 'on-failure'],
      default: DEFAULT_RESTART_POLICY,
    },
    network: {
      type: 'string',
      minLength: 1,
      description: "Network name; 'host', 'container:…' and 'ns:…' are refused.",
    },
    volumes: {
      type: 'array',
      'x-lessor-code': true,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['source', 'target'],
        properties: {
          source: {
            type: 'string',
            minLength: 1,
            description:
              "Absolute host path under a bind root the admin allowed, or the name of one of the tenant's own volumes.",
          },
          target: { type: 'string', pattern: '^/' },
          readOnly: {
            type: 'boolean',
            description: 'Default false; a bind under a read-only root is always read-only.',
          },
        },
      },
    },
    labels: { ...stringMap, description: 'Extra container labels (the `lessor.` prefix is reserved).' },
  },
});

/** The config as the provider reads it; the compute layer has validated it against the schema. */
export function asDockerConfig(config: JsonObject): DockerConfig {
  return config as unknown as DockerConfig;
}

/**
 * Semantic checks beyond the schema, the admin's host policy included; written defensively, as
 * they may run on unvalidated input. Paths are relative to `spec.config`, dotted (`ports.1.hostPort`).
 */
export function validateDockerConfig(raw: JsonObject, policy: HostPolicy = NO_HOST_ACCESS): FieldProblem[] {
  const config = asDockerConfig(raw);
  const problems: FieldProblem[] = [];
  if (typeof config.image !== 'string' || config.image.trim() === '') {
    problems.push({ path: 'image', message: 'is required' });
  }
  return [
    ...problems,
    ...checkPorts(config),
    ...checkEnv(config),
    ...checkLabels(config),
    ...hostPolicyProblems(config, policy),
  ];
}

function checkPorts(config: DockerConfig): FieldProblem[] {
  const ports = listOf(config.ports);
  const problems: FieldProblem[] = [];
  const seen = { containerPort: new Set<string>(), hostPort: new Set<string>(), name: new Set<string>() };
  ports.forEach((port, i) => {
    const keys = {
      containerPort: `${port.containerPort}/${port.protocol ?? 'tcp'}`,
      hostPort: (port.hostPort ?? 0) > 0 ? `${String(port.hostPort)}/${port.protocol ?? 'tcp'}` : undefined,
      name: port.name,
    };
    for (const field of ['containerPort', 'hostPort', 'name'] as const) {
      const key = keys[field];
      if (key === undefined) continue;
      if (seen[field].has(key))
        problems.push({ path: `ports.${i}.${field}`, message: `duplicate ${field} ${key}` });
      seen[field].add(key);
    }
  });
  const check = config.healthCheck;
  if (
    check !== undefined &&
    !ports.some((p) => p.containerPort === check.port && (p.protocol ?? 'tcp') === 'tcp')
  ) {
    problems.push({ path: 'healthCheck.port', message: 'must be a tcp containerPort listed in ports' });
  }
  return problems;
}

function checkEnv(config: DockerConfig): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const env = Object.keys(config.env ?? {});
  const secret = Object.keys(config.secretEnv ?? {});
  for (const [field, keys] of [
    ['env', env],
    ['secretEnv', secret],
  ] as const) {
    for (const key of keys.filter((k) => k === '' || k.includes('='))) {
      problems.push({ path: `${field}.${key}`, message: 'is not a valid variable name' });
    }
  }
  for (const key of env.filter((k) => secret.includes(k))) {
    problems.push({ path: `secretEnv.${key}`, message: 'is also set in env' });
  }
  return problems;
}

function checkLabels(config: DockerConfig): FieldProblem[] {
  return Object.keys(config.labels ?? {})
    .filter((key) => key.startsWith(RESERVED_LABEL_PREFIX))
    .map((key) => ({ path: `labels.${key}`, message: `the '${RESERVED_LABEL_PREFIX}' prefix is reserved` }));
}

/** The array, or empty when the (unvalidated) value is anything else. */
function listOf<T>(value: readonly T[] | undefined): readonly T[] {
  return Array.isArray(value) ? (value as readonly T[]) : [];
}

/** True when the config pins a host port: two generations cannot run side by side. */
export function hasFixedHostPort(config: DockerConfig): boolean {
  return (config.ports ?? []).some((p) => (p.hostPort ?? 0) > 0);
}
