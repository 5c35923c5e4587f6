/**
 * The embedded engine's behaviour on one process, on the in-memory fake and on real SQLite and
 * PostgreSQL databases. Timings are logged as diagnostics, never asserted.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StepFailedError, TerminalWorkflowError } from '../context.js';
import {
  define,
  Effects,
  eventually,
  finished,
  Gate,
  inState,
  inWorld,
  runEvents,
  startRequest,
  worldBackends,
} from './testing/engine-harness.js';

class CodedError extends Error {
  constructor(readonly code: string) {
    super(`failed with ${code}`);
    this.name = 'CodedError';
  }
}

for (const backend of worldBackends()) {
  describe(`embedded engine [${backend.name}]`, () => {
    test('runs each step once, journals it, stores the output and a RunStateChanged event', () =>
      inWorld(backend, async (world, engine) => {
        const effects = new Effects();
        const flow = define('provision', async (ctx, input) => {
          const a = await ctx.step('a', async () => (effects.hit('a'), (input as { base: number }).base));
          const b = await ctx.step('b', async () => (effects.hit('b'), a + 1));
          await ctx.step('nothing', async () => undefined);
          return { sum: b };
        });
        const e = await engine([flow]);
        const tenantId = await world.newTenant();
        const { run, created } = await e.start(startRequest(tenantId, { base: 41 }));
        assert.equal(created, true);
        const done = await finished(world.store, run.runId);
        assert.deepEqual(
          [done.state, done.output, done.attempt, done.leaseOwner, done.wakeAt],
          ['succeeded', { sum: 42 }, 1, null, null],
        );
        assert.ok(done.finishedAt);
        const journal = await e.journal(run.runId);
        assert.deepEqual(
          journal.map((s) => [s.seq, s.name, s.kind, s.status, s.result]),
          [
            [1, 'a', 'step', 'completed', 41],
            [2, 'b', 'step', 'completed', 42],
            [3, 'nothing', 'step', 'completed', null],
          ],
        );
        assert.deepEqual([effects.count('a'), effects.count('b')], [1, 1]);
        assert.deepEqual(await runEvents(world, tenantId, 1), [
          { runId: run.runId, action: 'provision', state: 'succeeded', attempt: 1 },
        ]);
      }));

    test('start is idempotent: a second start, during or after the run, executes nothing new', () =>
      inWorld(backend, async (world, engine) => {
        const effects = new Effects();
        const gate = new Gate();
        const e = await engine([
          define('provision', async (ctx) =>
            ctx.step('once', async () => (effects.hit('once'), await gate.opened)),
          ),
        ]);
        const request = startRequest(await world.newTenant());
        assert.equal((await e.start(request)).created, true);
        await eventually(() => (effects.count('once') === 1 ? true : undefined));
        assert.equal((await e.start(request)).created, false);
        gate.open();
        await finished(world.store, request.runId);
        const again = await e.start(request);
        assert.deepEqual([again.created, again.run.state], [false, 'succeeded']);
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.equal(effects.count('once'), 1);
      }));

    test('concurrent starts create one run and execute it once', () =>
      inWorld(backend, async (world, engine) => {
        const effects = new Effects();
        const e = await engine([
          define('provision', async (ctx) => ctx.step('once', async () => effects.hit('once'))),
        ]);
        const request = startRequest(await world.newTenant());
        const results = await Promise.all(Array.from({ length: 8 }, () => e.start(request)));
        assert.equal(results.filter((r) => r.created).length, 1);
        assert.equal(new Set(results.map((r) => r.run.runId)).size, 1);
        await finished(world.store, request.runId);
        assert.equal(effects.count('once'), 1);
      }));

    test('a failed step is rethrown as StepFailedError with the original name and details', () =>
      inWorld(backend, async (world, engine) => {
        const e = await engine([
          define('provision', async (ctx) => {
            try {
              await ctx.step('flaky', () => Promise.reject(new CodedError('CONFLICT')));
              return 'not reached';
            } catch (error) {
              assert.ok(error instanceof StepFailedError);
              return { stepName: error.stepName, errorName: error.errorName, details: error.details };
            }
          }),
        ]);
        const { run } = await e.start(startRequest(await world.newTenant()));
        const done = await finished(world.store, run.runId);
        assert.deepEqual(done.output, {
          stepName: 'flaky',
          errorName: 'CodedError',
          details: { code: 'CONFLICT' },
        });
        const [entry] = await e.journal(run.runId);
        assert.deepEqual(
          [entry?.status, entry?.error],
          ['failed', { name: 'CodedError', message: 'failed with CONFLICT', details: { code: 'CONFLICT' } }],
        );
      }));

    test('TerminalWorkflowError fails the run with its message and details', () =>
      inWorld(backend, async (world, engine) => {
        const e = await engine([
          define('provision', async (ctx) =>
            ctx.step('fatal', () =>
              Promise.reject(new TerminalWorkflowError('bad image', { code: 'IMAGE_UNAVAILABLE' })),
            ),
          ),
        ]);
        const tenantId = await world.newTenant();
        const { run } = await e.start(startRequest(tenantId));
        const done = await finished(world.store, run.runId);
        assert.equal(done.state, 'failed');
        assert.deepEqual(done.error, {
          name: 'TerminalWorkflowError',
          message: 'bad image',
          details: { code: 'IMAGE_UNAVAILABLE' },
        });
        assert.deepEqual(
          (await runEvents(world, tenantId, 1)).map((d) => d.state),
          ['failed'],
        );
      }));

    test('a promise resolved before the wait starts is seen at once', () =>
      inWorld(backend, async (world, engine) => {
        const effects = new Effects();
        const gate = new Gate();
        const e = await engine([
          define('provision', async (ctx) => {
            await ctx.step('before', async () => (effects.hit('before'), await gate.opened));
            return ctx.awaitPromise('callback', { timeoutMs: 30_000 });
          }),
        ]);
        const { run } = await e.start(startRequest(await world.newTenant()));
        await eventually(() => (effects.count('before') === 1 ? true : undefined));
        await e.resolvePromise(run.runId, 'callback', { status: 'succeeded' });
        gate.open();
        const done = await finished(world.store, run.runId);
        assert.deepEqual(done.output, { resolved: true, value: { status: 'succeeded' } });
        const journal = await e.journal(run.runId);
        assert.deepEqual(
          journal.map((s) => [s.name, s.kind, s.status]),
          [
            ['before', 'step', 'completed'],
            ['callback', 'promise', 'completed'],
          ],
        );
      }));

    test('a promise resolved during the wait wakes the run', (t) =>
      inWorld(backend, async (world, engine) => {
        const e = await engine([
          define('provision', async (ctx) => ctx.awaitPromise('callback', { timeoutMs: 30_000 })),
        ]);
        const { run } = await e.start(startRequest(await world.newTenant()));
        await inState(world.store, run.runId, 'waiting');
        const resolvedAt = performance.now();
        await e.resolvePromise(run.runId, 'callback', 7);
        const done = await finished(world.store, run.runId);
        t.diagnostic(
          `[${backend.name}] resolve → succeeded in ${(performance.now() - resolvedAt).toFixed(1)} ms`,
        );
        assert.deepEqual(done.output, { resolved: true, value: 7 });
      }));

    test('a wait that nobody resolves times out with resolved=false', () =>
      inWorld(backend, async (world, engine) => {
        const e = await engine([
          define('provision', async (ctx) => ctx.awaitPromise('callback', { timeoutMs: 150 })),
        ]);
        const { run } = await e.start(startRequest(await world.newTenant()));
        const done = await finished(world.store, run.runId);
        assert.deepEqual(done.output, { resolved: false });
        const [entry] = await e.journal(run.runId);
        assert.deepEqual([entry?.status, entry?.result], ['completed', { resolved: false }]);
      }));

    test('duplicate and late resolutions change nothing and do not throw', () =>
      inWorld(backend, async (world, engine) => {
        const e = await engine([
          define('provision', async (ctx) => ctx.awaitPromise('callback', { timeoutMs: 30_000 })),
        ]);
        const { run } = await e.start(startRequest(await world.newTenant()));
        await inState(world.store, run.runId, 'waiting');
        await Promise.all([
          e.resolvePromise(run.runId, 'callback', 'first'),
          e.resolvePromise(run.runId, 'callback', 'second'),
        ]);
        const done = await finished(world.store, run.runId);
        const first = (done.output as { value: string }).value;
        assert.ok(first === 'first' || first === 'second');
        await e.resolvePromise(run.runId, 'callback', 'late');
        await e.resolvePromise(run.runId, 'other-key', 'late');
        await e.resolvePromise('no-such-run', 'callback', 'late');
        assert.deepEqual(await e.getRun(run.runId), done);
        assert.equal((await world.store.steps.getPromise(run.runId, 'callback'))?.value, first);
        assert.equal(await world.store.steps.getPromise(run.runId, 'other-key'), undefined);
      }));

    for (const { reason, maxInMemorySleepMs } of [
      { reason: 'sleeping in memory', maxInMemorySleepMs: 60_000 },
      { reason: 'suspended in the database', maxInMemorySleepMs: 10 },
    ]) {
      test(`cancel stops a run ${reason} at once`, () =>
        inWorld(backend, async (world, engine) => {
          const effects = new Effects();
          const e = await engine(
            [
              define('provision', async (ctx) => {
                await ctx.sleep('backoff', 30_000);
                await ctx.step('after', async () => effects.hit('after'));
              }),
            ],
            { maxInMemorySleepMs },
          );
          const tenantId = await world.newTenant();
          const { run } = await e.start(startRequest(tenantId));
          await inState(world.store, run.runId, 'backing-off');
          assert.equal(await e.cancel(run.runId, 'superseded by generation 2'), true);
          const done = await finished(world.store, run.runId, 1000);
          assert.equal(done.state, 'cancelled');
          assert.equal(await e.cancel(run.runId, 'again'), false);
          await new Promise((resolve) => setTimeout(resolve, 100));
          assert.equal(effects.count('after'), 0);
          assert.deepEqual((await runEvents(world, tenantId, 2)).map((d) => d.state).sort(), [
            'backing-off',
            'cancelled',
          ]);
        }));
    }

    test('waits beyond maxConcurrentRuns suspend in the database and still complete', () =>
      inWorld(backend, async (world, engine) => {
        const e = await engine(
          [define('provision', async (ctx) => ctx.awaitPromise('callback', { timeoutMs: 30_000 }))],
          { maxConcurrentRuns: 2 },
        );
        const runs = await Promise.all(
          Array.from({ length: 6 }, async () => (await e.start(startRequest(await world.newTenant()))).run),
        );
        for (const run of runs) await inState(world.store, run.runId, 'waiting');
        const leased = await Promise.all(
          runs.map(async (r) => (await world.store.runs.get(r.runId))?.leaseOwner ?? null),
        );
        assert.ok(leased.filter((owner) => owner === null).length >= 4, 'at most 2 waits held in memory');
        await Promise.all(runs.map((r, i) => e.resolvePromise(r.runId, 'callback', i)));
        const outputs = await Promise.all(
          runs.map(async (r) => (await finished(world.store, r.runId)).output),
        );
        assert.deepEqual(
          outputs,
          runs.map((_, i) => ({ resolved: true, value: i })),
        );
      }));
  });
}
