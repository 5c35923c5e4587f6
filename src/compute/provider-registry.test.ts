import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValidationError } from '../domain/errors.js';
import { silentLogger } from '../domain/logger.js';
import { testHasher } from '../domain/testing/test-hasher.js';
import type { JsonObject } from '../domain/tenant.js';
import { mergeDefaults } from './config-merge.js';
import { createProviderRegistry, type ProviderEntry } from './provider-registry.js';
import type { ComputeProvider } from './provider.js';
import { FakeEngine, FakeProvider } from './providers/fake/index.js';

const settings = (defaults: JsonObject = {}) => ({
  options: {},
  defaults,
  timeoutMs: 1234,
  dataDir: '',
  logger: silentLogger,
  hasher: testHasher,
});
const fake = (defaults: JsonObject = {}): ProviderEntry => ({
  provider: new FakeProvider({ engine: new FakeEngine() }),
  settings: settings(defaults),
});
/** A second provider type with the fake's schema. */
const other = (): ProviderEntry => {
  const provider: ComputeProvider = Object.assign(
    Object.create(new FakeProvider({ engine: new FakeEngine() })) as FakeProvider,
    { type: 'other' },
  );
  return { provider, settings: settings() };
};

const problemsOf = (fn: () => unknown): readonly { path: string; message: string }[] => {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ValidationError);
    return error.problems;
  }
  assert.fail('expected a ValidationError');
};

describe('mergeDefaults', () => {
  const cases: { reason: string; defaults: JsonObject; config: JsonObject; expected: JsonObject }[] = [
    {
      reason: 'defaults fill missing keys',
      defaults: { image: 'a', latencyMs: 5 },
      config: { image: 'b' },
      expected: { image: 'b', latencyMs: 5 },
    },
    {
      reason: 'objects merge key by key',
      defaults: { env: { A: '1', B: '2' } },
      config: { env: { B: '3' } },
      expected: { env: { A: '1', B: '3' } },
    },
    {
      reason: 'arrays from the spec replace',
      defaults: { ports: [{ containerPort: 1 }, { containerPort: 2 }] },
      config: { ports: [{ containerPort: 3 }] },
      expected: { ports: [{ containerPort: 3 }] },
    },
    {
      reason: 'null from the spec replaces',
      defaults: { env: { A: '1' } },
      config: { env: null },
      expected: { env: null },
    },
    {
      reason: 'nested objects merge deeply',
      defaults: { faults: { failTimes: 1, hang: false } },
      config: { faults: { hang: true } },
      expected: { faults: { failTimes: 1, hang: true } },
    },
  ];
  for (const { reason, defaults, config, expected } of cases) {
    test(reason, () => assert.deepEqual(mergeDefaults(defaults, config), expected));
  }
});

describe('provider registry', () => {
  test('list describes each provider with its schema URL', () => {
    const registry = createProviderRegistry([fake({ image: 'x' })]);
    assert.deepEqual(registry.list(), [
      {
        type: 'fake',
        defaults: { image: 'x' },
        timeoutMs: 1234,
        schemaUrl: '/v1/compute/providers/fake/schema',
      },
    ]);
    assert.equal((registry.schema('fake') as { title?: string }).title, 'fake provider config');
    assert.equal(registry.schema('nope'), undefined);
  });

  test('resolveProvider: explicit, default, the only one, or a spec.provider problem', () => {
    const single = createProviderRegistry([fake()]);
    assert.equal(single.resolveProvider(undefined), 'fake');
    const two = createProviderRegistry([fake(), other()]);
    assert.equal(two.resolveProvider('other'), 'other');
    assert.equal(two.resolveProvider(undefined, 'other'), 'other');
    assert.deepEqual(
      problemsOf(() => two.resolveProvider(undefined)).map((p) => p.path),
      ['spec.provider'],
    );
    assert.deepEqual(
      problemsOf(() => two.resolveProvider('docker')).map((p) => p.path),
      ['spec.provider'],
    );
    assert.equal(
      createProviderRegistry([fake(), other()], { defaultProvider: 'fake' }).resolveProvider(''),
      'fake',
    );
    assert.throws(
      () => createProviderRegistry([fake()], { defaultProvider: 'docker' }),
      /not a configured provider/,
    );
    assert.throws(() => createProviderRegistry([fake(), fake()]), /configured twice/);
  });

  test('effectiveConfig merges defaults under the spec, then validates the result', () => {
    const registry = createProviderRegistry([fake({ image: 'default:1', env: { A: '1' } })]);
    const effective = registry.effectiveConfig('fake', { env: { B: '2' } });
    assert.deepEqual(effective.config, { image: 'default:1', env: { A: '1', B: '2' } });
    assert.equal(effective.provider, 'fake');
  });

  test('effectiveConfig reports every problem with a spec.config path', () => {
    const registry = createProviderRegistry([fake()]);
    const problems = problemsOf(() =>
      registry.effectiveConfig('fake', { image: 7, surprise: true, ports: [{ hostPort: 1 }], env: { A: 1 } }),
    );
    assert.deepEqual(problems.map((p) => p.path).sort(), [
      'spec.config.env.A',
      'spec.config.image',
      'spec.config.ports.0.containerPort',
      'spec.config.surprise',
    ]);
    assert.equal(problems.find((p) => p.path === 'spec.config.surprise')?.message, 'unknown field');
    const semantic = problemsOf(() =>
      registry.effectiveConfig('fake', {
        ports: [
          { containerPort: 1, hostPort: 5 },
          { containerPort: 2, hostPort: 5 },
        ],
      }),
    );
    assert.deepEqual(
      semantic.map((p) => p.path),
      ['spec.config.ports.1.hostPort'],
    );
  });

  test('redactSecrets shows secret values as *** and keeps the keys; secretValues lists them', () => {
    const registry = createProviderRegistry([fake()]);
    const config = { image: 'a', env: { PUBLIC: 'p' }, secretEnv: { TOKEN: 't0k', PASS: 'pw' } };
    assert.deepEqual(registry.redactSecrets('fake', config), {
      image: 'a',
      env: { PUBLIC: 'p' },
      secretEnv: { TOKEN: '***', PASS: '***' },
    });
    assert.deepEqual([...registry.secretValues('fake', config)].sort(), ['pw', 't0k']);
    assert.deepEqual(config.secretEnv, { TOKEN: 't0k', PASS: 'pw' }, 'input untouched');
    assert.deepEqual(registry.redactSecrets('unknown', { apiToken: 'x', nested: { password: 'y', ok: 1 } }), {
      apiToken: '***',
      nested: { password: '***', ok: 1 },
    });
  });
});
