/**
 * RFC 6902 patches between two specs, as the API shows them: secret values never appear. Each
 * secret value is first replaced by a keyed-hash marker, so a changed secret still yields an
 * operation (two equal masks would hide it), then every marker in the patch is shown as `"***"`.
 */
import jsonPatch from 'fast-json-patch';
import type { ConfigHasher } from '../domain/config-hasher.js';
import type { JsonObject, JsonValue, TenantSpec } from '../domain/tenant.js';
import type { ProviderCatalog } from './api-deps.js';

export interface PatchOperation {
  readonly op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  readonly path: string;
  readonly value?: unknown;
  readonly from?: string;
}

const MARKER = '\u0000lessor-secret:';
const REDACTED = '***';

/** The spec as a client may see it: `plan` always present (null for a raw spec), secrets `"***"`. */
export function specView(
  spec: TenantSpec,
  providers: Pick<ProviderCatalog, 'redactSecrets'>,
): TenantSpec & { readonly suspended: boolean } {
  return {
    provider: spec.provider,
    plan: spec.plan ? { name: spec.plan.name, revision: spec.plan.revision } : null,
    config: providers.redactSecrets(spec.provider, spec.config),
    labels: spec.labels,
    annotations: spec.annotations,
    retryPolicy: spec.retryPolicy,
    paused: spec.paused,
    suspended: spec.suspended ?? false,
  };
}

/** The operations that turn `from` into `to`, with every secret value shown as `"***"`. */
export function specDiff(
  providers: Pick<ProviderCatalog, 'mapSecrets'>,
  hasher: ConfigHasher,
  from: TenantSpec,
  to: TenantSpec,
): PatchOperation[] {
  const marked = (spec: TenantSpec) => ({
    ...normalised(spec),
    config: providers.mapSecrets(spec.provider, spec.config, (value) => `${MARKER}${hasher(value)}`),
  });
  const operations = jsonPatch.compare(marked(from), marked(to)) as PatchOperation[];
  return operations.map((operation) =>
    'value' in operation ? { ...operation, value: unmark(operation.value as JsonValue) } : operation,
  );
}

function normalised(spec: TenantSpec): TenantSpec {
  return { ...spec, plan: spec.plan ?? null };
}

function unmark(value: JsonValue): JsonValue {
  if (typeof value === 'string') return value.startsWith(MARKER) ? REDACTED : value;
  if (Array.isArray(value)) return (value as readonly JsonValue[]).map(unmark);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value as JsonObject)) {
      Object.defineProperty(out, key, {
        value: unmark(item),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}
