/** Conformance: durable promises and sleeps. */
import assert from 'node:assert/strict';
import { define, Effects, finished, Gate, inState, RecordingObserver } from '../run-probes.js';
import { startRequest, type ConformanceTest } from './target.js';

export function promiseCases(it: ConformanceTest): void {
  it('a promise resolved before the wait starts is seen at once; an unresolved wait times out', async (world) => {
    const gate = new Gate();
    const effects = new Effects();
    const engine = await world.engine([
      define('early', async (ctx) => {
        await ctx.step('before', async () => (effects.hit('before'), await gate.opened));
        const early = await ctx.awaitPromise('callback', { timeoutMs: 30_000 });
        const late = await ctx.awaitPromise('never', { timeoutMs: 200 });
        return { early, late };
      }),
    ]);
    const { run } = await engine.start(startRequest('early'));
    await effects.reached('before');
    await engine.resolvePromise(run.runId, 'callback', 7);
    gate.open();
    const done = await finished(engine, run.runId);
    assert.deepEqual(done.output, { early: { resolved: true, value: 7 }, late: { resolved: false } });
    assert.deepEqual(
      (await engine.journal(run.runId)).map((s) => [s.name, s.kind, s.status, s.result]),
      [
        ['before', 'step', 'completed', null],
        ['callback', 'promise', 'completed', { resolved: true, value: 7 }],
        ['never', 'promise', 'completed', { resolved: false }],
      ],
    );
  });

  it('a promise resolved during the wait wakes the run, which showed `waiting`', async (world) => {
    const seen = new RecordingObserver();
    const engine = await world.engine(
      [define('wait', (ctx) => ctx.awaitPromise('callback', { timeoutMs: 30_000 }))],
      {
        observer: seen,
      },
    );
    const { run } = await engine.start(startRequest('wait'));
    await inState(engine, run.runId, 'waiting');
    await engine.resolvePromise(run.runId, 'callback', { status: 'ok' });
    const done = await finished(engine, run.runId);
    assert.deepEqual(done.output, { resolved: true, value: { status: 'ok' } });
    const states = await seen.saw(run.runId, 'succeeded');
    assert.ok(states.includes('waiting'), states.join());
  });

  it('duplicate and late resolutions change nothing and do not throw', async (world) => {
    const engine = await world.engine([
      define('wait', (ctx) => ctx.awaitPromise('callback', { timeoutMs: 30_000 })),
    ]);
    const { run } = await engine.start(startRequest('wait'));
    await inState(engine, run.runId, 'waiting');
    await Promise.all([
      engine.resolvePromise(run.runId, 'callback', 'first'),
      engine.resolvePromise(run.runId, 'callback', 'second'),
    ]);
    const done = await finished(engine, run.runId);
    const first = (done.output as { value: string }).value;
    assert.ok(first === 'first' || first === 'second');
    await engine.resolvePromise(run.runId, 'callback', 'late');
    await engine.resolvePromise(run.runId, 'other-key', 'late');
    await engine.resolvePromise('no-such-run', 'callback', 'late');
    assert.deepEqual(await engine.getRun(run.runId), done);
  });

  it('a sleep shows its state while it sleeps (backing-off by default), is journaled, and ends', async (world) => {
    const seen = new RecordingObserver();
    const engine = await world.engine(
      [
        define('nap', async (ctx) => {
          await ctx.step('a', async () => 1);
          // Long enough that a loaded machine still writes each sleep's state before it ends.
          await ctx.sleep('pause', 1_000);
          await ctx.sleep('quiet', 600, { state: 'waiting' });
          return 'rested';
        }),
      ],
      { observer: seen },
    );
    const { run } = await engine.start(startRequest('nap'));
    const done = await finished(engine, run.runId);
    assert.deepEqual([done.state, done.output], ['succeeded', 'rested']);
    assert.deepEqual(
      (await engine.journal(run.runId)).map((s) => [s.name, s.kind, s.status]),
      [
        ['a', 'step', 'completed'],
        ['pause', 'sleep', 'completed'],
        ['quiet', 'sleep', 'completed'],
      ],
    );
    const states = await seen.saw(run.runId, 'succeeded');
    const slept = states.filter((state) => state === 'backing-off' || state === 'waiting');
    assert.deepEqual(slept, ['backing-off', 'waiting'], states.join());
  });

  it('a step may declare the wait that follows it; one not kept changes nothing', async (world) => {
    const seen = new RecordingObserver();
    const engine = await world.engine(
      [
        define('declared', async (ctx) => {
          const key = await ctx.step('a', async () => 'callback', {
            waitFollows: (k) => ({ kind: 'promise', key: k }),
          });
          const waited = await ctx.awaitPromise(key, { timeoutMs: 30_000 });
          await ctx.step('b', async () => 2, {
            waitFollows: () => ({ kind: 'sleep', name: 'pause', state: 'backing-off' }),
          });
          await ctx.sleep('pause', 200);
          // Declared, then not made: the next call is a step.
          await ctx.step('c', async () => 3, { waitFollows: () => ({ kind: 'promise', key: 'unkept' }) });
          const last = await ctx.step('d', async () => 4);
          return { waited, last };
        }),
      ],
      { observer: seen },
    );
    const { run } = await engine.start(startRequest('declared'));
    await inState(engine, run.runId, 'waiting');
    await engine.resolvePromise(run.runId, 'callback', 'called back');
    const done = await finished(engine, run.runId);
    assert.deepEqual(
      [done.state, done.output],
      ['succeeded', { waited: { resolved: true, value: 'called back' }, last: 4 }],
    );
    assert.deepEqual(
      (await engine.journal(run.runId)).map((s) => [s.seq, s.name, s.kind, s.status]),
      [
        [1, 'a', 'step', 'completed'],
        [2, 'callback', 'promise', 'completed'],
        [3, 'b', 'step', 'completed'],
        [4, 'pause', 'sleep', 'completed'],
        [5, 'c', 'step', 'completed'],
        [6, 'd', 'step', 'completed'],
      ],
    );
    // The promise waited for a resolution from outside: the run showed it (a short sleep may not).
    const states = await seen.saw(run.runId, 'succeeded');
    assert.ok(states.includes('waiting'), states.join());
  });
}
