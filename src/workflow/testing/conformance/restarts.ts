/** Conformance: an engine stopped mid-run (without, then with grace) and opened again. */
import assert from 'node:assert/strict';
import { define, delay, Effects, finished, Gate } from '../run-probes.js';
import { startRequest, type ConformanceTest } from './target.js';

export function restartCases(it: ConformanceTest): void {
  it('after a crash mid-step, the restarted engine replays finished steps and runs the interrupted one again', async (world) => {
    const effects = new Effects();
    const gate = new Gate();
    const flow = define('crashy', async (ctx) => {
      const a = await ctx.step('a', async () => (effects.hit('a'), 'A'));
      const b = await ctx.step('slow', async () => {
        effects.hit('slow');
        if (effects.count('slow') === 1) await gate.opened;
        return 'B';
      });
      const c = await ctx.step('c', async () => (effects.hit('c'), 'C'));
      return a + b + c;
    });
    const first = await world.engine([flow]);
    const { run } = await first.start(startRequest('crashy'));
    await effects.reached('slow');
    await first.close(0);
    const second = await world.engine([flow], { restartOf: first });
    const done = await finished(second, run.runId, 20_000);
    gate.open(); // the dead engine's step ends after it stopped: never journaled
    assert.deepEqual([done.state, done.output], ['succeeded', 'ABC']);
    assert.deepEqual(
      ['a', 'slow', 'c'].map((k) => effects.count(k)),
      [1, 2, 1],
    );
    assert.deepEqual(
      (await second.journal(run.runId)).map((s) => [s.name, s.status]),
      [
        ['a', 'completed'],
        ['slow', 'completed'],
        ['c', 'completed'],
      ],
    );
  });

  it('close lets a step in flight finish within the grace and journals it; no new step starts', async (world) => {
    const effects = new Effects();
    const gate = new Gate();
    const flow = define('graceful', async (ctx) => {
      await ctx.step('slow', async () => (effects.hit('slow'), await gate.opened));
      await ctx.step('after', async () => effects.hit('after'));
      return 'done';
    });
    const first = await world.engine([flow]);
    const { run } = await first.start(startRequest('graceful'));
    await effects.reached('slow');
    const closing = first.close(5_000);
    await delay(100);
    gate.open();
    await closing;
    assert.equal(effects.count('after'), 0, 'no new step starts on a closing engine');
    const second = await world.engine([flow], { restartOf: first });
    assert.equal((await finished(second, run.runId, 20_000)).output, 'done');
    assert.deepEqual([effects.count('slow'), effects.count('after')], [1, 1]);
  });
}
