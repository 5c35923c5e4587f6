import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialStatus, type Tenant } from '../domain/tenant.js';
import { observeMember } from './member-watch.js';

function tenant(status: Partial<Tenant['status']>, generation = 3): Tenant {
  return {
    id: 't1',
    name: 'acme',
    spec: { provider: 'fake', config: {}, labels: {}, annotations: {}, retryPolicy: null, paused: false },
    generation,
    status: { ...initialStatus(), ...status },
    version: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

const run = (runId: string) => ({ runId, action: 'update' as const, state: 'failed' as const, attempt: 1 });
const error = { code: 'IMAGE_NOT_FOUND', message: 'no such image', classification: 'terminal' } as never;

describe('observeMember', () => {
  const cases = [
    { reason: 'gone', tenant: undefined, target: 3, kind: 'gone' },
    { reason: 'deleting meanwhile', tenant: tenant({ phase: 'deleting' }), target: 3, kind: 'gone' },
    { reason: 'archived meanwhile', tenant: tenant({ phase: 'archived' }), target: 3, kind: 'gone' },
    {
      reason: 'ready at the target',
      tenant: tenant({ phase: 'ready', observedGeneration: 3 }),
      target: 3,
      kind: 'ready',
    },
    {
      reason: 'ready past the target (changed again since)',
      tenant: tenant({ phase: 'ready', observedGeneration: 4 }, 4),
      target: 3,
      kind: 'ready',
    },
    {
      reason: 'ready at the old generation',
      tenant: tenant({ phase: 'ready', observedGeneration: 2 }),
      target: 3,
      kind: 'working',
    },
    {
      reason: 'updating',
      tenant: tenant({ phase: 'updating', observedGeneration: 2 }),
      target: 3,
      kind: 'working',
    },
    {
      reason: 'failed by the run of the target generation',
      tenant: tenant({ phase: 'failed', workflow: run('t1:update:g3'), lastError: error }),
      target: 3,
      kind: 'failed',
    },
    {
      reason: 'failed by a retry of the target generation',
      tenant: tenant({ phase: 'failed', workflow: run('t1:update:g3:r2'), lastError: error }),
      target: 3,
      kind: 'failed',
    },
    {
      reason: 'still failed from before the change',
      tenant: tenant({ phase: 'failed', workflow: run('t1:update:g2'), lastError: error }),
      target: 3,
      kind: 'working',
    },
  ];
  for (const c of cases) {
    it(c.reason, () => {
      const seen = observeMember(c.tenant, c.target);
      assert.equal(seen.kind, c.kind);
      if (seen.kind === 'failed')
        assert.deepEqual(seen.error, { code: 'IMAGE_NOT_FOUND', message: 'no such image' });
    });
  }
});
