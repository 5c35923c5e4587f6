/**
 * The provision/update/delete workflows end to end on real databases: fake provider → compute
 * manager → embedded engine → callback outbox → dispatcher → the waiting run, as wired in main.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ExecutionView } from '../compute/compute-api.js';
import { getCondition } from '../domain/conditions.js';
import { isValidExecutionPath } from '../domain/compute-execution.js';
import type { RetryPolicyOverride } from '../domain/retry-policy.js';
import type { ConditionType, JsonObject, Tenant } from '../domain/tenant.js';
import type { WorkflowRun, WorkflowStep } from '../domain/workflow-run.js';
import { workflowRunId } from '../domain/ids.js';
import { tenantRunTags } from '../domain/tenant-run.js';
import { TenantHandoff } from '../domain/tenant-handoff.js';
import { testHasher } from '../domain/testing/test-hasher.js';
import { backends, type TestDatabase } from '../store/testing/test-databases.js';
import { eventually, inState } from '../workflow/testing/run-probes.js';
import {
  FAST_RETRY,
  fakeCompute,
  openWorkflowFixture,
  type FakeCompute,
  type WorkflowFixture,
  type WorkflowFixtureOptions,
} from './testing/workflow-fixture.js';
import { toSnapshot } from './tenant-steps.js';

interface Outcome {
  readonly run: WorkflowRun;
  readonly tenant: Tenant;
  /** The run's executions, oldest first, with history. */
  readonly executions: readonly ExecutionView[];
  readonly journal: readonly WorkflowStep[];
  /** `data` of the tenant's RunStateChanged events for the run (provisioning's run observer). */
  readonly runEvents: readonly Record<string, unknown>[];
  readonly fx: WorkflowFixture;
}

interface OutcomeCase {
  readonly reason: string;
  readonly config: JsonObject;
  readonly retryPolicy?: RetryPolicyOverride;
  readonly expect: (o: Outcome) => void;
}

const condition = (tenant: Tenant, type: ConditionType) => getCondition(tenant.status.conditions, type);
const statuses = (view: ExecutionView) => view.history.map((h) => h.status);

/** The run's end was recorded as the tenant's event, as the composition root wires the engine. */
function assertEndEvent(o: Outcome): void {
  const { run } = o;
  const end = { runId: run.runId, action: run.workflow, state: run.state, attempt: run.attempt };
  assert.deepEqual(o.runEvents.at(-1), end);
  assert.equal(o.runEvents.filter((data) => data.state === run.state).length, 1);
}

function assertReady(o: Outcome, generation: number): void {
  const { run, tenant } = o;
  assert.equal(run.state, 'succeeded', JSON.stringify(run.error));
  assertEndEvent(o);
  assert.equal(tenant.status.phase, 'ready');
  assert.equal(tenant.status.observedGeneration, generation);
  assert.equal(tenant.status.lastError, null);
  assert.equal(tenant.status.compute?.status, 'succeeded');
  assert.equal(tenant.status.workflow?.state, 'succeeded');
  assert.ok(tenant.status.resources.runtimeId, 'resources name the runtime');
  assert.equal(tenant.status.endpoints.length, 1);
  assert.match(tenant.status.endpoints[0]!.url, /^http:\/\/lessor-/);
  assert.equal(condition(tenant, 'Ready')?.status, 'True');
  assert.equal(condition(tenant, 'Reconciling')?.status, 'False');
  assert.equal(condition(tenant, 'Degraded')?.status, 'False');
  assert.equal(o.fx.fake.runtimeCount(tenant.id), 1);
}

function assertFailed(o: Outcome, code: string, attempts: number, degradedReason: string): void {
  const { run, tenant } = o;
  assert.equal(run.state, 'failed');
  assertEndEvent(o);
  assert.equal(tenant.status.phase, 'failed');
  assert.equal(tenant.status.lastError?.code, code);
  assert.equal(tenant.status.compute?.status, 'failed');
  assert.equal(tenant.status.workflow?.attempt, attempts);
  assert.equal(condition(tenant, 'Ready')?.status, 'False');
  assert.equal(condition(tenant, 'Degraded')?.reason, degradedReason);
  const provision = o.executions.find((e) => e.operation === 'provision');
  assert.equal(provision?.attempt, attempts, 'one execution attempt per policy attempt');
  assert.equal(o.fx.fake.callCount('provision', tenant.id), attempts);
}

const OUTCOMES: readonly OutcomeCase[] = [
  {
    reason: 'provision → ready, generation 1 observed, compute succeeded, resources and endpoints set',
    config: { image: 'app:1' },
    expect(o) {
      assertReady(o, 1);
      assert.deepEqual(o.run.output, {
        result: 'ready',
        generation: 1,
        executionId: o.executions[0]!.executionId,
      });
      assert.equal(o.executions.length, 1);
      assert.deepEqual(statuses(o.executions[0]!), ['pending', 'running', 'succeeded']);
      assert.equal(o.tenant.status.compute?.executionId, o.executions[0]!.executionId);
      assert.equal(o.fx.fake.createCount(o.tenant.id), 1);
    },
  },
  {
    reason: 'fail twice then succeed: retried under one execution id, valid history, attempt 3, ready',
    config: { image: 'app:1', faults: { failTimes: 2 } },
    expect(o) {
      assertReady(o, 1);
      assert.equal(o.executions.length, 1, 'retries reuse the execution id');
      const [execution] = o.executions;
      assert.equal(execution!.attempt, 3);
      assert.ok(isValidExecutionPath(statuses(execution!)));
      assert.deepEqual(statuses(execution!), [
        'pending',
        'running',
        'failed',
        'running',
        'failed',
        'running',
        'succeeded',
      ]);
      assert.deepEqual(
        execution!.history.map((h) => h.attempt),
        [1, 1, 1, 2, 2, 3, 3],
      );
      assert.deepEqual(stepNames(o.journal, 'compute:'), [
        'compute:provision#1',
        'compute:provision#2',
        'compute:provision#3',
      ]);
      assert.equal(o.fx.fake.createCount(o.tenant.id), 1);
    },
  },
  {
    reason: 'INVALID_CONFIG (schema) is non-retriable: failed after one attempt, no retry',
    config: { image: 'app:1', bogus: true },
    expect(o) {
      assert.equal(o.run.state, 'failed');
      assert.equal(o.tenant.status.lastError?.code, 'INVALID_CONFIG');
      assert.equal(o.tenant.status.lastError?.classification, 'non_retriable');
      assert.equal(o.tenant.status.phase, 'failed');
      assert.equal(o.executions[0]?.attempt, 1);
      assert.equal(
        o.fx.fake.callCount('provision', o.tenant.id),
        0,
        'an invalid config never reaches the provider',
      );
      assert.equal(condition(o.tenant, 'Degraded')?.reason, 'INVALID_CONFIG');
      assert.deepEqual(stepNames(o.journal, 'delay:'), []);
    },
  },
  {
    reason: 'IMAGE_UNAVAILABLE is non-retriable: failed after one attempt, no retry',
    config: { image: 'missing:1', faults: { nonRetriable: true } },
    expect(o) {
      assertFailed(o, 'IMAGE_UNAVAILABLE', 1, 'IMAGE_UNAVAILABLE');
      assert.deepEqual(stepNames(o.journal, 'delay:'), []);
    },
  },
  {
    reason: 'PERMISSION_DENIED (manual_intervention): failed, Degraded/ManualInterventionRequired',
    config: { image: 'app:1', faults: { failTimes: 1, failCode: 'PERMISSION_DENIED' } },
    expect(o) {
      assertFailed(o, 'PERMISSION_DENIED', 1, 'ManualInterventionRequired');
      assert.equal(o.tenant.status.lastError?.classification, 'manual_intervention');
      assert.notEqual(condition(o.tenant, 'Paused')?.status, 'True');
    },
  },
  {
    reason: 'onError pause: failed with Paused=True (PausedOnError), waiting for a human',
    config: { image: 'app:1', faults: { failTimes: 1 } },
    retryPolicy: { onError: { PROVIDER_TEMPORARILY_UNAVAILABLE: 'pause' } },
    expect(o) {
      assertFailed(o, 'PROVIDER_TEMPORARILY_UNAVAILABLE', 1, 'ManualInterventionRequired');
      assert.equal(condition(o.tenant, 'Paused')?.status, 'True');
      assert.equal(condition(o.tenant, 'Paused')?.reason, 'PausedOnError');
    },
  },
  {
    reason: 'partial failure with onError rollback: a delete execution in the same run removes what was made',
    config: { image: 'app:1', faults: { partial: true } },
    retryPolicy: { onError: { PARTIAL_FAILURE: 'rollback' } },
    expect(o) {
      assertFailed(o, 'PARTIAL_FAILURE', 1, 'PARTIAL_FAILURE');
      assert.deepEqual(
        o.executions.map((e) => `${e.operation}:${e.status}`),
        ['provision:failed', 'delete:succeeded'],
      );
      assert.equal(o.executions[0]!.error?.code, 'PARTIAL_FAILURE');
      assert.ok(o.executions[0]!.resources.volumeId, 'the partial resources were recorded');
      assert.equal(o.fx.fake.get(o.tenant.id), undefined, 'nothing is left in the engine');
      assert.match(String((o.run.error as { details?: { reason?: string } }).details?.reason), /^RolledBack/);
    },
  },
  {
    reason: 'retry exhaustion: maxAttempts 3 of an always-retriable failure → failed after 3 attempts',
    config: { image: 'app:1', faults: { failTimes: 100 } },
    retryPolicy: { maxAttempts: 3 },
    expect(o) {
      assertFailed(o, 'PROVIDER_TEMPORARILY_UNAVAILABLE', 3, 'PROVIDER_TEMPORARILY_UNAVAILABLE');
      assert.equal(o.executions.length, 1);
      assert.ok(isValidExecutionPath(statuses(o.executions[0]!)));
      assert.deepEqual(stepNames(o.journal, 'delay:'), ['delay:backoff#1', 'delay:backoff#2']);
    },
  },
  {
    reason: 'rate limited: the journaled backoff honours retryAfterMs as a floor, then ready',
    config: { image: 'app:1', faults: { rateLimitedMs: 40 } },
    expect(o) {
      assertReady(o, 1);
      const delay = o.journal.find((s) => s.name === 'delay:backoff#1');
      assert.ok(
        typeof delay?.result === 'number' && delay.result >= 40,
        `delay ${String(delay?.result)} ≥ 40`,
      );
      assert.equal(o.executions[0]!.attempt, 2);
    },
  },
];

interface DeletedMidRunCase {
  readonly reason: string;
  readonly config: JsonObject;
  readonly retryPolicy: RetryPolicyOverride;
  /**
   * When the tenant is moved to `deleting`: while the run shows this state, or (`in-wait`) once it
   * waits for the execution's callback — its wait's deadline journaled (a short wait is not shown
   * on the run row, docs/architecture.md "A step's writes on the embedded engine"). An `in-wait`
   * case's provider answers after 1 s, far past the 200 ms after which the deadline is journaled:
   * with a shorter answer a slow machine may fold that entry into the `failed` change instead.
   */
  readonly deleteWhen: WorkflowRun['state'] | 'in-wait';
}

/** Faults on provision only, so the delete run that follows succeeds. */
const DELETED_MID_RUN: readonly DeletedMidRunCase[] = [
  {
    reason: 'while backing off after a retriable failure: no further attempt',
    config: { image: 'app:1', faults: { failTimes: 1, failOperations: ['provision'] } },
    retryPolicy: { initialBackoffMs: 300, maxBackoffMs: 300, jitter: false },
    deleteWhen: 'backing-off',
  },
  {
    reason: 'while an attempt is in flight that then fails retriably: no retry',
    config: { image: 'app:1', latencyMs: 1_000, faults: { failTimes: 1, failOperations: ['provision'] } },
    retryPolicy: FAST_RETRY,
    deleteWhen: 'in-wait',
  },
  {
    reason: 'while an attempt is in flight that then fails non-retriably: deleting is not turned into failed',
    config: {
      image: 'missing:1',
      latencyMs: 1_000,
      faults: { nonRetriable: true, failOperations: ['provision'] },
    },
    retryPolicy: FAST_RETRY,
    deleteWhen: 'in-wait',
  },
];

/** A provision run as a process left it when it died: its journal, and whether the start was written. */
interface DiedRunCase {
  readonly reason: string;
  /** What the process journaled: with the code from before the merged `start` step, `load`, then `status:start`. */
  readonly journaled: readonly ('load' | 'status:start')[];
  /** Whether the start change was written to the tenant (by `status:start`, or by `start` itself). */
  readonly startWritten: boolean;
  /** The first steps of the run's journal once this process has finished it. */
  readonly expected: readonly string[];
}

const DIED_RUNS: readonly DiedRunCase[] = [
  {
    reason: 'code from before the merged start, only `load` journaled: `status:start` runs on the replay',
    journaled: ['load'],
    startWritten: false,
    expected: ['load', 'status:start', 'compute:provision#1'],
  },
  {
    reason: 'code from before the merged start, `load` and `status:start` journaled: both replayed',
    journaled: ['load', 'status:start'],
    startWritten: true,
    expected: ['load', 'status:start', 'compute:provision#1'],
  },
  {
    reason: '`start` wrote the tenant, not its entry: the re-run writes no second start',
    journaled: [],
    startWritten: true,
    expected: ['start', 'compute:provision#1'],
  },
];

/**
 * A provision run of `tenant` as a process left it when it died (`DiedRunCase`): the run row leased
 * to that process until `leaseMs` from now, when this process takes it over.
 */
async function diedRun(
  fx: WorkflowFixture,
  tenant: Tenant,
  c: DiedRunCase,
  leaseMs: number,
): Promise<string> {
  const runId = workflowRunId(tenant.id, 'provision', tenant.generation);
  const tags = tenantRunTags({
    tenantId: tenant.id,
    generation: tenant.generation,
    configHash: testHasher(tenant.spec.config),
    triggerSource: 'api',
  });
  await fx.store.runs.createOrGet({
    runId,
    workflow: 'provision',
    tags,
    engine: 'embedded',
    input: { tenantId: tenant.id, generation: tenant.generation },
    lease: { owner: 'died-process', expiresAt: Date.now() + leaseMs },
  });
  await fx.store.runs.update(runId, { state: 'running' });
  const at = new Date().toISOString();
  const entry = (seq: number, name: string, result: unknown): WorkflowStep => ({
    runId,
    seq,
    name,
    kind: 'step',
    status: 'completed',
    result,
    error: null,
    startedAt: at,
    finishedAt: at,
    durationMs: 1,
  });
  const snapshot = toSnapshot(tenant);
  if (c.journaled.includes('load')) await fx.store.steps.record(entry(1, 'load', snapshot));
  if (c.startWritten) {
    // What the start change of a provision writes (tenant-workflows.ts, `startChange`).
    await fx.store.tenants.change(tenant.id, {
      actor: `workflow:${runId}`,
      phase: { to: 'provisioning', reason: 'ProvisionStarted', message: 'provision run started', runId },
      status: {
        workflow: { runId, action: 'provision', state: 'running', attempt: 1 },
        message: `provision of generation ${tenant.generation} in progress`,
      },
      conditions: [
        { type: 'Reconciling', status: 'True', reason: 'ProvisionStarted' },
        { type: 'Ready', status: 'False', reason: 'Reconciling' },
      ],
    });
  }
  if (c.journaled.includes('status:start'))
    await fx.store.steps.record(entry(2, 'status:start', 'provisioning'));
  return runId;
}

/** The reasons of the tenant's phase changes that `runId` made, oldest first. */
async function phaseReasons(fx: WorkflowFixture, tenantId: string, runId: string): Promise<string[]> {
  const events = await fx.store.events.listByTenant(tenantId, { limit: 1000 });
  return events.filter((e) => e.type === 'PhaseChanged' && e.runId === runId).map((e) => e.reason);
}

function stepNames(journal: readonly WorkflowStep[], prefix: string): string[] {
  return journal.filter((s) => s.name.startsWith(prefix)).map((s) => s.name);
}

/** The run's RunStateChanged events, once its end is among them (appended after the run row). */
function runEventsOf(
  fx: WorkflowFixture,
  tenantId: string,
  run: WorkflowRun,
): Promise<Record<string, unknown>[]> {
  return eventually(async () => {
    const events = await fx.store.events.listByTenant(tenantId, { limit: 1000 });
    const data = events
      .filter((e) => e.type === 'RunStateChanged' && e.runId === run.runId)
      .map((e) => ({ ...e.data }));
    return data.some((d) => d.state === run.state) ? data : undefined;
  });
}

async function observe(fx: WorkflowFixture, tenantId: string, run: WorkflowRun): Promise<Outcome> {
  const page = await fx.compute.list({ workflowRunId: run.runId, limit: 10 });
  const executions = await Promise.all(
    [...page.items]
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .map(async (e) => (await fx.compute.get(e.executionId))!),
  );
  return {
    run,
    tenant: await fx.tenant(tenantId),
    executions,
    journal: await fx.engine.journal(run.runId),
    runEvents: await runEventsOf(fx, tenantId, run),
    fx,
  };
}

for (const backend of backends()) {
  describe(`[${backend.name}] tenant workflows`, () => {
    let db: TestDatabase;
    let provider: FakeCompute;
    before(async () => {
      db = await backend.create();
      provider = fakeCompute();
    });
    after(() => db.cleanup());

    /** A fresh fixture per test on the shared database; closed whatever happens. */
    async function withFixture(
      body: (fx: WorkflowFixture) => Promise<void>,
      options?: WorkflowFixtureOptions,
    ): Promise<void> {
      const fx = await openWorkflowFixture(db.store, { provider, ...options });
      try {
        await body(fx);
      } finally {
        await fx.close();
      }
    }

    for (const c of OUTCOMES) {
      test(`[${backend.name}] ${c.reason}`, () =>
        withFixture(async (fx) => {
          const tenant = await fx.createTenant(c.config, { ...FAST_RETRY, ...c.retryPolicy });
          const run = await fx.runToEnd(tenant, 'provision');
          c.expect(await observe(fx, tenant.id, run));
        }));
    }

    test(`[${backend.name}] a new run reads the tenant and records its start in one step, \`start\``, () =>
      withFixture(async (fx) => {
        const tenant = await fx.createTenant({ image: 'app:1' });
        const o = await observe(fx, tenant.id, await fx.runToEnd(tenant, 'provision'));
        assertReady(o, 1);
        const [first, second] = o.journal;
        assert.equal(first?.name, 'start');
        assert.deepEqual(first?.result, {
          snapshot: {
            id: tenant.id,
            name: tenant.name,
            phase: 'requested',
            generation: 1,
            observedGeneration: 0,
            retryPolicy: tenant.spec.retryPolicy,
            provider: 'fake',
          },
          phase: 'provisioning',
        });
        assert.match(second?.name ?? '', /^compute:provision#1$/);
        assert.deepEqual(await phaseReasons(fx, tenant.id, o.run.runId), [
          'ProvisionStarted',
          'ProvisionSucceeded',
        ]);
      }));

    test(`[${backend.name}] a run offered the tenant its reconcile read starts without reading it`, () => {
      const handoff = new TenantHandoff();
      return withFixture(
        async (fx) => {
          const tenant = await fx.createTenant({ image: 'app:1' });
          const runId = await fx.startRun(tenant, 'provision', { offer: tenant });
          const o = await observe(fx, tenant.id, await fx.finished(runId));
          assertReady(o, 1);
          assert.equal(handoff.size, 0, 'the offer was taken');
          assert.deepEqual(o.journal[0]?.result, { snapshot: toSnapshot(tenant), phase: 'provisioning' });
          // The compute step waits for the callback, then health and the settle read nothing: the
          // one read left is the compute step's after that wait (`freshTenant`), none at the start.
          const offered = fx.workflowTenantReads();
          const other = await fx.createTenant({ image: 'app:1' });
          assertReady(await observe(fx, other.id, await fx.runToEnd(other, 'provision')), 1);
          assert.equal(fx.workflowTenantReads() - offered, offered + 1, 'without an offer, the start reads');
        },
        { handoff },
      );
    });

    test(`[${backend.name}] an offered tenant changed since is not written over: the start reads it again`, () => {
      const handoff = new TenantHandoff();
      return withFixture(
        async (fx) => {
          const stale = await fx.createTenant({ image: 'app:1' });
          await db.store.tenants.change(stale.id, {
            actor: 'test',
            conditions: [{ type: 'Paused', status: 'False', reason: 'Resumed' }],
          });
          const runId = await fx.startRun(stale, 'provision', { offer: stale });
          const o = await observe(fx, stale.id, await fx.finished(runId));
          assertReady(o, 1);
          assert.equal(condition(o.tenant, 'Paused')?.reason, 'Resumed', 'the change made meanwhile stands');
          assert.ok(fx.workflowTenantReads() >= 1, 'the start read the tenant');
          assert.deepEqual(await phaseReasons(fx, stale.id, runId), [
            'ProvisionStarted',
            'ProvisionSucceeded',
          ]);
        },
        { handoff },
      );
    });

    const SHOW_CASES = [
      {
        reason: 'the tenant as the run knows it: the execution is shown by its insert',
        changedMeanwhile: false,
      },
      {
        reason: 'the tenant changed since the run read it: the step reads it again and shows the execution',
        changedMeanwhile: true,
      },
    ] as const;
    for (const { reason, changedMeanwhile } of SHOW_CASES) {
      test(`[${backend.name}] the compute step shows its execution on the tenant — ${reason}`, () => {
        const seen: (Tenant['status']['compute'] | undefined)[] = [];
        return withFixture(
          async (fx) => {
            const tenant = await fx.createTenant({ image: 'app:1' });
            const run = await fx.runToEnd(tenant, 'provision');
            const o = await observe(fx, tenant.id, run);
            assertReady(o, 1);
            const [execution] = o.executions;
            assert.equal(o.tenant.status.compute?.executionId, execution?.executionId, reason);
            if (changedMeanwhile)
              assert.equal(
                condition(o.tenant, 'Paused')?.reason,
                'Resumed',
                'the change made meanwhile stands',
              );
            // Right after the insert, before the step's own change: shown when the insert made it.
            const folded = !changedMeanwhile;
            assert.deepEqual(
              seen,
              [
                folded
                  ? { executionId: execution?.executionId, operation: 'provision', status: 'running' }
                  : null,
              ],
              reason,
            );
          },
          {
            wrapCompute: (compute) => ({
              get: (id) => compute.get(id),
              list: (query) => compute.list(query),
              describe: (t, trace) => compute.describe(t, trace),
              start: async (request) => {
                if (changedMeanwhile)
                  await db.store.tenants.change(request.tenant.id, {
                    actor: 'test',
                    conditions: [{ type: 'Paused', status: 'False', reason: 'Resumed' }],
                  });
                const started = await compute.start(request);
                seen.push((await db.store.tenants.get(request.tenant.id))?.status.compute);
                return started;
              },
            }),
          },
        );
      });
    }

    for (const c of DIED_RUNS) {
      test(`[${backend.name}] a run taken over from a process that died — ${c.reason}`, () =>
        withFixture(async (fx) => {
          const tenant = await fx.createTenant({ image: 'app:1' });
          const runId = await diedRun(fx, tenant, c, 1_000);
          const o = await observe(fx, tenant.id, await fx.finished(runId));
          assertReady(o, 1);
          assert.deepEqual(
            o.journal.slice(0, c.expected.length).map((s) => s.name),
            c.expected,
          );
          const started = o.journal.find((s) => s.name === 'start' || s.name === 'status:start')!;
          const phase =
            started.name === 'start' ? (started.result as { phase: string }).phase : started.result;
          assert.equal(phase, 'provisioning', 'the start found or made the working phase');
          assert.deepEqual(await phaseReasons(fx, tenant.id, runId), [
            'ProvisionStarted',
            'ProvisionSucceeded',
          ]);
          assert.equal(fx.fake.createCount(tenant.id), 1);
        }));
    }

    test(`[${backend.name}] update after ready: generation 2 is applied and observed`, () =>
      withFixture(async (fx) => {
        const tenant = await fx.createTenant({ image: 'app:1' });
        await fx.runToEnd(tenant, 'provision');
        const changed = await db.store.tenants.change(tenant.id, {
          actor: 'test',
          spec: { ...tenant.spec, config: { image: 'app:2' } },
        });
        assert.equal(changed.tenant.generation, 2);
        const run = await fx.runToEnd(changed.tenant, 'update');
        const o = await observe(fx, tenant.id, run);
        assertReady(o, 2);
        assert.deepEqual(
          o.executions.map((e) => `${e.operation}:g${e.generation}:${e.status}`),
          ['update:g2:succeeded'],
        );
        assert.equal(fx.fake.get(tenant.id)?.generation, 2);
        assert.equal((fx.fake.get(tenant.id)?.config as { image?: string }).image, 'app:2');
        assert.equal(fx.fake.createCount(tenant.id), 1, 'update reconfigures, it does not recreate');
      }));

    test(`[${backend.name}] update failing with onError rollback acts as fail: no delete, runtime and observedGeneration kept`, () =>
      withFixture(async (fx) => {
        const tenant = await fx.createTenant({ image: 'app:1' });
        await fx.runToEnd(tenant, 'provision');
        const changed = await db.store.tenants.change(tenant.id, {
          actor: 'test',
          spec: {
            ...tenant.spec,
            config: {
              image: 'app:2',
              faults: { failTimes: 1, failCode: 'CONFLICT', failOperations: ['update'] },
            },
            retryPolicy: { ...FAST_RETRY, onError: { CONFLICT: 'rollback' } },
          },
        });
        const run = await fx.runToEnd(changed.tenant, 'update');
        const o = await observe(fx, tenant.id, run);
        assert.equal(run.state, 'failed');
        assert.equal(o.tenant.status.phase, 'failed');
        assert.equal(o.tenant.status.observedGeneration, 1);
        assert.equal(o.tenant.status.lastError?.code, 'CONFLICT');
        assert.deepEqual(
          o.executions.map((e) => `${e.operation}:${e.status}`),
          ['update:failed'],
        );
        assert.equal((run.error as { details?: { reason?: string } }).details?.reason, 'UpdateFailed');
        assert.equal(fx.fake.runtimeCount(tenant.id), 1, 'the previous runtime is left running');
      }));

    test(`[${backend.name}] delete after ready: archived, runtime gone, endpoints cleared`, () =>
      withFixture(async (fx) => {
        const tenant = await fx.createTenant({ image: 'app:1' });
        await fx.runToEnd(tenant, 'provision');
        const run = await fx.runToEnd(tenant, 'delete');
        const o = await observe(fx, tenant.id, run);
        assert.equal(run.state, 'succeeded', JSON.stringify(run.error));
        assert.equal((run.output as { result: string }).result, 'archived');
        assert.equal(o.tenant.status.phase, 'archived');
        assert.deepEqual(o.tenant.status.endpoints, []);
        assert.deepEqual(o.tenant.status.resources, {});
        assert.equal(o.tenant.status.compute?.operation, 'delete');
        assert.equal(fx.fake.get(tenant.id), undefined);
        assert.equal(
          fx.fake.callCount('describe', tenant.id),
          1,
          'delete checks no health (only provision did)',
        );
      }));

    for (const c of DELETED_MID_RUN) {
      test(`[${backend.name}] deleted mid-run — ${c.reason}`, () =>
        withFixture(async (fx) => {
          const tenant = await fx.createTenant(c.config, c.retryPolicy);
          const runId = await fx.startRun(tenant, 'provision');
          if (c.deleteWhen !== 'in-wait') await inState(db.store, runId, c.deleteWhen, 5_000);
          else
            await eventually(
              async () =>
                (await db.store.steps.list(runId)).some((s) => s.kind === 'promise') ? true : undefined,
              5_000,
              `run ${runId} to wait for its callback`,
            );
          const requested = await db.store.tenants.change(tenant.id, {
            actor: 'test',
            phase: { to: 'deleting', reason: 'DeleteRequested' },
          });
          const run = await fx.finished(runId);
          assert.equal(run.state, 'succeeded', `stands down without error: ${JSON.stringify(run.error)}`);
          assert.deepEqual(run.output, { result: 'stood-down' });
          const during = await fx.tenant(tenant.id);
          assert.equal(during.status.phase, 'deleting', 'the delete request wins');
          assert.equal(
            during.version,
            requested.tenant.version,
            'the stale run wrote nothing after the delete request',
          );
          assert.equal(
            fx.fake.callCount('provision', tenant.id),
            1,
            'no provision attempt after the delete request',
          );
          assert.equal(fx.fake.runtimeCount(tenant.id), 0, 'no runtime made behind the delete');

          const deleted = await fx.runToEnd(tenant, 'delete');
          assert.equal(deleted.state, 'succeeded', JSON.stringify(deleted.error));
          assert.equal((await fx.tenant(tenant.id)).status.phase, 'archived');
          assert.equal(fx.fake.get(tenant.id), undefined);
        }));
    }

    test(`[${backend.name}] a provider that returns healthy: provision and update settle without a describe`, () =>
      withFixture(
        async (fx) => {
          const tenant = await fx.createTenant({ image: 'app:1' });
          const provisioned = await observe(fx, tenant.id, await fx.runToEnd(tenant, 'provision'));
          assertReady(provisioned, 1);
          const changed = await db.store.tenants.change(tenant.id, {
            actor: 'test',
            spec: { ...tenant.spec, config: { image: 'app:2' } },
          });
          const updated = await observe(fx, tenant.id, await fx.runToEnd(changed.tenant, 'update'));
          assertReady(updated, 2);
          assert.equal(fx.fake.callCount('describe', tenant.id), 0, 'the provider call was the health check');
          for (const o of [provisioned, updated]) {
            const names = o.journal.map((s) => s.name);
            assert.ok(
              !names.some((n) => /^(health|recorded):/.test(n)),
              `no extra step: ${names.join(', ')}`,
            );
          }
        },
        { provider: fakeCompute(5_000, true) },
      ));

    test(`[${backend.name}] a call gets the provider's configured timeout unless the policy sets one`, () =>
      withFixture(
        async (fx) => {
          const own = await fx.createTenant({ image: 'app:1' });
          const ownRun = await observe(fx, own.id, await fx.runToEnd(own, 'provision'));
          assertReady(ownRun, 1);
          assert.equal(
            ownRun.executions[0]!.timeoutMs,
            7_777,
            "the provider's timeout, not a policy default",
          );
          const capped = await fx.createTenant({ image: 'app:1' }, { ...FAST_RETRY, timeoutMs: 2_500 });
          const cappedRun = await observe(fx, capped.id, await fx.runToEnd(capped, 'provision'));
          assertReady(cappedRun, 1);
          assert.equal(cappedRun.executions[0]!.timeoutMs, 2_500, "the tenant's policy wins");
        },
        { provider: fakeCompute(7_777) },
      ));

    test(`[${backend.name}] lost callback: the run still finishes through the awaitCompute fallback query`, () =>
      withFixture(
        async (fx) => {
          await fx.dispatcher.stop();
          const tenant = await fx.createTenant({ image: 'app:1' }, { ...FAST_RETRY, timeoutMs: 100 });
          const run = await fx.runToEnd(tenant, 'provision');
          const o = await observe(fx, tenant.id, run);
          assertReady(o, 1);
          const executionId = o.executions[0]!.executionId;
          const wait = o.journal.find((s) => s.name === `execution:${executionId}#1`);
          assert.deepEqual(wait?.result, { resolved: false }, 'no callback reached the run');
          const query = o.journal.find((s) => s.name === `query:${executionId}#1.1`);
          assert.equal(query?.status, 'completed');
          assert.equal(
            (query?.result as { ok?: boolean } | null)?.ok,
            true,
            'the fallback query found the success',
          );
          const pending = await db.store.callbacks.list({ state: 'pending', limit: 500 });
          assert.ok(
            pending.items.some((c) => c.executionId === executionId),
            'the callback is still undelivered in the outbox',
          );
        },
        { awaitGraceMs: 50 },
      ));
  });
}
