/** A tenant as the API answers it, for unit tests of output and waiting. */
import type { Tenant } from '../../api/types.js';

/** Provisioning generation `generation` of `acme`, created 90 s ago; `overrides` replace status fields. */
export function sampleTenant(overrides: Partial<Tenant['status']> = {}, generation = 1): Tenant {
  return {
    id: '0190a8f2-0000-7000-8000-000000000001',
    name: 'acme',
    spec: {
      provider: 'docker',
      plan: null,
      config: { image: 'nginx:alpine' },
      labels: {},
      annotations: {},
      retryPolicy: null,
      paused: false,
      suspended: false,
    },
    generation,
    status: {
      phase: 'provisioning',
      observedGeneration: 0,
      message: 'compute provision running',
      compute: { executionId: 'x1', operation: 'provision', status: 'running' },
      workflow: { runId: 'r1', action: 'provision', state: 'running', attempt: 1 },
      resources: {},
      endpoints: [],
      lastError: null,
      conditions: [],
      effectiveConfigHash: null,
      ...overrides,
    },
    version: 3,
    createdAt: new Date(Date.now() - 90_000).toISOString(),
    updatedAt: new Date().toISOString(),
  };
}
