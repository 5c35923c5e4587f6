/** The `fake` provider's `spec.config` (JSON Schema 2020-12) and its TypeScript view. */
import { COMPUTE_ERROR_CODES, type ComputeErrorCode } from '../../../domain/compute-error.js';
import type { FieldProblem } from '../../../domain/errors.js';
import type { JsonObject } from '../../../domain/tenant.js';
import { CODE_ENV_KEYS } from '../../code-env.js';
import type { JsonSchema } from '../../provider.js';

export type FakeOperation = 'provision' | 'update' | 'delete' | 'suspend' | 'resume';

/** Fault injection; every counter is per execution id + operation, kept in the engine. */
export interface FakeFaults {
  /** Fail the first N calls with `failCode` (default PROVIDER_TEMPORARILY_UNAVAILABLE). */
  readonly failTimes?: number;
  readonly failCode?: ComputeErrorCode;
  /** Operations the faults apply to (default: all). */
  readonly failOperations?: readonly FakeOperation[];
  /** Never answer until the call is aborted. */
  readonly hang?: boolean;
  /** With `hang`: ignore the abort signal too (a provider that never returns). */
  readonly ignoreAbort?: boolean;
  /** Do the work, then fail once as if the response was lost (PROVIDER_TIMEOUT). */
  readonly ambiguous?: boolean;
  /** Provision: create 1 of 2 resources, then fail once with PARTIAL_FAILURE. */
  readonly partial?: boolean;
  /** Fail the first call with RATE_LIMITED and this `retryAfterMs`. */
  readonly rateLimitedMs?: number;
  /** Always fail: IMAGE_UNAVAILABLE when an image is set, else INVALID_CONFIG. */
  readonly nonRetriable?: boolean;
}

export interface FakeConfig {
  readonly image?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly secretEnv?: Readonly<Record<string, string>>;
  readonly ports?: readonly {
    containerPort: number;
    hostPort?: number;
    protocol?: 'tcp' | 'udp';
    name?: string;
  }[];
  readonly latencyMs?: number;
  readonly faults?: FakeFaults;
}

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

export const FAKE_CONFIG_SCHEMA: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://lessor.dev/schemas/compute/fake.json',
  title: 'fake provider config',
  type: 'object',
  additionalProperties: false,
  properties: {
    image: { type: 'string', minLength: 1, 'x-lessor-code': true },
    env: { ...stringMap, 'x-lessor-code-keys': CODE_ENV_KEYS },
    secretEnv: {
      ...stringMap,
      'x-lessor-secret': true,
      writeOnly: true,
      'x-lessor-code-keys': CODE_ENV_KEYS,
    },
    ports: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['containerPort'],
        properties: {
          containerPort: { type: 'integer', minimum: 1, maximum: 65535 },
          hostPort: { type: 'integer', minimum: 0, maximum: 65535 },
          protocol: { enum: ['tcp', 'udp'] },
          name: { type: 'string', minLength: 1 },
        },
      },
    },
    latencyMs: { type: 'integer', minimum: 0 },
    faults: {
      type: 'object',
      additionalProperties: false,
      properties: {
        failTimes: { type: 'integer', minimum: 0 },
        failCode: { enum: [...COMPUTE_ERROR_CODES] },
        failOperations: {
          type: 'array',
          items: { enum: ['provision', 'update', 'delete', 'suspend', 'resume'] },
          uniqueItems: true,
        },
        hang: { type: 'boolean' },
        ignoreAbort: { type: 'boolean' },
        ambiguous: { type: 'boolean' },
        partial: { type: 'boolean' },
        rateLimitedMs: { type: 'integer', minimum: 0 },
        nonRetriable: { type: 'boolean' },
      },
    },
  },
};

/** Semantic checks: host ports must not repeat. Paths are relative to `spec.config`. */
export function validateFakeConfig(config: JsonObject): FieldProblem[] {
  const ports = (config as FakeConfig).ports ?? [];
  const seen = new Set<number>();
  const problems: FieldProblem[] = [];
  ports.forEach((port, i) => {
    if (port.hostPort === undefined || port.hostPort === 0) return;
    if (seen.has(port.hostPort))
      problems.push({ path: `ports.${i}.hostPort`, message: `host port ${port.hostPort} is used twice` });
    seen.add(port.hostPort);
  });
  return problems;
}
