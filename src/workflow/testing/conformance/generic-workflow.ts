/**
 * Conformance: an engine runs any workflow, not only the tenant ones — here a counter fanned out
 * over several runs at once, with steps, sleeps, a promise and a cancellation, tagged with a
 * subject of its own. No tenant exists anywhere in the world it runs in.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { WorkflowDefinition } from '../../context.js';
import type { StartRunRequest } from '../../engine.js';
import { define, Effects, finished, RecordingObserver } from '../run-probes.js';
import type { ConformanceTest } from './target.js';

const PARTS = 3;

function counterRun(batch: string, n: number): StartRunRequest {
  const runId = `count-${batch}-${n}`;
  return {
    runId,
    workflow: 'counter',
    input: { parts: PARTS },
    tags: { subject: `counter:${batch}`, part: String(n) },
  };
}

/** Adds 1..parts, a step and a short sleep each, then what the promise `more` brings. */
function counter(effects: Effects): WorkflowDefinition<never, unknown> {
  return define('counter', async (ctx, input) => {
    let total = 0;
    for (let i = 1; i <= (input as { parts: number }).parts; i++) {
      total += await ctx.step(`add#${i}`, async () => (effects.hit(ctx.runId), i));
      await ctx.sleep(`breathe#${i}`, 20, { state: 'waiting' });
    }
    const more = await ctx.awaitPromise<number>('more', { timeoutMs: 30_000 });
    return total + (more.value ?? 0);
  });
}

export function genericWorkflowCases(it: ConformanceTest): void {
  it('runs a workflow of no tenant: a counter fanned out over runs, with steps, sleeps, a promise and a cancel', async (world) => {
    const effects = new Effects();
    const seen = new RecordingObserver();
    const engine = await world.engine([counter(effects)], { observer: seen });
    const batch = randomUUID().slice(0, 8);
    const requests = [1, 2, 3].map((n) => counterRun(batch, n));
    await Promise.all(requests.map((request) => engine.start(request)));
    const [added, kept, cancelled] = requests.map((r) => r.runId) as [string, string, string];
    await Promise.all(requests.map((r) => effects.reached(r.runId, PARTS, 20_000)));
    await engine.resolvePromise(added, 'more', 10);
    await engine.resolvePromise(kept, 'more', 0);
    assert.equal(await engine.cancel(cancelled, 'not needed'), true);

    const done = await Promise.all([added, kept, cancelled].map((runId) => finished(engine, runId)));
    assert.deepEqual(
      done.map((run) => [run.state, run.output]),
      [
        ['succeeded', 16],
        ['succeeded', 6],
        ['cancelled', null],
      ],
    );
    assert.deepEqual(
      done.map((run) => run.tags),
      requests.map((r) => r.tags),
    );
    assert.deepEqual(
      requests.map((r) => effects.count(r.runId)),
      [PARTS, PARTS, PARTS],
      'each step once',
    );
    const names = (await engine.journal(added)).map((s) => `${s.kind}:${s.name}`);
    assert.deepEqual(names, [
      'step:add#1',
      'sleep:breathe#1',
      'step:add#2',
      'sleep:breathe#2',
      'step:add#3',
      'sleep:breathe#3',
      'promise:more',
    ]);
    await seen.saw(cancelled, 'cancelled');
    for (const change of seen.changes) assert.equal(change.run.tags.subject, `counter:${batch}`);
  });
}
