import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { ComputeError } from '../../../domain/compute-error.js';
import type { JsonObject } from '../../../domain/tenant.js';
import type { ComputeRequest } from '../../provider.js';
import { runProviderConformance } from '../../testing/provider-conformance.js';
import { FakeEngine, FakeProvider, sharedFakeEngine } from './index.js';

runProviderConformance({
  name: 'fake',
  makeProvider: async () => new FakeProvider(),
  validConfig: { image: 'app:1', env: { MODE: 'a' }, ports: [{ containerPort: 8080 }] },
  updatedConfig: { image: 'app:2', env: { MODE: 'b' }, ports: [{ containerPort: 8080 }] },
  countRuntimes: async (tenant) => sharedFakeEngine.runtimeCount(tenant.id),
  startLine: 'started generation 1',
  failing: { config: { image: 'missing:1', faults: { nonRetriable: true } }, code: 'IMAGE_UNAVAILABLE' },
  invalidConfigs: [
    { reason: 'wrong type', config: { latencyMs: 'slow' }, path: 'spec.config.latencyMs' },
    { reason: 'unknown fault', config: { faults: { explode: true } }, path: 'spec.config.faults.explode' },
    {
      reason: 'bad port',
      config: { ports: [{ containerPort: 70000 }] },
      path: 'spec.config.ports.0.containerPort',
    },
    {
      reason: 'duplicate host port (semantic check)',
      config: {
        ports: [
          { containerPort: 80, hostPort: 9000 },
          { containerPort: 81, hostPort: 9000 },
        ],
      },
      path: 'spec.config.ports.1.hostPort',
    },
  ],
});

/** Unlike AbortSignal.timeout, a ref'd timer: the test process stays alive until it fires. */
function abortAfter(ms: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('deadline')), ms);
  return controller.signal;
}

describe('fake provider faults', () => {
  const setup = (config: JsonObject, executionId = `ex-${randomUUID()}`) => {
    const engine = new FakeEngine();
    const provider = new FakeProvider({ engine });
    const tenant = { id: randomUUID(), name: 'faulty' };
    const request: ComputeRequest = { tenant, generation: 1, executionId, config };
    const signal = AbortSignal.timeout(5_000);
    return { engine, provider, tenant, request, signal };
  };
  const rejectsWith = async (promise: Promise<unknown>, check: (e: ComputeError) => void): Promise<void> => {
    await assert.rejects(promise, (error: unknown) => {
      assert.ok(error instanceof ComputeError);
      check(error);
      return true;
    });
  };

  test('failTimes fails the first N calls of one execution, then succeeds; counters live in the engine', async () => {
    const { engine, provider, request, signal, tenant } = setup({ faults: { failTimes: 2 } });
    await rejectsWith(provider.provision(request, signal), (e) =>
      assert.equal(e.code, 'PROVIDER_TEMPORARILY_UNAVAILABLE'),
    );
    const restarted = new FakeProvider({ engine });
    await rejectsWith(restarted.provision(request, signal), (e) =>
      assert.equal(e.classification, 'retriable'),
    );
    await restarted.provision(request, signal);
    assert.equal(engine.createCount(tenant.id), 1);
    assert.equal(engine.callCount('provision', tenant.id), 3);
  });

  test('failCode and failOperations choose the error and the operations it hits', async () => {
    const { provider, request, signal } = setup({
      faults: { failTimes: 1, failCode: 'QUOTA_EXCEEDED', failOperations: ['delete'] },
    });
    await provider.provision(request, signal);
    await rejectsWith(provider.delete(request, signal), (e) => {
      assert.equal(e.code, 'QUOTA_EXCEEDED');
      assert.equal(e.classification, 'manual_intervention');
    });
    await provider.delete(request, signal);
  });

  test('hang waits until the signal aborts', async () => {
    const { provider, request } = setup({ faults: { hang: true } });
    await rejectsWith(provider.provision(request, abortAfter(30)), (e) =>
      assert.equal(e.code, 'PROVIDER_TIMEOUT'),
    );
  });

  test('ambiguous does the work and then fails once; the retry finds the runtime', async () => {
    const { engine, provider, request, signal, tenant } = setup({ faults: { ambiguous: true } });
    await rejectsWith(provider.provision(request, signal), (e) => assert.equal(e.code, 'PROVIDER_TIMEOUT'));
    assert.equal(engine.runtimeCount(tenant.id), 1, 'the work was done');
    await provider.provision(request, signal);
    assert.equal(engine.createCount(tenant.id), 1);
  });

  test('partial creates one of two resources, reports it, and the retry completes the rest', async () => {
    const { engine, provider, request, signal, tenant } = setup({ faults: { partial: true } });
    await rejectsWith(provider.provision(request, signal), (e) => {
      assert.equal(e.code, 'PARTIAL_FAILURE');
      assert.deepEqual(e.partial?.succeeded, ['volume']);
      assert.deepEqual(e.partial?.failed, ['runtime']);
      assert.ok(e.partial?.resources?.volumeId);
    });
    const volumeId = engine.get(tenant.id)?.volumeId;
    const result = await provider.provision(request, signal);
    assert.equal(result.resources.volumeId, volumeId);
    assert.equal(engine.createCount(tenant.id), 1);
  });

  test('rateLimitedMs fails the first call with RATE_LIMITED and retryAfterMs', async () => {
    const { provider, request, signal } = setup({ faults: { rateLimitedMs: 250 } });
    await rejectsWith(provider.provision(request, signal), (e) => {
      assert.equal(e.code, 'RATE_LIMITED');
      assert.equal(e.retryAfterMs, 250);
    });
    await provider.provision(request, signal);
  });

  test('nonRetriable always fails with a non-retriable code', async () => {
    const { provider, request, signal } = setup({ faults: { nonRetriable: true } });
    for (let i = 0; i < 2; i++) {
      await rejectsWith(provider.provision(request, signal), (e) => {
        assert.equal(e.code, 'INVALID_CONFIG');
        assert.equal(e.classification, 'non_retriable');
      });
    }
  });

  test('update reports what changed', async () => {
    const { provider, request, signal } = setup({ image: 'a:1', env: { A: '1' } });
    await provider.provision(request, signal);
    const result = await provider.update(
      { ...request, generation: 2, config: { image: 'a:2', env: { A: '1' } } },
      signal,
    );
    assert.deepEqual(result.changes, ['image']);
  });
});
