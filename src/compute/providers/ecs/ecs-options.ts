/**
 * The provider's block under `compute.providers.ecs` (engine-level settings, not tenant config),
 * parsed once at start-up. Region and credentials normally come from the standard AWS chain
 * (environment, shared config/profile, SSO, container or instance role); `credentials` exists for
 * tests and local set-ups and should stay unset in production.
 */
import { ValidationError, type FieldProblem } from '../../../domain/errors.js';
import type { ProviderSettings } from '../../provider.js';
import { parseAllowLists, type EcsAllowLists } from './ecs-allow-list.js';

export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface EcsOptions {
  readonly region?: string;
  /** Custom ECS endpoint (a VPC endpoint or an emulator). */
  readonly endpoint?: string;
  /** Custom CloudWatch Logs endpoint (a VPC endpoint or an emulator). */
  readonly logsEndpoint?: string;
  readonly credentials?: StaticCredentials;
  /** SDK attempts per call (its own retry of throttling and 5xx); Lessor retries on top. */
  readonly maxAttempts: number;
  /** DescribeServices polling while waiting for a steady deployment; also CloudWatch Logs polling of a followed log. */
  readonly pollIntervalMs: number;
  /** Default `waitTimeoutMs`: a little under the per-call timeout, so a partial rollout is reported. */
  readonly waitTimeoutMs: number;
  /** `retryAfterMs` of RATE_LIMITED (AWS sends no Retry-After). */
  readonly retryAfterMs: number;
  /** What tenants may name beyond the provider's defaults (ecs-allow-list.ts); nothing by default. */
  readonly allowed: EcsAllowLists;
}

export const ECS_OPTION_DEFAULTS = { maxAttempts: 3, pollIntervalMs: 5000, retryAfterMs: 5000 } as const;

/** Throws ValidationError naming every bad key (caught at start-up). */
export function parseEcsOptions(settings: Pick<ProviderSettings, 'options' | 'timeoutMs'>): EcsOptions {
  const o = settings.options;
  const problems: FieldProblem[] = [];
  const int = (key: string) => nonNegativeInt(o[key], key, problems);
  const str = (key: string) => optionalString(o[key], key, problems);
  const credentials = parseCredentials(o.credentials, problems);
  const region = str('region');
  const endpoint = str('endpoint');
  const logsEndpoint = str('logsEndpoint');
  const options: EcsOptions = {
    ...(region !== undefined && { region }),
    ...(endpoint !== undefined && { endpoint }),
    ...(logsEndpoint !== undefined && { logsEndpoint }),
    ...(credentials !== undefined && { credentials }),
    maxAttempts: int('maxAttempts') ?? ECS_OPTION_DEFAULTS.maxAttempts,
    pollIntervalMs: int('pollIntervalMs') ?? ECS_OPTION_DEFAULTS.pollIntervalMs,
    waitTimeoutMs: int('waitTimeoutMs') ?? Math.max(1000, Math.floor(settings.timeoutMs * 0.9)),
    retryAfterMs: int('retryAfterMs') ?? ECS_OPTION_DEFAULTS.retryAfterMs,
    allowed: parseAllowLists(o.allowed, problems),
  };
  if (problems.length > 0) throw new ValidationError('invalid ecs provider options', problems);
  return Object.freeze(options);
}

/** Integers may come as strings from environment variables. */
function nonNegativeInt(value: unknown, key: string, problems: FieldProblem[]): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) return n;
  problems.push({ path: key, message: 'must be an integer ≥ 0' });
  return undefined;
}

function optionalString(value: unknown, key: string, problems: FieldProblem[]): string | undefined {
  if (value === undefined || (typeof value === 'string' && value !== '')) return value;
  problems.push({ path: key, message: 'must be a non-empty string' });
  return undefined;
}

function parseCredentials(value: unknown, problems: FieldProblem[]): StaticCredentials | undefined {
  if (value === undefined) return undefined;
  const c = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof c.accessKeyId !== 'string' || typeof c.secretAccessKey !== 'string') {
    problems.push({ path: 'credentials', message: 'needs accessKeyId and secretAccessKey' });
    return undefined;
  }
  return {
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    ...(typeof c.sessionToken === 'string' && { sessionToken: c.sessionToken }),
  };
}
