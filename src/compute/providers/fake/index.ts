/** The `fake` provider folder: wired in `main/` with one line (`fakeProviderFactory`). */
import type { ProviderFactory } from '../../provider.js';
import { FakeProvider } from './fake-provider.js';

export { FakeEngine, FakeEngineError, sharedFakeEngine, type FakeRuntime } from './fake-engine.js';
export { FakeProvider, type FakeProviderOptions } from './fake-provider.js';
export { FAKE_CONFIG_SCHEMA, type FakeConfig, type FakeFaults } from './fake-schema.js';

/**
 * Options (`compute.providers.fake`): `latencyMs` (default 0), `returnsHealthy` (default false).
 * Uses the process-wide engine.
 */
export const fakeProviderFactory: ProviderFactory = {
  type: 'fake',
  async create(settings) {
    const { latencyMs, returnsHealthy } = settings.options;
    return new FakeProvider({
      latencyMs: typeof latencyMs === 'number' && latencyMs >= 0 ? latencyMs : 0,
      returnsHealthy: returnsHealthy === true,
    });
  },
};
