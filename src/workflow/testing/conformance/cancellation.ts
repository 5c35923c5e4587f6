/** Conformance: cancelling a run that sleeps or waits. */
import assert from 'node:assert/strict';
import { define, delay, Effects, finished, inState, RecordingObserver } from '../run-probes.js';
import { startRequest, type ConformanceTest } from './target.js';

const WAITS = [
  { reason: 'sleeping', state: 'backing-off' },
  { reason: 'waiting for a promise', state: 'waiting' },
] as const;

export function cancelCases(it: ConformanceTest): void {
  for (const { reason, state } of WAITS) {
    it(`cancel stops a run ${reason} at once; it ends cancelled, once`, async (world) => {
      const effects = new Effects();
      const seen = new RecordingObserver();
      const flow = define('cancellable', async (ctx) => {
        if (state === 'backing-off') await ctx.sleep('backoff', 30_000);
        else await ctx.awaitPromise('callback', { timeoutMs: 30_000 });
        await ctx.step('after', async () => effects.hit('after'));
      });
      const engine = await world.engine([flow], { observer: seen });
      const { run } = await engine.start(startRequest('cancellable'));
      await inState(engine, run.runId, state);
      assert.equal(await engine.cancel(run.runId, 'superseded by generation 2'), true);
      const done = await finished(engine, run.runId, 2_000);
      const error = {
        kind: 'cancelled',
        name: 'RunCancelledError',
        message: 'superseded by generation 2',
        details: null,
      };
      assert.deepEqual([done.state, done.error], ['cancelled', error]);
      assert.equal(await engine.cancel(run.runId, 'again'), false);
      await delay(300);
      assert.equal(effects.count('after'), 0);
      assert.equal((await engine.getRun(run.runId))?.state, 'cancelled');
      const states = seen.states(run.runId);
      assert.deepEqual(
        states.filter((s) => s === state || s === 'cancelled'),
        [state, 'cancelled'],
        states.join(),
      );
    });
  }
}
