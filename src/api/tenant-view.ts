/**
 * How a tenant leaves the API: secret config values shown as `"***"` (docs/api.md), the version as a
 * strong `ETag`; and how `If-Match` comes back in. Also the defensive redaction of run journals,
 * whose inputs and step results may carry a spec.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isSuspended, type JsonObject, type Tenant, type TenantSpec } from '../domain/tenant.js';
import type { ProviderCatalog } from './api-deps.js';
import { httpError } from './problem.js';
import { TenantSchema } from './schemas.js';
import { wireProjection } from './wire-projection.js';

/** The tenant as answered: every spec field present (`suspended` is optional in the store). */
export type WireTenant = Omit<Tenant, 'spec'> & {
  readonly spec: TenantSpec & { readonly suspended: boolean };
};

export function tenantView(tenant: Tenant, providers: ProviderCatalog): WireTenant {
  return {
    ...tenant,
    spec: {
      ...tenant.spec,
      config: providers.redactSecrets(tenant.spec.provider, tenant.spec.config),
      suspended: isSuspended(tenant.spec),
    },
  };
}

/**
 * The tenant as the wire carries it (`TenantSchema`): exactly the fields the schema names, in its
 * order, so that nothing stored beside them leaks — derived from the schema (wire-projection.ts).
 */
const projectTenant: (tenant: Tenant) => Tenant = wireProjection<Tenant>(TenantSchema);

/** `spec.plan` and `status.effectiveConfigHash` are always on the wire: `null` when absent. */
export function tenantWire(tenant: Tenant): Tenant {
  return projectTenant({
    ...tenant,
    spec: { ...tenant.spec, plan: tenant.spec.plan ?? null },
    status: { ...tenant.status, effectiveConfigHash: tenant.status.effectiveConfigHash ?? null },
  });
}

/**
 * `JSON.stringify(tenantWire(tenant))`: the projection fills the schema's defaults (`plan`,
 * `effectiveConfigHash`: null) and one `JSON.stringify` writes the flat text, faster than writing
 * it field by field (docs/decisions.md, "The tenant document: projected, then one
 * JSON.stringify").
 */
const writeTenant = (tenant: Tenant): string => JSON.stringify(projectTenant(tenant));

/** The tenant's JSON as the response serialiser writes it (response-serializer.ts). */
export function serializeTenant(tenant: Tenant): string {
  return writeTenant(tenant);
}

/**
 * `serializeTenant(tenantView(tenant, providers))` with one copy of the tenant and its spec: the
 * document a GET serves, rendered on every miss of the document cache (tenant-documents.ts).
 */
export function serializeTenantView(tenant: Tenant, providers: ProviderCatalog): string {
  const { spec } = tenant;
  return writeTenant({
    ...tenant,
    spec: {
      ...spec,
      config: providers.redactSecrets(spec.provider, spec.config),
      suspended: isSuspended(spec),
    },
  });
}

export function etagOf(tenant: Pick<Tenant, 'version'>): string {
  return `"${tenant.version}"`;
}

/** Sends a tenant with its ETag. */
export function sendTenant(reply: FastifyReply, status: number, tenant: Tenant, providers: ProviderCatalog) {
  return reply.code(status).header('etag', etagOf(tenant)).send(tenantView(tenant, providers));
}

/**
 * `If-Match: "<version>"` → the expected version; `*` or no header → undefined (no check). Weak
 * tags never match (RFC 9110: If-Match uses strong comparison): 412.
 */
export function expectedVersion(request: FastifyRequest): number | undefined {
  const header = request.headers['if-match'];
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header.join(',') : header;
  const trimmed = value.trim();
  if (trimmed === '*') return undefined;
  const strong = /^"(\d{1,15})"$/.exec(trimmed);
  if (strong) return Number(strong[1]);
  if (/^W\/"\d{1,15}"$/.test(trimmed)) {
    throw httpError('PRECONDITION_FAILED', 'a weak ETag never matches If-Match; send the strong ETag');
  }
  throw httpError('VALIDATION_FAILED', 'If-Match must be an ETag such as "3"', {
    problems: [{ path: 'headers.if-match', message: 'must be a strong ETag ("<version>") or *' }],
  });
}

const SPEC_KEYS = ['provider', 'config'] as const;
const CREDENTIAL_KEY = /secret|password|passwd|token|credential|api[-_]?key/i;
const MAX_REDACT_DEPTH = 32;

/**
 * Redacts anything that looks like a spec (`{provider, config}`) with the provider's rules, and the
 * values of credential-named keys, anywhere in a run's input, output, error or step results.
 */
export function redactDeep(value: unknown, providers: ProviderCatalog, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > MAX_REDACT_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, providers, depth + 1));
  const object = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(object)) {
    out[key] = CREDENTIAL_KEY.test(key) ? mask(item) : redactDeep(item, providers, depth + 1);
  }
  if (SPEC_KEYS.every((k) => k in object) && typeof object.provider === 'string' && isObject(object.config)) {
    out.config = redactDeep(
      providers.redactSecrets(object.provider, object.config as JsonObject),
      providers,
      depth + 1,
    );
  }
  return out;
}

function mask(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (Array.isArray(value)) return value.map(() => '***');
  if (isObject(value)) return Object.fromEntries(Object.keys(value).map((k) => [k, '***']));
  return '***';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
