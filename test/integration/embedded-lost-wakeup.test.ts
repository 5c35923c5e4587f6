/**
 * Regression tests for a liveness bug found by the PostgreSQL-restart, crash-restart and crash-sweep
 * suites: a run waiting in memory on a durable promise whose resolution was STORED but whose wake-up
 * was lost stays parked until its wait DEADLINE — for a compute wait the provider timeout + grace,
 * 125 s by default — instead of resuming at once.
 *
 * 1. The executor stopped on a store error after the resolution was stored (the database dropped
 *    between the resolution's commit and the woken run's next write — once its read of the promise,
 *    now that the value is handed over in memory, its journal write of the outcome); the callback is
 *    delivered again later. Fixed in 6f8be7f: a duplicate resolution now wakes the run.
 * 2. The process holding the run DIED after the dispatcher stored the resolution and marked the
 *    callback delivered (kill -9), so there is no redelivery. The row stays `waiting` with `wakeAt` =
 *    the deadline and an expired lease; `claimDue` (src/store/workflow-run-repository.ts) took only
 *    runs whose `wakeAt` had passed, so no other process took the run over before the deadline.
 *    Fixed: `claimDue` also claims active runs whose lease expired (`lease_owner` set and
 *    `lease_expires_at < now`) whatever their `wakeAt`; the new owner re-reads the promise.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { UnavailableError } from '../../src/domain/errors.js';
import { silentLogger } from '../../src/domain/logger.js';
import { sqliteBackend, type TestDatabase } from '../../src/store/testing/test-databases.js';
import type { Store } from '../../src/store/store.js';
import { EmbeddedWorkflowEngine } from '../../src/workflow/embedded/embedded-engine.js';
import type { EmbeddedStore } from '../../src/workflow/embedded/options.js';
import { sleep, waitFor } from '../support/wait.js';

const WAIT_TIMEOUT_MS = 60_000;
const RESUMED_WITHIN_MS = 10_000;
const KEY = 'execution:x#1';

describe('embedded engine: a promise resolution whose wake-up was lost', () => {
  let db: TestDatabase | undefined;
  const engines: EmbeddedWorkflowEngine[] = [];

  before(async () => {
    db = await sqliteBackend.create();
  });
  after(async () => {
    for (const engine of engines) await engine.close(0).catch(() => undefined);
    await db?.cleanup();
  });

  function openEngine(owner: string, store: EmbeddedStore): Promise<EmbeddedWorkflowEngine> {
    const engine = new EmbeddedWorkflowEngine({
      store,
      definitions: [
        { name: 'wait', run: async (ctx) => ctx.awaitPromise(KEY, { timeoutMs: WAIT_TIMEOUT_MS }) },
      ],
      ownerId: owner,
      logger: silentLogger,
      leaseMs: 1_000,
      pollIntervalMs: 50,
    });
    engines.push(engine);
    return engine.open().then(() => engine);
  }

  /** Starts a run on `engine` and waits until it waits on its promise; returns the run id. */
  async function waitingRun(engine: EmbeddedWorkflowEngine, name: string): Promise<string> {
    const store: Store = db!.store;
    const runId = `${name}:wait`;
    await engine.start({ runId, workflow: 'wait', input: {} });
    await waitFor(
      'the run to wait on its promise',
      async () => (await store.runs.get(runId))?.state === 'waiting',
      { timeoutMs: 10_000 },
    );
    return runId;
  }

  async function expectResumed(runId: string): Promise<void> {
    const started = Date.now();
    await waitFor(
      `the run to finish within ${RESUMED_WITHIN_MS} ms (its wait deadline is ${WAIT_TIMEOUT_MS} ms)`,
      async () => (await db!.store.runs.get(runId))?.state === 'succeeded',
      { timeoutMs: RESUMED_WITHIN_MS },
    ).catch(async (error: unknown) => {
      const run = await db!.store.runs.get(runId);
      const detail = `run: state=${String(run?.state)} wakeAt in ${(run?.wakeAt ?? 0) - Date.now()} ms, lease ${String(run?.leaseOwner)}`;
      throw new Error(`${(error as Error).message}; ${detail}`, { cause: error });
    });
    assert.ok(Date.now() - started < RESUMED_WITHIN_MS);
  }

  test('a redelivered callback resumes a run whose executor stopped on a store error', async () => {
    const store: Store = db!.store;
    let failWrites = 0;
    const steps: Store['steps'] = Object.assign(Object.create(store.steps) as Store['steps'], {
      finish: async (...args: Parameters<Store['steps']['finish']>) => {
        if (failWrites > 0) {
          failWrites -= 1;
          throw new UnavailableError('database unavailable (injected: the connection dropped)');
        }
        return store.steps.finish(...args);
      },
    });
    const engine = await openEngine('owner-1', { runs: store.runs, steps });
    const runId = await waitingRun(engine, 'lost-wakeup-store');
    failWrites = 1;
    await engine.resolvePromise(runId, KEY, { status: 'succeeded' });
    await sleep(300);
    assert.equal(failWrites, 0, 'the woken run tried to journal the outcome and failed');
    await engine.resolvePromise(runId, KEY, { status: 'succeeded' }); // the dispatcher delivers again
    await expectResumed(runId);
  });

  test('a run whose process died after its promise was stored is taken over when the lease expires', async () => {
    const store: Store = db!.store;
    let dead = false;
    /** The dying process's view of the store: every call fails once it is dead (it does nothing more). */
    const mortal = <T extends object>(target: T): T =>
      new Proxy(target, {
        get(object, property, receiver) {
          const value: unknown = Reflect.get(object, property, receiver);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) =>
            dead
              ? Promise.reject(new UnavailableError('the process is dead'))
              : (value as (...a: unknown[]) => unknown).apply(object, args);
        },
      });
    const doomed = await openEngine('owner-a', { runs: mortal(store.runs), steps: mortal(store.steps) });
    const runId = await waitingRun(doomed, 'lost-wakeup-kill');
    // The dispatcher in that process stored the resolution and marked the callback delivered; then kill -9.
    await store.steps.resolvePromise(runId, KEY, { status: 'succeeded' }, new Date().toISOString());
    dead = true;
    await openEngine('owner-b', store); // the restarted process
    await expectResumed(runId);
  });
});
