/**
 * The embedded engine on one process, on the in-memory fake and on real SQLite and PostgreSQL
 * databases: the engine conformance suite, then what only this engine does — waits beyond its
 * in-memory limits suspend in the database. Crashes, restarts and several engines on one database
 * are in embedded-recovery.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runEngineConformance } from '../testing/engine-conformance.js';
import { define, delay, Effects, finished, inState, RecordingObserver } from '../testing/run-probes.js';
import { embeddedTarget, inWorld, startRequest, worldBackends } from './testing/engine-harness.js';

for (const backend of worldBackends()) {
  runEngineConformance(embeddedTarget(backend));

  describe(`embedded engine [${backend.name}]`, () => {
    test('cancel stops a run suspended in the database at once', () =>
      inWorld(backend, async (world, engine) => {
        const effects = new Effects();
        const seen = new RecordingObserver();
        const flow = define('nap', async (ctx) => {
          await ctx.sleep('backoff', 30_000);
          await ctx.step('after', async () => effects.hit('after'));
        });
        const e = await engine([flow], { maxInMemorySleepMs: 10, observer: seen });
        const { run } = await e.start(startRequest('nap'));
        const sleeping = await inState(world.store, run.runId, 'backing-off');
        assert.equal(sleeping.leaseOwner, null, 'released to sleep in the database');
        assert.equal(await e.cancel(run.runId, 'superseded by generation 2'), true);
        assert.equal((await finished(world.store, run.runId, 1000)).state, 'cancelled');
        await delay(100);
        assert.equal(effects.count('after'), 0);
        assert.deepEqual(seen.states(run.runId), ['pending', 'backing-off', 'cancelled']);
      }));

    test('a held-back entry another owner journaled first drops the end; the takeover replays theirs', () =>
      inWorld(backend, async (world, engine) => {
        const effects = new Effects();
        const flow = define('last-step', async (ctx) =>
          ctx.step('a', async () => (effects.hit('a'), 'ours')),
        );
        // Just before the end (which carries the held-back entry of `a`), another owner journals `a`.
        let intruded = false;
        const runs = world.store.runs;
        const recordEnd: typeof runs.recordEnd = async (runId, end) => {
          for (const step of end.steps) {
            intruded = true;
            await world.store.steps.record({ ...step, result: 'theirs', startedAt: 'another owner' });
          }
          return runs.recordEnd(runId, end);
        };
        const store = {
          ...world.store,
          runs: new Proxy(runs, {
            get: (target, property) => {
              if (property === 'recordEnd') return recordEnd;
              const value: unknown = Reflect.get(target, property, target);
              return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
            },
          }),
        };
        const e = await engine([flow], { store });
        const { run } = await e.start(startRequest('last-step'));
        await delay(300);
        assert.ok(intruded, 'the end carried the held-back entry');
        assert.ok(!['succeeded', 'failed'].includes((await world.store.runs.get(run.runId))!.state));
        // Once the lease expires the run is taken over (here by the same process) and replays `a`.
        const done = await finished(world.store, run.runId, 5000);
        assert.deepEqual([done.state, done.output, effects.count('a')], ['succeeded', 'theirs', 1]);
      }));

    test('waits beyond maxConcurrentRuns suspend in the database and still complete', () =>
      inWorld(backend, async (world, engine) => {
        const flow = define('wait', async (ctx) => ctx.awaitPromise('callback', { timeoutMs: 30_000 }));
        const e = await engine([flow], { maxConcurrentRuns: 2 });
        const runs = await Promise.all(
          Array.from({ length: 6 }, async () => (await e.start(startRequest('wait'))).run),
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
