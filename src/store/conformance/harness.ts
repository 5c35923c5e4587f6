/**
 * Shared pieces of the store conformance suite: each case module registers its tests through a
 * `Conformance` handle, so the same cases run against every backend with names prefixed
 * `[sqlite]` / `[postgres]`. Modules are run in groups, one database per group; tests sharing a
 * database keep to their own tenants (unique names, providers, labels).
 */
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { CallbackPayload } from '../../domain/compute-callback.js';
import type { ComputeExecution } from '../../domain/compute-execution.js';
import { newId } from '../../domain/ids.js';
import type { Tenant, TenantSpec } from '../../domain/tenant.js';
import { tenantRunTags } from '../../domain/tenant-run.js';
import type { WorkflowRun, WorkflowStep } from '../../domain/workflow-run.js';
import type { NewRollout, Store } from '../store.js';
import type { TestBackend, TestDatabase } from '../testing/test-databases.js';

export interface Conformance {
  readonly backend: TestBackend;
  /** The module's migrated store (valid inside tests). */
  store(): Store;
  /** The module's database (url for opening a second store: another replica). */
  database(): TestDatabase;
  /** Registers `[backend] name`; with `onlyOn`, only for that backend (a dialect-specific behaviour). */
  test(name: string, fn: () => Promise<void>, options?: { onlyOn?: string }): void;
}

export type ConformanceModule = (c: Conformance) => void;

/**
 * Registers one describe block per group with its own database on `backend`, and inside it one
 * describe per module; the modules of a group share that database.
 */
export function runGroup(
  backend: TestBackend,
  title: string,
  modules: Readonly<Record<string, ConformanceModule>>,
): void {
  describe(`[${backend.name}] store: ${title}`, () => {
    let db: TestDatabase | undefined;
    before(async () => {
      db = await backend.create();
    });
    after(async () => {
      await db?.cleanup();
    });
    const database = (): TestDatabase => {
      if (!db) throw new Error('database not created yet');
      return db;
    };
    for (const [name, module] of Object.entries(modules)) {
      describe(`[${backend.name}] ${name}`, () =>
        module({
          backend,
          database,
          store: () => database().store,
          test: (testName, fn, options = {}) => {
            if (options.onlyOn !== undefined && options.onlyOn !== backend.name) return;
            void test(`[${backend.name}] ${testName}`, fn);
          },
        }));
    }
  });
}

export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function specOf(overrides: Partial<TenantSpec> = {}): TenantSpec {
  return {
    provider: 'fake',
    config: { image: 'busybox' },
    labels: {},
    annotations: {},
    retryPolicy: null,
    paused: false,
    ...overrides,
  };
}

export function newExecution(tenantId: string, overrides: Partial<ComputeExecution> = {}): ComputeExecution {
  return {
    executionId: unique('ex'),
    tenantId,
    workflowRunId: `${tenantId}:provision:g1`,
    operation: 'provision',
    provider: 'fake',
    status: 'pending',
    attempt: 1,
    timeoutMs: 60_000,
    generation: 1,
    configHash: 'abc123',
    resources: {},
    endpoints: [],
    partial: null,
    error: null,
    createdAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    ...overrides,
  };
}

/** The callback payload of `e` reaching `status`, stamped `at`. */
export function payloadOf(
  e: ComputeExecution,
  status: CallbackPayload['status'],
  at: string = new Date().toISOString(),
): CallbackPayload {
  return {
    executionId: e.executionId,
    tenantId: e.tenantId,
    workflowRunId: e.workflowRunId,
    operation: e.operation,
    status,
    resources: {},
    error: null,
    attempt: e.attempt,
    at,
  };
}

/**
 * A rollout of `members`, all in its one wave, one at a time, that sets a new image and pauses on
 * a halt; `overrides` replace whole fields (another change, author or description).
 */
export function oneWaveRollout(members: readonly Tenant[], overrides: Partial<NewRollout> = {}): NewRollout {
  return {
    id: newId(),
    description: 'conformance',
    selector: { labels: null, names: members.map((t) => t.name), phases: null },
    change: { patch: { config: { image: 'app:2' } } },
    strategy: {
      waves: ['100%'],
      maxParallel: 1,
      minHealthyMs: 0,
      progressDeadlineMs: 60_000,
      pauseAfterWaves: [],
    },
    failurePolicy: { maxFailedPercent: null, maxFailed: null, onHalt: 'pause' },
    createdBy: 'test',
    createdByRole: 'operator',
    members: members.map((t) => ({ tenantId: t.id, tenantName: t.name, wave: 0, generation: t.generation })),
    ...overrides,
  };
}

/** A new tenant and its provision run, leased to `me` for a minute. */
export async function leasedTenantRun(store: Store): Promise<{ tenantId: string; run: WorkflowRun }> {
  const tenant = await store.tenants.create({ name: unique('ended'), spec: specOf(), actor: 'test' });
  const tags = tenantRunTags({ tenantId: tenant.id, generation: 1, configHash: 'h', triggerSource: 'api' });
  const { run } = await store.runs.createOrGet({
    runId: `${tenant.id}:provision:g1:r1`,
    workflow: 'provision',
    tags,
    engine: 'embedded',
    input: null,
    lease: { owner: 'me', expiresAt: Date.now() + 60_000 },
  });
  return { tenantId: tenant.id, run };
}

/** A finished journal entry `step-<seq>` of `runId`. */
export function finishedStep(
  runId: string,
  seq: number,
  startedAt = '2026-01-01T00:00:00.000Z',
): WorkflowStep {
  return {
    runId,
    seq,
    name: `step-${seq}`,
    kind: 'step',
    status: 'completed',
    result: { seq },
    error: null,
    startedAt,
    finishedAt: '2026-01-01T00:00:01.000Z',
    durationMs: 1000,
  };
}
