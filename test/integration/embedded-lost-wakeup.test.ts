/**
 * Regression test for a liveness bug found by test/reliability/postgres-restart.test.ts: a durable
 * promise resolved while the run's executor could not read it (the database went away between the
 * resolution's commit and the woken run's read) leaves the run parked until its wait DEADLINE — for
 * a compute wait that is the provider timeout + grace, 125 s by default — although its callback was
 * delivered again after the database came back.
 *
 * Why: `EmbeddedWorkflowEngine.resolvePromise` returns early when `steps.resolvePromise` reports the
 * promise as already resolved, so the redelivery neither signals the run nor makes it due
 * (`wakeAt = now`); the stopped executor left the row `waiting` with `wakeAt` = the deadline, and
 * `claimDue` only takes runs whose `wakeAt` has passed. The same happens when Lessor is killed
 * between the promise insert and the wake-up. Deterministic here: a store wrapper fails exactly the
 * one read that follows the first resolution.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { UnavailableError } from '../../src/domain/errors.js';
import { silentLogger } from '../../src/domain/logger.js';
import { sqliteBackend, type TestDatabase } from '../../src/store/testing/test-databases.js';
import type { Store } from '../../src/store/store.js';
import { EmbeddedWorkflowEngine } from '../../src/workflow/embedded/embedded-engine.js';
import { sleep, waitFor } from '../support/wait.js';

const WAIT_TIMEOUT_MS = 60_000;

describe('embedded engine: a promise resolution whose wake-up was lost', () => {
  let db: TestDatabase | undefined;
  let engine: EmbeddedWorkflowEngine | undefined;

  before(async () => {
    db = await sqliteBackend.create();
  });
  after(async () => {
    await engine?.close(0);
    await db?.cleanup();
  });

  test('the redelivered callback resumes the run at once, not at the wait deadline', async () => {
    const store: Store = db!.store;
    const spec = {
      provider: 'fake',
      config: {},
      labels: {},
      annotations: {},
      retryPolicy: null,
      paused: false,
    };
    const tenantId = (await store.tenants.create({ name: 'lost-wakeup', spec, actor: 'test' })).id;
    let failReads = 0;
    const steps: Store['steps'] = Object.assign(Object.create(store.steps) as Store['steps'], {
      getPromise: async (runId: string, key: string) => {
        if (failReads > 0) {
          failReads -= 1;
          throw new UnavailableError('database unavailable (injected: the connection dropped)');
        }
        return store.steps.getPromise(runId, key);
      },
    });
    engine = new EmbeddedWorkflowEngine({
      store: { runs: store.runs, steps, appendEvent: (id, event) => store.appendEvent(id, event) },
      definitions: [
        {
          name: 'provision',
          run: async (ctx) => ctx.awaitPromise('execution:x#1', { timeoutMs: WAIT_TIMEOUT_MS }),
        },
      ],
      ownerId: 'owner-1',
      logger: silentLogger,
      leaseMs: 1_000,
      pollIntervalMs: 50,
    });
    await engine.open();
    const runId = `${tenantId}:provision:g1`;
    await engine.start({
      runId,
      workflow: 'provision',
      input: {},
      tenantId,
      action: 'provision',
      triggerSource: 'api',
      generation: 1,
      configHash: 'h',
    });
    await waitFor(
      'the run to wait on its promise',
      async () => (await store.runs.get(runId))?.state === 'waiting',
      { timeoutMs: 10_000 },
    );

    failReads = 1;
    await engine.resolvePromise(runId, 'execution:x#1', { status: 'succeeded' });
    await sleep(300);
    assert.equal(failReads, 0, 'the woken run tried to read the promise and failed');
    // The dispatcher delivers the callback again (it was not marked delivered).
    await engine.resolvePromise(runId, 'execution:x#1', { status: 'succeeded' });

    const resumedWithin = 10_000;
    const started = Date.now();
    await waitFor(
      `the run to finish within ${resumedWithin} ms (its wait deadline is ${WAIT_TIMEOUT_MS} ms)`,
      async () => (await store.runs.get(runId))?.state === 'succeeded',
      { timeoutMs: resumedWithin },
    ).catch(async (error: unknown) => {
      const run = await store.runs.get(runId);
      throw new Error(
        `${(error as Error).message}; run: state=${String(run?.state)} wakeAt in ${(run?.wakeAt ?? 0) - Date.now()} ms`,
        { cause: error },
      );
    });
    assert.ok(Date.now() - started < resumedWithin);
  });
});
