/**
 * From what a client wrote to the spec the store keeps: the provider resolved (and immutable once
 * set), `"***"` placeholders of secret fields put back from the stored spec (so a client may send a
 * spec it read), the writer's right to the fields it touches checked (spec-privileges.ts), and
 * `spec.config` validated with the provider's defaults merged in. The stored spec is the USER's:
 * defaults are applied again at execution time, so changing a default reaches every tenant on its
 * next update.
 */
import type { z } from 'zod';
import { ValidationError } from '../domain/errors.js';
import type { JsonObject, JsonValue, Tenant, TenantSpec } from '../domain/tenant.js';
import type { ApiDeps, ApiOptions } from './api-deps.js';
import type { Principal } from './auth.js';
import { TenantSpecRequestSchema } from './schemas.js';
import { assertSpecPrivileges } from './spec-privileges.js';

export type SpecRequest = z.output<typeof TenantSpecRequestSchema>;

const REDACTED = '***';

/** Who writes the spec, and the `spec.config` they sent themselves (a merge patch sends part of it). */
export interface SpecWriter {
  readonly principal: Principal;
  readonly sentConfig: JsonValue | undefined;
}

/** What spec resolution reads: the provider catalog and the default provider (an `ApiContext` is one). */
export interface SpecContext {
  readonly deps: Pick<ApiDeps, 'providers'>;
  readonly options: Pick<ApiOptions, 'defaultProvider'>;
}

export function resolveSpec(
  ctx: SpecContext,
  input: SpecRequest,
  writer: SpecWriter,
  current?: Tenant,
): TenantSpec {
  const { providers } = ctx.deps;
  const provider = current
    ? keepProvider(current, input.provider)
    : providers.resolveProvider(input.provider, ctx.options.defaultProvider);
  const config: JsonObject = current
    ? restoreSecrets(ctx, input.config as JsonObject, current)
    : (input.config as JsonObject);
  assertSpecPrivileges(providers, {
    principal: writer.principal,
    provider,
    next: config,
    previous: current?.spec.config,
    sent: writer.sentConfig,
  });
  providers.effectiveConfig(provider, config);
  return {
    provider,
    config,
    labels: input.labels,
    annotations: input.annotations,
    retryPolicy: input.retryPolicy,
    paused: input.paused,
  };
}

/** Parses a spec that came out of a merge patch with the same rules as a PUT body. */
export function parsePatchedSpec(value: unknown): SpecRequest {
  const parsed = TenantSpecRequestSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.flatMap((issue) => {
    const path = ['spec', ...issue.path.map(String)].join('.');
    const keys = (issue as { keys?: unknown }).keys;
    if (issue.code === 'unrecognized_keys' && Array.isArray(keys)) {
      return keys.map((key) => ({ path: `${path}.${String(key)}`, message: 'unknown field' }));
    }
    return [{ path, message: issue.message }];
  });
  throw new ValidationError('the patched spec is not valid', problems);
}

function keepProvider(current: Tenant, wanted: string | undefined): string {
  if (wanted === undefined || wanted === current.spec.provider) return current.spec.provider;
  throw new ValidationError('spec.provider cannot change', [
    {
      path: 'spec.provider',
      message: `is '${current.spec.provider}' and cannot change; delete and re-create the tenant`,
    },
  ]);
}

function restoreSecrets(ctx: SpecContext, config: JsonObject, current: Tenant): JsonObject {
  const stored = current.spec.config;
  const redacted = ctx.deps.providers.redactSecrets(current.spec.provider, stored);
  return restore(config, stored, redacted) as JsonObject;
}

/** Where the client sent `"***"` and the stored value is a redacted secret, keep the stored value. */
function restore(next: JsonValue, stored: JsonValue | undefined, redacted: JsonValue | undefined): JsonValue {
  if (next === REDACTED && redacted === REDACTED && stored !== undefined) return stored;
  if (isArray(next)) {
    const storedItems = isArray(stored) ? stored : [];
    const redactedItems = isArray(redacted) ? redacted : [];
    return next.map((item, i) => restore(item, storedItems[i], redactedItems[i]));
  }
  if (isObject(next)) {
    const storedObject = isObject(stored) ? stored : {};
    const redactedObject = isObject(redacted) ? redacted : {};
    const out: Record<string, JsonValue> = {};
    for (const [key, value] of Object.entries(next)) {
      out[key] = restore(value, own(storedObject, key), own(redactedObject, key));
    }
    return out;
  }
  return next;
}

function own(object: JsonObject, key: string): JsonValue | undefined {
  return Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

function isArray(value: JsonValue | undefined): value is readonly JsonValue[] {
  return Array.isArray(value);
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
