import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ComputeError } from '../domain/compute-error.js';
import { silentLogger } from '../domain/logger.js';
import { testHasher } from '../domain/testing/test-hasher.js';
import { ComputeManager } from './compute-manager.js';
import type { DescribeRequest } from './provider.js';
import { createProviderRegistry } from './provider-registry.js';
import { FakeEngine, FakeProvider } from './providers/fake/index.js';
import { fakeSpec, uniqueName } from './testing/manager-fixtures.js';
import { MemoryLedger } from './testing/memory-ledger.js';

/** A manager whose fake provider has `defaults` and records what `describe` was given. */
function describingManager(defaults: Record<string, string>) {
  const engine = new FakeEngine();
  const seen: DescribeRequest[] = [];
  const provider = new FakeProvider({ engine });
  const describeRuntime = provider.describe.bind(provider);
  provider.describe = (request, signal) => {
    seen.push(request);
    return describeRuntime(request, signal);
  };
  const settings = {
    options: {},
    defaults,
    timeoutMs: 5_000,
    dataDir: '',
    logger: silentLogger,
    hasher: testHasher,
  };
  const registry = createProviderRegistry([{ provider, settings }], { defaultProvider: 'fake' });
  const manager = new ComputeManager({
    ledger: new MemoryLedger(),
    registry,
    hasher: testHasher,
    instanceId: uniqueName(),
  });
  return { manager, engine, seen };
}

describe('compute manager: describe', () => {
  test('hands the provider the effective config: provider defaults merged under the spec', async () => {
    const { manager, seen } = describingManager({ image: 'default:1' });
    const tenant = { id: uniqueName('id'), name: uniqueName(), spec: fakeSpec({ env: { MODE: 'a' } }) };
    assert.equal((await manager.describe(tenant)).exists, false);
    assert.deepEqual(seen, [
      { tenant: { id: tenant.id, name: tenant.name }, config: { image: 'default:1', env: { MODE: 'a' } } },
    ]);
  });

  test('a config that does not validate → INVALID_CONFIG, the provider is not asked', async () => {
    const { manager, seen, engine } = describingManager({});
    const tenant = { id: uniqueName('id'), name: uniqueName(), spec: fakeSpec({ notAField: true }) };
    await assert.rejects(manager.describe(tenant), (error: unknown) => {
      assert.ok(error instanceof ComputeError);
      assert.equal(error.code, 'INVALID_CONFIG');
      return true;
    });
    assert.deepEqual(seen, []);
    assert.equal(engine.callCount('describe', tenant.id), 0);
  });
});
