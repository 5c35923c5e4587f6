/**
 * The callback dispatcher on real databases: outbox rows are written exactly as the compute manager
 * writes them (`executions.transition(..., {callback})`), handed over after their commit or read
 * from the outbox, delivered to an engine, retried with backoff, parked as dead, redriven;
 * duplicate delivery changes nothing.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { callbackFor, newPendingExecution, type ExecutionPlan } from '../compute/execution-records.js';
import { fakeSpec } from '../compute/testing/manager-fixtures.js';
import {
  executionPromiseKey,
  type CallbackPayload,
  type CallbackRecord,
} from '../domain/compute-callback.js';
import { ComputeError } from '../domain/compute-error.js';
import { StoreUnavailableError } from '../domain/errors.js';
import { silentLogger, type Logger } from '../domain/logger.js';
import type { ExecutionStatus, Tenant } from '../domain/tenant.js';
import type { Store } from '../store/store.js';
import { backends, type TestDatabase } from '../store/testing/test-databases.js';
import { openEngine } from '../workflow/embedded/testing/engine-harness.js';
import { define, eventually, finished, inState } from '../workflow/testing/run-probes.js';
import type { WorkflowEngine } from '../workflow/engine.js';
import {
  CallbackDispatcher,
  type CallbackDispatcherDeps,
  type CallbackDispatcherOptions,
} from './callback-dispatcher.js';

interface ResolveCall {
  readonly runId: string;
  readonly key: string;
  readonly value: CallbackPayload;
}

/** Records every `resolvePromise`; throws `failure` while `failing` is set. */
class RecordingEngine implements Pick<WorkflowEngine, 'resolvePromise'> {
  readonly calls: ResolveCall[] = [];
  failing = false;
  failure: Error = new Error('engine unavailable');

  async resolvePromise(runId: string, key: string, value: unknown): Promise<void> {
    this.calls.push({ runId, key, value: value as CallbackPayload });
    await Promise.resolve();
    if (this.failing) throw this.failure;
  }

  keys(executionId: string): string[] {
    return this.calls.filter((c) => c.value.executionId === executionId).map((c) => c.key);
  }
}

/** One status change after `pending`, as the manager makes it (`running#2` = a retry's attempt 2). */
type Step = `${ExecutionStatus}#${number}`;

function newTenant(store: Store): Promise<Tenant> {
  return store.tenants.create({ name: `t-${randomUUID().slice(0, 8)}`, spec: fakeSpec(), actor: 'test' });
}

/**
 * An execution (of a new tenant unless given) taken along `path`, each transition writing its
 * callback row in the same transaction, as the compute manager does.
 */
async function executionAlong(
  store: Store,
  path: readonly Step[],
  ids: { tenant?: Tenant; executionId?: string; workflowRunId?: string } = {},
) {
  const tenant = ids.tenant ?? (await newTenant(store));
  const plan: ExecutionPlan = {
    executionId: ids.executionId ?? `ex-${tenant.id}-provision-g1-${randomUUID().slice(0, 8)}`,
    tenant: { id: tenant.id, name: tenant.name },
    operation: 'provision',
    workflowRunId: ids.workflowRunId ?? `${tenant.id}:provision:g1`,
    generation: 1,
    provider: 'fake',
    config: {},
    configHash: 'hash',
    timeoutMs: 1_000,
  };
  const { execution } = await store.executions.insertIfAbsent(
    newPendingExecution(plan, Date.now(), 'test', 60_000),
  );
  let from: ExecutionStatus = 'pending';
  for (const step of path) {
    const [to, attempt] = step.split('#') as [ExecutionStatus, string];
    const at = new Date().toISOString();
    const error = to === 'failed' ? new ComputeError('PROVIDER_TIMEOUT', 'slow').toJSON() : null;
    const resources: Record<string, string> = to === 'succeeded' ? { runtimeId: 'rt-1' } : {};
    const moved = await store.executions.transition(execution.executionId, {
      from: [from],
      to,
      attempt: Number(attempt),
      at,
      error,
      ...(to === 'succeeded' && { resources }),
      callback: callbackFor(execution, { status: to, attempt: Number(attempt), at, resources, error }),
    });
    assert.ok(moved, `transition ${from} → ${to}`);
    from = to;
  }
  return { tenantId: tenant.id, executionId: execution.executionId, workflowRunId: plan.workflowRunId };
}

async function callbacksOf(store: Store, executionId: string): Promise<CallbackRecord[]> {
  const page = await store.callbacks.list({ limit: 500 });
  return page.items.filter((c) => c.executionId === executionId);
}

function allDelivered(store: Store, executionId: string): Promise<CallbackRecord[]> {
  return eventually(
    async () => {
      const rows = await callbacksOf(store, executionId);
      return rows.length > 0 && rows.every((c) => c.state === 'delivered') ? rows : undefined;
    },
    5_000,
    `callbacks of ${executionId} delivered`,
  );
}

const FAST: CallbackDispatcherOptions = {
  maxAttempts: 3,
  initialBackoffMs: 10,
  maxBackoffMs: 50,
  pollIntervalMs: 20,
};

interface DeliveryCase {
  readonly reason: string;
  readonly path: readonly Step[];
  /** Promise keys the engine is asked to resolve, by attempt and settled status. */
  readonly resolves: readonly string[];
}

const DELIVERIES: readonly DeliveryCase[] = [
  {
    reason: 'a success resolves the attempt’s promise once',
    path: ['running#1', 'succeeded#1'],
    resolves: ['succeeded#1'],
  },
  {
    reason: 'a failure resolves the attempt’s promise once',
    path: ['running#1', 'failed#1'],
    resolves: ['failed#1'],
  },
  {
    reason: 'a retried execution resolves one promise per attempt',
    path: ['running#1', 'failed#1', 'running#2', 'succeeded#2'],
    resolves: ['failed#1', 'succeeded#2'],
  },
  {
    reason: 'a running (unsettled) callback is delivered without an engine call',
    path: ['running#1'],
    resolves: [],
  },
];

/** A pino logger (as in production) writing JSON lines into `records`. */
function pinoRecorder(): { logger: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const stream = { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) };
  return { logger: pino({ level: 'debug' }, stream), records };
}

for (const backend of backends()) {
  describe(`[${backend.name}] callback dispatcher`, () => {
    let db: TestDatabase;
    before(async () => {
      db = await backend.create();
    });
    after(() => db.cleanup());

    for (const c of DELIVERIES) {
      test(`[${backend.name}] ${c.reason}; every row is marked delivered`, async () => {
        const engine = new RecordingEngine();
        const dispatcher = new CallbackDispatcher(
          { callbacks: db.store.callbacks, engine, logger: silentLogger },
          FAST,
        );
        try {
          const { executionId, workflowRunId } = await executionAlong(db.store, c.path);
          dispatcher.start();
          const rows = await allDelivered(db.store, executionId);
          assert.equal(rows.length, c.path.length, 'one outbox row per transition');
          assert.ok(rows.every((r) => r.deliveredAt !== null && r.attempts === 0));
          dispatcher.wake();
          await new Promise((resolve) => setTimeout(resolve, 30));
          const calls = engine.calls.filter((call) => call.value.executionId === executionId);
          assert.deepEqual(
            calls.map((call) => call.key),
            c.resolves.map((s) => executionPromiseKey(executionId, Number(s.split('#')[1]))),
            'delivered rows are not sent again',
          );
          assert.deepEqual(
            calls.map((call) => `${call.value.status}#${call.value.attempt}`),
            c.resolves,
          );
          assert.ok(calls.every((call) => call.runId === workflowRunId));
        } finally {
          await dispatcher.stop();
        }
      });
    }

    test(`[${backend.name}] rows handed over after their commit are delivered without reading the outbox`, async () => {
      const engine = new RecordingEngine();
      let listed = 0;
      const callbacks: CallbackDispatcherDeps['callbacks'] = {
        listDue: (now, limit) => {
          listed += 1;
          return db.store.callbacks.listDue(now, limit);
        },
        markDelivered: (ids, at) => db.store.callbacks.markDelivered(ids, at),
        markAttemptFailed: (id, update) => db.store.callbacks.markAttemptFailed(id, update),
        nextDueAt: () => db.store.callbacks.nextDueAt(),
      };
      const dispatcher = new CallbackDispatcher(
        { callbacks, engine, logger: silentLogger },
        { ...FAST, pollIntervalMs: 3_600_000 },
      );
      const stop = db.store.changes.subscribeCallbacks((handed) => dispatcher.handOff(handed));
      try {
        dispatcher.start();
        await eventually(() => (listed === 1 ? true : undefined), 5_000, 'the start reads the outbox');
        const { executionId } = await executionAlong(db.store, [
          'running#1',
          'failed#1',
          'running#2',
          'succeeded#2',
        ]);
        const rows = await allDelivered(db.store, executionId);
        assert.equal(rows.length, 4);
        assert.deepEqual(engine.keys(executionId), [
          executionPromiseKey(executionId, 1),
          executionPromiseKey(executionId, 2),
        ]);
        assert.equal(listed, 1, 'no read of the outbox after the start');
      } finally {
        stop();
        await dispatcher.stop();
      }
    });

    test(`[${backend.name}] a row nobody handed over (a crash before the hand-over, another replica) is delivered by the poll`, async () => {
      const engine = new RecordingEngine();
      const dispatcher = new CallbackDispatcher(
        { callbacks: db.store.callbacks, engine, logger: silentLogger },
        FAST,
      );
      try {
        dispatcher.start();
        const { executionId } = await executionAlong(db.store, ['running#1', 'succeeded#1']);
        await allDelivered(db.store, executionId);
        assert.deepEqual(engine.keys(executionId), [executionPromiseKey(executionId, 1)]);
      } finally {
        await dispatcher.stop();
      }
    });

    test(`[${backend.name}] a hand-over to a stopped dispatcher is dropped; the row is delivered after the start`, async () => {
      const engine = new RecordingEngine();
      const dispatcher = new CallbackDispatcher(
        { callbacks: db.store.callbacks, engine, logger: silentLogger },
        { ...FAST, pollIntervalMs: 3_600_000 },
      );
      const stop = db.store.changes.subscribeCallbacks((handed) => dispatcher.handOff(handed));
      try {
        const { executionId } = await executionAlong(db.store, ['running#1', 'succeeded#1']);
        assert.deepEqual(
          (await callbacksOf(db.store, executionId)).map((r) => r.state),
          ['delivered', 'pending'],
        );
        dispatcher.start();
        await allDelivered(db.store, executionId);
        assert.deepEqual(engine.keys(executionId), [executionPromiseKey(executionId, 1)]);
      } finally {
        stop();
        await dispatcher.stop();
      }
    });

    test(`[${backend.name}] engine failures back off, the last attempt parks the row as dead, redrive delivers it`, async () => {
      const engine = new RecordingEngine();
      engine.failing = true;
      const { logger, records } = pinoRecorder();
      let clock = Date.now() + 1_000;
      const dispatcher = new CallbackDispatcher(
        { callbacks: db.store.callbacks, engine, logger, now: () => clock },
        { maxAttempts: 3, initialBackoffMs: 100, maxBackoffMs: 150, pollIntervalMs: 20 },
      );
      try {
        const { executionId } = await executionAlong(db.store, ['running#1', 'succeeded#1']);
        const settled = async () =>
          (await callbacksOf(db.store, executionId)).find((r) => r.payload.status === 'succeeded')!;
        const withAttempts = (n: number) =>
          eventually(
            async () => ((await settled()).attempts === n ? settled() : undefined),
            5_000,
            `${n} attempts`,
          );
        dispatcher.start();

        const first = await withAttempts(1);
        assert.equal(first.state, 'pending');
        assert.equal(first.nextAttemptAt, clock + 100, 'first backoff: initialBackoffMs');
        assert.equal(first.lastError, 'engine unavailable');
        await new Promise((resolve) => setTimeout(resolve, 60));
        assert.equal((await settled()).attempts, 1, 'not retried before it is due');

        clock += 100;
        dispatcher.wake();
        const second = await withAttempts(2);
        assert.equal(second.state, 'pending');
        assert.equal(second.nextAttemptAt, clock + 150, 'doubled, capped at maxBackoffMs');

        clock += 150;
        dispatcher.wake();
        const dead = await withAttempts(3);
        assert.equal(dead.state, 'dead');
        const parked = await db.store.callbacks.list({ state: 'dead', limit: 500 });
        assert.deepEqual(
          parked.items.filter((r) => r.executionId === executionId).map((r) => r.id),
          [dead.id],
        );
        assert.equal(engine.keys(executionId).length, 3);
        const failures = records.filter((r) => r.msg === 'callback delivery failed');
        assert.deepEqual(
          failures.map((r) => `${String(r.level)}:${String(r.dead)}`),
          ['40:false', '40:false', '50:true'],
          'warn while retrying, error when parked',
        );

        engine.failing = false;
        assert.equal(await db.store.callbacks.redrive(dead.id, clock), true);
        dispatcher.wake();
        await allDelivered(db.store, executionId);
        assert.deepEqual(engine.keys(executionId), Array(4).fill(executionPromiseKey(executionId, 1)));
      } finally {
        await dispatcher.stop();
      }
    });

    test(`[${backend.name}] a delivery that fails on an unavailable store counts no attempt: nothing is parked as dead`, async () => {
      const engine = new RecordingEngine();
      engine.failing = true;
      engine.failure = new StoreUnavailableError('database unavailable: database or disk is full');
      const dispatcher = new CallbackDispatcher(
        { callbacks: db.store.callbacks, engine, logger: silentLogger },
        FAST,
      );
      try {
        const { executionId } = await executionAlong(db.store, ['running#1', 'succeeded#1']);
        dispatcher.start();
        await eventually(
          () => engine.keys(executionId).length >= 2 * FAST.maxAttempts || undefined,
          5_000,
          'deliveries tried more often than maxAttempts',
        );
        const settled = (await callbacksOf(db.store, executionId)).find(
          (r) => r.payload.status === 'succeeded',
        );
        assert.deepEqual([settled?.state, settled?.attempts], ['pending', 0]);
        engine.failing = false;
        await allDelivered(db.store, executionId);
      } finally {
        await dispatcher.stop();
      }
    });

    test(`[${backend.name}] two dispatchers deliver the same row: the engine sees it twice, the promise keeps the first value`, async () => {
      const tenant = await newTenant(db.store);
      const runId = `${tenant.id}:provision:g1`;
      let key = '';
      const flow = define(
        'provision',
        async (ctx) => (await ctx.awaitPromise(key, { timeoutMs: 10_000 })).value,
      );
      const engine = openEngine(db.store, [flow]);
      const calls: string[] = [];
      // Hold each delivery until both dispatchers have made theirs, so the duplicate really happens.
      const racing: Pick<WorkflowEngine, 'resolvePromise'> = {
        async resolvePromise(run, k, value) {
          calls.push(k);
          await eventually(() => (calls.filter((c) => c === k).length >= 2 ? true : undefined), 1_000).catch(
            () => {},
          );
          await engine.resolvePromise(run, k, value);
        },
      };
      const dispatchers = [1, 2].map(
        () =>
          new CallbackDispatcher(
            { callbacks: db.store.callbacks, engine: racing, logger: silentLogger },
            FAST,
          ),
      );
      try {
        await engine.open();
        const executionId = `ex-${tenant.id}-provision-g1-dup`;
        key = executionPromiseKey(executionId, 1);
        await engine.start({ runId, workflow: 'provision', input: null });
        await inState(db.store, runId, 'waiting');
        await executionAlong(db.store, ['running#1', 'succeeded#1'], {
          tenant,
          executionId,
          workflowRunId: runId,
        });

        for (const dispatcher of dispatchers) dispatcher.start();
        const run = await finished(db.store, runId);
        await allDelivered(db.store, executionId);

        const settled = (await callbacksOf(db.store, executionId)).find(
          (r) => r.payload.status === 'succeeded',
        )!;
        assert.equal(calls.filter((k) => k === key).length, 2, 'both dispatchers delivered the settled row');
        assert.equal(run.state, 'succeeded');
        assert.deepEqual(run.output, settled.payload, 'the run resumed once, with the callback');
        assert.deepEqual((await db.store.steps.getPromise(runId, key))?.value, settled.payload);

        const late = { ...settled.payload, status: 'failed' };
        await engine.resolvePromise(runId, key, late);
        assert.equal(await db.store.steps.resolvePromise(runId, key, late, new Date().toISOString()), false);
        assert.deepEqual(
          (await db.store.steps.getPromise(runId, key))?.value,
          settled.payload,
          'first value wins',
        );
        const promises = (await engine.journal(runId)).filter((s) => s.kind === 'promise');
        assert.equal(promises.length, 1);
      } finally {
        await Promise.all(dispatchers.map((d) => d.stop()));
        await engine.close(0);
      }
    });
  });
}
