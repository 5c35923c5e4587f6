/**
 * The conformance suite every compute provider passes (the contract: docs/architecture.md, "Compute"). It
 * registers node:test tests, so a provider's test file calls `runProviderConformance({...})` at top level:
 *
 *   runProviderConformance({ name: 'process', makeProvider, validConfig, updatedConfig, probe });
 *
 * Each test works on its own tenant (random id, name `conf-…`); whatever a test leaves behind is
 * deleted in an `after` hook through a fresh provider instance, then `cleanup` runs.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { COMPUTE_ERROR_CODES, ComputeError, type ComputeErrorCode } from '../../domain/compute-error.js';
import { ValidationError } from '../../domain/errors.js';
import { silentLogger } from '../../domain/logger.js';
import { testHasher } from '../../domain/testing/test-hasher.js';
import type { Endpoint, JsonObject } from '../../domain/tenant.js';
import type { ComputeProvider, ComputeRequest, TenantRef } from '../provider.js';
import { createProviderRegistry } from '../provider-registry.js';
import { suspendConformanceTests, type SuspendConformanceOptions } from './suspend-conformance.js';

interface ProviderCoreOptions {
  readonly name: string;
  readonly makeProvider: () => Promise<ComputeProvider>;
  readonly validConfig: JsonObject;
  /** A different valid config (e.g. another env value) applied by `update`. */
  readonly updatedConfig: JsonObject;
  /** Runs once after every test and the tenant clean-up (stop engines, remove temp dirs). */
  readonly cleanup?: () => Promise<void>;
  /** Checks that an endpoint really answers; called after provision and after update. */
  readonly probe?: (endpoint: Endpoint, config: JsonObject) => Promise<void>;
  /** Counts the tenant's live runtimes in the engine, so "no duplicate" is checked for real. */
  readonly countRuntimes?: (tenant: TenantRef) => Promise<number>;
  /** A config the engine rejects at call time, and the standard code it must map to. */
  readonly failing?: { readonly config: JsonObject; readonly code: ComputeErrorCode };
  /** Schema/semantic violations and a problem path each must report (an unknown field is always tried). */
  readonly invalidConfigs?: readonly {
    readonly reason: string;
    readonly config: JsonObject;
    readonly path: string;
  }[];
  /** Per-call timeout of the suite's provider calls. Default 30 000 ms. */
  readonly timeoutMs?: number;
}

export type ProviderConformanceOptions = ProviderCoreOptions & SuspendConformanceOptions;

export function runProviderConformance(options: ProviderConformanceOptions): void {
  const used: TenantRef[] = [];
  const timeoutMs = options.timeoutMs ?? 30_000;
  const signal = (): AbortSignal => AbortSignal.timeout(timeoutMs);
  const newTenant = (): TenantRef => {
    const suffix = randomBytes(4).toString('hex');
    const tenant = { id: randomUUID(), name: `conf-${suffix}` };
    used.push(tenant);
    return tenant;
  };
  const request = (tenant: TenantRef, generation: number, config: JsonObject): ComputeRequest => ({
    tenant,
    generation,
    executionId: `ex-conformance-${tenant.name}-g${generation}`,
    config,
  });
  const withProvider = async <T>(fn: (p: ComputeProvider) => Promise<T>): Promise<T> => {
    const provider = await options.makeProvider();
    try {
      return await fn(provider);
    } finally {
      await provider.close?.();
    }
  };
  const assertRuntimes = async (tenant: TenantRef, expected: number): Promise<void> => {
    if (options.countRuntimes)
      assert.equal(await options.countRuntimes(tenant), expected, 'live runtimes of the tenant');
  };

  describe(`${options.name} provider conformance`, () => {
    after(async () => {
      await withProvider(async (p) => {
        for (const tenant of used)
          await p.delete(request(tenant, 99, options.validConfig), signal()).catch(() => undefined);
      });
      await options.cleanup?.();
    });

    test('provision twice makes one runtime and returns the same resources', () =>
      withProvider(async (p) => {
        const tenant = newTenant();
        const first = await p.provision(request(tenant, 1, options.validConfig), signal());
        const second = await p.provision(request(tenant, 1, options.validConfig), signal());
        assert.deepEqual(second.resources, first.resources);
        assert.ok(
          first.endpoints.length > 0 || Object.keys(first.resources).length > 0,
          'reports what it made',
        );
        await assertRuntimes(tenant, 1);
        const observed = await p.describe({ tenant, config: options.validConfig }, signal());
        assert.equal(observed.exists, true);
        assert.equal(observed.running, true);
        assert.equal(observed.generation, 1);
        for (const endpoint of first.endpoints) await options.probe?.(endpoint, options.validConfig);
      }));

    test('returnsHealthy: describe right after provision and after update reports it healthy', () =>
      withProvider(async (p) => {
        if (p.returnsHealthy !== true) return;
        const tenant = newTenant();
        const calls = [
          { call: p.provision.bind(p), generation: 1, config: options.validConfig },
          { call: p.update.bind(p), generation: 2, config: options.updatedConfig },
        ];
        for (const { call, generation, config } of calls) {
          const made = await call(request(tenant, generation, config), signal());
          const observed = await p.describe({ tenant, config }, signal());
          assert.equal(
            observed.running && observed.healthy,
            true,
            `healthy once generation ${generation} returned`,
          );
          assert.deepEqual(observed.endpoints, made.endpoints, "the call returned the runtime's endpoints");
        }
      }));

    test('update applies the new config to the one runtime; describe shows the new generation', () =>
      withProvider(async (p) => {
        const tenant = newTenant();
        await p.provision(request(tenant, 1, options.validConfig), signal());
        const updated = await p.update(request(tenant, 2, options.updatedConfig), signal());
        const again = await p.update(request(tenant, 2, options.updatedConfig), signal());
        assert.deepEqual(again.resources, updated.resources, 'a retried update finds the updated runtime');
        await assertRuntimes(tenant, 1);
        const observed = await p.describe({ tenant, config: options.updatedConfig }, signal());
        assert.equal(observed.exists, true);
        assert.equal(observed.running, true);
        assert.equal(observed.generation, 2);
        assert.deepEqual(observed.resources, updated.resources);
        for (const endpoint of updated.endpoints) await options.probe?.(endpoint, options.updatedConfig);
      }));

    test('delete twice succeeds and leaves nothing behind', () =>
      withProvider(async (p) => {
        const tenant = newTenant();
        await p.provision(request(tenant, 1, options.validConfig), signal());
        await p.delete(request(tenant, 1, options.validConfig), signal());
        await p.delete(request(tenant, 1, options.validConfig), signal());
        const observed = await p.describe({ tenant, config: options.validConfig }, signal());
        assert.equal(observed.exists, false);
        assert.equal(observed.running, false);
        await assertRuntimes(tenant, 0);
      }));

    test('listRunning (where offered) agrees with describe before and after delete', () =>
      withProvider(async (p) => {
        if (!p.listRunning) return; // optional: drift then describes each tenant
        const tenant = newTenant();
        const bystander = newTenant();
        await p.provision(request(tenant, 1, options.validConfig), signal());
        const listed = await p.listRunning(signal());
        assert.equal(listed.has(tenant.id), true, 'a provisioned runtime is listed as running');
        assert.equal(listed.has(bystander.id), false, 'a tenant without a runtime is not');
        await p.delete(request(tenant, 1, options.validConfig), signal());
        assert.equal((await p.listRunning(signal())).has(tenant.id), false, 'deleted: not listed');
      }));

    test('delete of a tenant that never existed succeeds; describe reports nothing', () =>
      withProvider(async (p) => {
        const tenant = newTenant();
        await p.delete(request(tenant, 1, options.validConfig), signal());
        assert.equal((await p.describe({ tenant, config: options.validConfig }, signal())).exists, false);
      }));

    test('a new provider instance (a restart) finds, updates and deletes what an old one made', async () => {
      const tenant = newTenant();
      const made = await withProvider((p) => p.provision(request(tenant, 1, options.validConfig), signal()));
      await withProvider(async (p) => {
        const observed = await p.describe({ tenant, config: options.validConfig }, signal());
        assert.equal(observed.exists, true);
        assert.equal(observed.generation, 1);
        assert.deepEqual(observed.resources, made.resources);
        const again = await p.provision(request(tenant, 1, options.validConfig), signal());
        assert.deepEqual(again.resources, made.resources, 'provision after a restart finds the runtime');
        await p.update(request(tenant, 2, options.updatedConfig), signal());
        await assertRuntimes(tenant, 1);
      });
      await withProvider(async (p) => {
        const updated = { tenant, config: options.updatedConfig };
        assert.equal((await p.describe(updated, signal())).generation, 2);
        await p.delete(request(tenant, 2, options.updatedConfig), signal());
        assert.equal((await p.describe(updated, signal())).exists, false);
        await assertRuntimes(tenant, 0);
      });
    });

    test('the config schema accepts the valid configs and rejects unknown fields and bad values', () =>
      withProvider(async (p) => {
        const registry = createProviderRegistry([
          {
            provider: p,
            settings: {
              options: {},
              defaults: {},
              timeoutMs,
              dataDir: '',
              logger: silentLogger,
              hasher: testHasher,
            },
          },
        ]);
        registry.effectiveConfig(p.type, options.validConfig);
        registry.effectiveConfig(p.type, options.updatedConfig);
        const cases = [
          {
            reason: 'unknown field',
            config: { ...options.validConfig, notAField: true },
            path: 'spec.config.notAField',
          },
          ...(options.invalidConfigs ?? []),
        ];
        for (const { reason, config, path } of cases) {
          assert.throws(
            () => registry.effectiveConfig(p.type, config),
            (error: unknown) => {
              assert.ok(error instanceof ValidationError, reason);
              assert.ok(
                error.problems.some((problem) => problem.path === path),
                `${reason}: expected a problem at ${path}, got ${JSON.stringify(error.problems)}`,
              );
              return true;
            },
          );
        }
      }));

    suspendConformanceTests({ options, newTenant, request, withProvider, signal });

    test('failures are ComputeErrors with a standard code and classification', () =>
      withProvider(async (p) => {
        const mapped = p.mapError(new Error('something unexpected'));
        assertComputeError(mapped);
        const aborted = AbortSignal.abort(new Error('deadline'));
        await assert.rejects(p.provision(request(newTenant(), 1, options.validConfig), aborted));
        if (options.failing) {
          const { config, code } = options.failing;
          await assert.rejects(p.provision(request(newTenant(), 1, config), signal()), (error: unknown) => {
            assertComputeError(error);
            assert.equal(error.code, code);
            return true;
          });
        }
      }));
  });
}

function assertComputeError(error: unknown): asserts error is ComputeError {
  assert.ok(error instanceof ComputeError, `expected a ComputeError, got ${String(error)}`);
  assert.ok(COMPUTE_ERROR_CODES.includes(error.code), `standard code: ${error.code}`);
  assert.ok(['retriable', 'non_retriable', 'manual_intervention'].includes(error.classification));
}
