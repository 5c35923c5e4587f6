import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PlanRevision } from '../domain/plan.js';
import { initialStatus, type Tenant } from '../domain/tenant.js';
import type { TenantRepository } from '../store/store.js';
import { effectiveTenants } from './plan-specs.js';

const at = '2026-01-01T00:00:00.000Z';
const planTenant: Tenant = {
  id: 't1',
  name: 'acme',
  spec: {
    provider: 'fake',
    plan: { name: 'pro', revision: 2 },
    config: { env: { A: '1' } },
    labels: {},
    annotations: {},
    retryPolicy: null,
    paused: false,
  },
  generation: 1,
  status: initialStatus(),
  version: 1,
  createdAt: at,
  updatedAt: at,
};
const revision: PlanRevision = {
  name: 'pro',
  revision: 2,
  actor: 'admin',
  createdAt: at,
  description: '',
  spec: { provider: 'fake', config: { image: 'app:2', env: { B: '2' } }, retryPolicy: { maxAttempts: 3 } },
  allowedOverrides: ['/env'],
};

test('the reads the compute path makes answer the effective spec, the tenant alone or with its runs', async () => {
  const stored: Pick<TenantRepository, 'get' | 'getWithRuns'> = {
    get: async () => planTenant,
    getWithRuns: async () => ({ tenant: planTenant, runs: [] }),
  };
  const tenants = effectiveTenants(stored, { revision: async () => revision });
  const effective = await tenants.get('t1');
  assert.deepEqual(effective?.spec.config, { image: 'app:2', env: { B: '2', A: '1' } });
  assert.deepEqual(effective?.spec.retryPolicy, { maxAttempts: 3 });
  assert.deepEqual(await tenants.getWithRuns('t1', 10), { tenant: effective, runs: [] });
});
