/**
 * Starting one tenant process and describing it: the spawn (detached group leader, output to
 * `stdout.log` and `stderr.log`, see process-logs.ts; `PORT` and `LESSOR_*` identity variables in its environment) and the record that
 * makes it findable again after a restart.
 */
import type { ConfigHasher } from '../../../domain/config-hasher.js';
import type { Endpoint } from '../../../domain/tenant.js';
import type { ComputeRequest } from '../../provider.js';
import { spawnDetached } from './process-control.js';
import type { RunAs } from './process-options.js';
import type { ProcessConfig } from './process-schema.js';
import { streamFile } from './process-logs.js';
import { ensureDir, type RuntimeRecord } from './process-state.js';

/** Environment passed through from Lessor's own; nothing else of it leaks into tenants. */
const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'] as const;

/** Spawns the tenant's command on `port`; the caller records and health-checks it. */
export async function launchRuntime(
  dir: string,
  request: ComputeRequest,
  port: number,
  hash: ConfigHasher,
  runAs?: RunAs,
): Promise<RuntimeRecord> {
  const config = request.config as unknown as ProcessConfig;
  await ensureDir(dir);
  const identity = await spawnDetached({
    command: config.command,
    cwd: config.cwd,
    env: environmentFor(request, port),
    logPath: streamFile(dir, 'stdout'),
    errorLogPath: streamFile(dir, 'stderr'),
    ...(runAs !== undefined && { runAs }),
  });
  return {
    version: 1,
    tenantId: request.tenant.id,
    tenantName: request.tenant.name,
    ...identity,
    generation: request.generation,
    executionId: request.executionId,
    port,
    configHash: hash(request.config),
    fieldHashes: Object.fromEntries(Object.entries(request.config).map(([k, v]) => [k, hash(v)])),
    healthCheck: config.healthCheck ?? null,
    startedAt: new Date().toISOString(),
  };
}

function environmentFor(request: ComputeRequest, port: number): Record<string, string> {
  const config = request.config as unknown as ProcessConfig;
  const inherited = INHERITED_ENV.flatMap((k) => {
    const value = process.env[k];
    return value !== undefined ? [[k, value] as const] : [];
  });
  return {
    ...Object.fromEntries(inherited),
    ...config.env,
    ...config.secretEnv,
    PORT: String(port),
    LESSOR_TENANT_ID: request.tenant.id,
    LESSOR_TENANT_NAME: request.tenant.name,
    LESSOR_GENERATION: String(request.generation),
    LESSOR_EXECUTION_ID: request.executionId,
  };
}

export function resourcesOf(record: RuntimeRecord): Record<string, string> {
  return { pid: String(record.pid) };
}

export function endpointsOf(record: RuntimeRecord): Endpoint[] {
  return [{ name: 'http', url: `http://127.0.0.1:${record.port}` }];
}
