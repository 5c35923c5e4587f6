/** `tenantWire` (derived from `TenantSchema`) and the tenant serialisers write the same bytes as a zod parse of `TenantSchema`. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { serializerCompiler } from 'fastify-type-provider-zod';
import { initialStatus, type Tenant } from '../domain/tenant.js';
import { responseSerializerCompiler } from './response-serializer.js';
import { TenantListSchema, TenantSchema } from './schemas.js';
import { serializeTenant, serializeTenantView, tenantView, tenantWire } from './tenant-view.js';
import type { ProviderCatalog } from './api-deps.js';

const base: Tenant = {
  id: '0190f5b4-7a1e-7c3d-9a4b-1234567890ab',
  name: 'acme',
  spec: {
    provider: 'fake',
    config: {},
    labels: {},
    annotations: {},
    retryPolicy: null,
    paused: false,
    suspended: false,
  },
  generation: 1,
  status: initialStatus(),
  version: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

/** Fields the wire does not know, at every level a stored document could carry them. */
const full = {
  ...base,
  internal: 'x',
  spec: {
    ...base.spec,
    config: { image: 'nginx', nested: { deep: [1, { a: null }] }, secretEnv: { K: '***' } },
    labels: { team: 'a' },
    annotations: { note: 'b' },
    retryPolicy: { maxAttempts: 3, onError: { QUOTA_EXCEEDED: 'fail' } },
    paused: true,
    extraSpec: true,
  },
  status: {
    ...base.status,
    phase: 'failed',
    observedGeneration: 1,
    message: 'boom',
    compute: { executionId: 'ex-1', operation: 'provision', status: 'failed', extra: 1 },
    workflow: { runId: 'run-1', action: 'provision', state: 'failed', attempt: 3, extra: 2 },
    resources: { container: 'c-1' },
    endpoints: [{ name: 'http', url: 'http://127.0.0.1:1', extra: 3 }],
    lastError: {
      code: 'QUOTA_EXCEEDED',
      message: 'no room',
      classification: 'non_retriable',
      retryAfterMs: 10,
      partial: { runtimeId: 'r' },
      providerError: { status: 500 },
      stack: 'at …',
    },
    conditions: [
      {
        type: 'Ready',
        status: 'False',
        reason: 'Failed',
        message: 'm',
        lastTransitionTime: '2026-01-01T00:00:00.000Z',
        observedGeneration: 1,
        extra: 4,
      },
    ],
    internalStatus: 'y',
  },
} as unknown as Tenant;

const cases: { reason: string; tenant: Tenant }[] = [
  { reason: 'a new tenant (null compute, workflow and error)', tenant: base },
  { reason: 'every field set, and unknown fields at every level', tenant: full },
  {
    reason: 'an error without its optional fields',
    tenant: {
      ...base,
      status: {
        ...base.status,
        lastError: { code: 'INTERNAL', message: 'x', classification: 'retriable' },
      },
    } as unknown as Tenant,
  },
];

cases.push(
  {
    reason: 'from a plan, with a config hash',
    tenant: {
      ...base,
      spec: {
        provider: 'fake',
        plan: { name: 'small', revision: 2 },
        config: { password: 'open', '1': 'x' },
        labels: { '2': 'b', a: 'c' },
        annotations: {},
        retryPolicy: null,
        paused: false,
        suspended: true,
      },
      status: { ...base.status, effectiveConfigHash: 'h1' },
    },
  },
  {
    reason: 'strings that need escaping',
    tenant: { ...base, name: 'q"\\\n\u2028é', status: { ...base.status, message: '\ud800 \u0001' } },
  },
);

describe('tenantWire', () => {
  for (const c of cases) {
    test(c.reason, () => {
      assert.equal(JSON.stringify(tenantWire(c.tenant)), JSON.stringify(TenantSchema.parse(c.tenant)));
    });
  }
});

/** Masks the `password` field, as a provider schema marking it secret would. */
const providers = {
  redactSecrets: (_type: string, config: Record<string, unknown>) =>
    'password' in config ? { ...config, password: '***' } : config,
} as unknown as ProviderCatalog;

describe('serializeTenant and serializeTenantView', () => {
  for (const c of cases) {
    test(`${c.reason}: the bytes of a zod parse`, () => {
      assert.equal(serializeTenant(c.tenant), JSON.stringify(TenantSchema.parse(c.tenant)));
      assert.equal(
        serializeTenantView(c.tenant, providers),
        JSON.stringify(TenantSchema.parse(tenantView(c.tenant, providers))),
      );
    });
  }

  test('the view masks a secret value and shows an absent `suspended` as false', () => {
    const { suspended: _, ...spec } = cases.find((c) => c.reason.startsWith('from a plan'))!.tenant.spec;
    const tenant = { ...base, spec };
    const text = serializeTenantView(tenant, providers);
    assert.equal(text, JSON.stringify(TenantSchema.parse(tenantView(tenant, providers))));
    const view = JSON.parse(text) as Tenant;
    assert.equal(view.spec.config.password, '***');
    assert.equal(view.spec.suspended, false);
  });
});

describe('responseSerializerCompiler', () => {
  const route = (schema: unknown) => ({ schema, method: 'GET', url: '/v1/tenants', httpStatus: '200' });
  test('a tenant: the same bytes as the zod serializer', () => {
    const ours = responseSerializerCompiler(route(TenantSchema) as never);
    const zod = serializerCompiler(route(TenantSchema) as never);
    assert.equal(ours(full), zod(full));
  });
  test('a tenant page: the same bytes as the zod serializer', () => {
    const page = { items: [full, base], nextCursor: 'abc' };
    const ours = responseSerializerCompiler(route(TenantListSchema) as never);
    const zod = serializerCompiler(route(TenantListSchema) as never);
    assert.equal(ours(page), zod(page));
  });
});
