/** The `process` provider's `spec.config` (JSON Schema 2020-12), its TypeScript view and checks. */
import { isAbsolute } from 'node:path';
import type { FieldProblem } from '../../../domain/errors.js';
import type { JsonObject } from '../../../domain/tenant.js';
import { CODE_ENV_KEYS } from '../../code-env.js';
import type { JsonSchema } from '../../provider.js';

export interface HealthCheckConfig {
  readonly type: 'http' | 'tcp';
  /** Default: the runtime's port. */
  readonly port?: number;
  /** HTTP only; default `/`. */
  readonly path?: string;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  readonly retries?: number;
}

export interface ProcessConfig {
  readonly command: readonly string[];
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly secretEnv?: Readonly<Record<string, string>>;
  /** 0 (default) = pick a free port; passed to the process as `PORT`. */
  readonly port?: number;
  readonly healthCheck?: HealthCheckConfig;
}

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const ENV_NAME = '^[A-Za-z_][A-Za-z0-9_]*$';
/** Loader and interpreter hooks (NODE_OPTIONS, LD_PRELOAD, PATH…) are code: admin only. */
const hooksAdminOnly = { 'x-lessor-privileged-keys': CODE_ENV_KEYS, 'x-lessor-code-keys': CODE_ENV_KEYS };

export const PROCESS_CONFIG_SCHEMA: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://lessor.dev/schemas/compute/process.json',
  title: 'process provider config',
  type: 'object',
  additionalProperties: false,
  required: ['command'],
  properties: {
    command: {
      type: 'array',
      'x-lessor-privileged': true,
      'x-lessor-code': true,
      minItems: 1,
      items: { type: 'string', minLength: 1 },
      description: 'executable and arguments',
    },
    cwd: {
      type: 'string',
      minLength: 1,
      description: 'absolute working directory',
      'x-lessor-privileged': true,
      'x-lessor-code': true,
    },
    env: { ...stringMap, propertyNames: { pattern: ENV_NAME }, ...hooksAdminOnly },
    secretEnv: {
      ...stringMap,
      ...hooksAdminOnly,
      propertyNames: { pattern: ENV_NAME },
      'x-lessor-secret': true,
      writeOnly: true,
    },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 0 },
    healthCheck: {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { enum: ['http', 'tcp'] },
        port: { type: 'integer', minimum: 1, maximum: 65535 },
        path: { type: 'string', pattern: '^/' },
        intervalMs: { type: 'integer', minimum: 10 },
        timeoutMs: { type: 'integer', minimum: 10 },
        retries: { type: 'integer', minimum: 0 },
      },
    },
  },
};

/** Semantic checks beyond the schema; paths relative to `spec.config`. */
export function validateProcessConfig(config: JsonObject): FieldProblem[] {
  const c = config as unknown as ProcessConfig;
  const problems: FieldProblem[] = [];
  if (c.cwd !== undefined && !isAbsolute(c.cwd))
    problems.push({ path: 'cwd', message: 'must be an absolute path' });
  if (c.env?.PORT !== undefined || c.secretEnv?.PORT !== undefined) {
    problems.push({
      path: c.env?.PORT !== undefined ? 'env.PORT' : 'secretEnv.PORT',
      message: 'PORT is set by Lessor from `port`',
    });
  }
  if (c.healthCheck?.path !== undefined && c.healthCheck.type !== 'http') {
    problems.push({ path: 'healthCheck.path', message: 'only http health checks have a path' });
  }
  return problems;
}
