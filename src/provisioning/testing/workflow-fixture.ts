/**
 * The provisioning path wired as the composition root wires it (src/main/lessor-app.ts), on a real
 * store: fake provider (its own FakeEngine) → compute manager (ledger woken on settle) → embedded
 * engine running the tenant workflows → callback dispatcher delivering the outbox. Small timings so
 * a run with retries finishes in milliseconds. Usage:
 *
 *   const fx = await openWorkflowFixture(db.store);
 *   try { const run = await fx.runToEnd(await fx.createTenant({ image: 'app:1' }), 'provision'); }
 *   finally { await fx.close(); }
 */
import { randomUUID } from 'node:crypto';
import { CallbackDispatcher } from '../../callbacks/callback-dispatcher.js';
import { ComputeManager } from '../../compute/compute-manager.js';
import { fakeRegistry, fakeSpec } from '../../compute/testing/manager-fixtures.js';
import type { ProviderRegistry } from '../../compute/provider-registry.js';
import { FakeEngine, FakeProvider } from '../../compute/providers/fake/index.js';
import { workflowRunId } from '../../domain/ids.js';
import { tenantRunTags } from '../../domain/tenant-run.js';
import type { TenantHandoff } from '../../domain/tenant-handoff.js';
import { silentLogger } from '../../domain/logger.js';
import type { RetryPolicyConfig, RetryPolicyOverride } from '../../domain/retry-policy.js';
import type { JsonObject, Tenant, WorkflowAction } from '../../domain/tenant.js';
import { testHasher } from '../../domain/testing/test-hasher.js';
import type { WorkflowRun } from '../../domain/workflow-run.js';
import type { Store } from '../../store/store.js';
import { EmbeddedWorkflowEngine } from '../../workflow/embedded/embedded-engine.js';
import { finished } from '../../workflow/testing/run-probes.js';
import type { ProvisioningDeps } from '../provisioning-deps.js';
import { tenantRunEvents } from '../tenant-run-events.js';
import { tenantWorkflows } from '../tenant-workflows.js';

/** Backoff small enough that retries cost nothing; tests override what they examine. */
export const FAST_RETRY: RetryPolicyOverride = { initialBackoffMs: 1, maxBackoffMs: 5 };

export interface WorkflowFixtureOptions {
  /** Global retry policy per operation (config `retryPolicy`); default FAST_RETRY for all three. */
  readonly retryPolicies?: RetryPolicyConfig;
  /** Extra wait of `awaitCompute` beyond the provider timeout. Default 5 000 ms. */
  readonly awaitGraceMs?: number;
  /**
   * The fake engine and the registry around it; default a new pair. Building a registry compiles the
   * provider's JSON Schema (~150 ms), so a suite shares one pair between its tests (`fakeCompute()`).
   */
  readonly provider?: FakeCompute;
  /** Where `startRun(…, { offer })` offers the tenant it read (src/domain/tenant-handoff.ts). */
  readonly handoff?: TenantHandoff;
  /** Wraps the compute API the workflows call (a test acting around `start`). */
  readonly wrapCompute?: (compute: ComputeManager) => ProvisioningDeps['compute'];
}

/** A FakeEngine of its own (not the process-wide one) and a registry with the fake provider over it. */
export interface FakeCompute {
  readonly fake: FakeEngine;
  readonly registry: ProviderRegistry;
}

/** `returnsHealthy`: the fake claims it (provider.ts), so the workflows skip their own health check. */
export function fakeCompute(providerTimeoutMs = 5_000, returnsHealthy = false): FakeCompute {
  const fake = new FakeEngine();
  const provider = new FakeProvider({ engine: fake, returnsHealthy });
  return { fake, registry: fakeRegistry(provider, providerTimeoutMs, silentLogger) };
}

export interface WorkflowFixture {
  readonly store: Store;
  readonly fake: FakeEngine;
  readonly compute: ComputeManager;
  readonly engine: EmbeddedWorkflowEngine;
  readonly dispatcher: CallbackDispatcher;
  /** A tenant on the fake provider, phase `requested`, generation 1. */
  createTenant(config: JsonObject, retryPolicy?: RetryPolicyOverride | null): Promise<Tenant>;
  /** Starts a run for the tenant's current generation (as the controller would) and returns its id. */
  startRun(tenant: Tenant, action: WorkflowAction, options?: { readonly offer?: Tenant }): Promise<string>;
  /** How many times the workflows read a tenant (`ProvisioningDeps.tenants.get`). */
  workflowTenantReads(): number;
  /** Polls the run until it is no longer active. */
  finished(runId: string, timeoutMs?: number): Promise<WorkflowRun>;
  /** `startRun` then `finished`. */
  runToEnd(tenant: Tenant, action: WorkflowAction): Promise<WorkflowRun>;
  tenant(id: string): Promise<Tenant>;
  close(): Promise<void>;
}

export async function openWorkflowFixture(
  store: Store,
  options: WorkflowFixtureOptions = {},
): Promise<WorkflowFixture> {
  const instanceId = `fixture-${randomUUID().slice(0, 8)}`;
  const { fake, registry } = options.provider ?? fakeCompute();
  const compute = new ComputeManager({
    ledger: store.executions,
    registry,
    hasher: testHasher,
    instanceId,
    tenants: (id) => store.tenants.get(id),
    logger: silentLogger,
  });
  let tenantReads = 0;
  const definitions = tenantWorkflows({
    compute: options.wrapCompute?.(compute) ?? compute,
    tenants: {
      get: (id) => {
        tenantReads++;
        return store.tenants.get(id);
      },
      changeFrom: (current, change, trace, journal) =>
        store.tenants.changeFrom(current, change, trace, journal),
    },
    ...(options.handoff && { handoff: options.handoff }),
    retryPolicies: options.retryPolicies ?? { provision: FAST_RETRY, update: FAST_RETRY, delete: FAST_RETRY },
    awaitGraceMs: options.awaitGraceMs ?? 5_000,
    providerTimeoutMs: (provider) => registry.get(registry.resolveProvider(provider)).settings.timeoutMs,
  });
  const engine = new EmbeddedWorkflowEngine({
    store,
    definitions,
    observer: tenantRunEvents(store),
    ownerId: instanceId,
    logger: silentLogger,
    leaseMs: 1_000,
    pollIntervalMs: 50,
  });
  const dispatcher = new CallbackDispatcher(
    { callbacks: store.callbacks, engine, logger: silentLogger },
    { maxAttempts: 5, initialBackoffMs: 10, maxBackoffMs: 100, pollIntervalMs: 50 },
  );
  const unsubscribe = store.changes.subscribeCallbacks((callbacks) => dispatcher.handOff(callbacks));
  compute.open();
  await engine.open();
  dispatcher.start();

  const fixture: WorkflowFixture = {
    store,
    fake,
    compute,
    engine,
    dispatcher,
    createTenant: (config, retryPolicy = null) =>
      store.tenants.create({
        name: `t-${randomUUID().slice(0, 8)}`,
        spec: { ...fakeSpec(config), retryPolicy },
        actor: 'test',
      }),
    async startRun(tenant, action, { offer } = {}) {
      const current = await fixture.tenant(tenant.id);
      const runId = workflowRunId(current.id, action, current.generation);
      if (offer) options.handoff?.offer(runId, offer);
      await engine.start({
        runId,
        workflow: action,
        input: { tenantId: current.id, generation: current.generation },
        tags: tenantRunTags({
          tenantId: current.id,
          generation: current.generation,
          configHash: testHasher(current.spec.config),
          triggerSource: 'api',
        }),
      });
      return runId;
    },
    workflowTenantReads: () => tenantReads,
    finished: (runId, timeoutMs = 10_000) => finished(store, runId, timeoutMs),
    runToEnd: async (tenant, action) => fixture.finished(await fixture.startRun(tenant, action)),
    async tenant(id) {
      const tenant = await store.tenants.get(id);
      if (!tenant) throw new Error(`tenant ${id} is gone`);
      return tenant;
    },
    async close() {
      unsubscribe();
      await dispatcher.stop();
      await engine.close(0);
      await compute.close();
    },
  };
  return fixture;
}
