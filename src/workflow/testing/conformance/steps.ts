/** Conformance: steps, run ends and idempotent starts. */
import assert from 'node:assert/strict';
import { StoreUnavailableError } from '../../../domain/errors.js';
import { StepFailedError, TerminalWorkflowError } from '../../context.js';
import { define, delay, Effects, finished, Gate, RecordingObserver } from '../run-probes.js';
import { startRequest, type ConformanceTest } from './target.js';

class CodedError extends Error {
  constructor(readonly code: string) {
    super(`failed with ${code}`);
    this.name = 'CodedError';
  }
}

export function stepCases(it: ConformanceTest): void {
  it('runs each step once, journals it, stores the output; the observer hears of the start and the end', async (world) => {
    const effects = new Effects();
    const seen = new RecordingObserver();
    const flow = define('sum', async (ctx, input) => {
      const a = await ctx.step('a', async () => (effects.hit('a'), (input as { base: number }).base));
      const b = await ctx.step('b', async () => (effects.hit('b'), a + 1));
      await ctx.step('nothing', async () => undefined);
      return { sum: b };
    });
    const engine = await world.engine([flow], { observer: seen });
    const request = startRequest('sum', { base: 41 }, { purpose: 'conformance' });
    const { run, created } = await engine.start(request);
    assert.deepEqual(
      [created, run.state, run.workflow, run.tags, run.input],
      [true, 'pending', 'sum', request.tags, { base: 41 }],
    );
    const done = await finished(engine, run.runId);
    assert.deepEqual(
      [done.state, done.output, done.attempt, done.leaseOwner, done.wakeAt],
      ['succeeded', { sum: 42 }, 1, null, null],
    );
    assert.ok(done.finishedAt);
    assert.deepEqual(
      (await engine.journal(run.runId)).map((s) => [s.seq, s.name, s.kind, s.status, s.result]),
      [
        [1, 'a', 'step', 'completed', 41],
        [2, 'b', 'step', 'completed', 42],
        [3, 'nothing', 'step', 'completed', null],
      ],
    );
    assert.deepEqual([effects.count('a'), effects.count('b')], [1, 1]);
    const states = await seen.saw(run.runId, 'succeeded');
    assert.deepEqual([states[0], states.at(-1)], ['pending', 'succeeded'], states.join());
    assert.equal(new Set(states).size, states.length, `each change once: ${states.join()}`);
    assert.deepEqual(seen.changes.at(-1)?.run, done);
    assert.deepEqual(await engine.getRun(run.runId), done);
  });

  it('start is idempotent: concurrent and later starts create one run and execute it once', async (world) => {
    const effects = new Effects();
    const gate = new Gate();
    const engine = await world.engine([
      define('once', (ctx) => ctx.step('once', async () => (effects.hit('once'), await gate.opened))),
    ]);
    const request = startRequest('once');
    const results = await Promise.all(Array.from({ length: 5 }, () => engine.start(request)));
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.equal(new Set(results.map((r) => r.run.runId)).size, 1);
    await effects.reached('once');
    assert.equal((await engine.start(request)).created, false);
    gate.open();
    await finished(engine, request.runId);
    const again = await engine.start(request);
    assert.deepEqual([again.created, again.run.state], [false, 'succeeded']);
    await delay(200);
    assert.equal(effects.count('once'), 1);
  });

  it('an unknown definition is refused before anything is stored', async (world) => {
    const engine = await world.engine([define('known', async () => null)]);
    await engine.ping();
    const request = startRequest('unknown');
    await assert.rejects(engine.start(request), { name: 'ValidationError' });
    assert.equal(await engine.getRun(request.runId), undefined);
  });

  it('a failed step is rethrown as StepFailedError with the original name and details', async (world) => {
    const engine = await world.engine([
      define('flaky', async (ctx) => {
        try {
          await ctx.step('flaky', () => Promise.reject(new CodedError('CONFLICT')));
          return 'not reached';
        } catch (error) {
          assert.ok(error instanceof StepFailedError);
          return { stepName: error.stepName, errorName: error.errorName, details: error.details };
        }
      }),
    ]);
    const { run } = await engine.start(startRequest('flaky'));
    const done = await finished(engine, run.runId);
    assert.deepEqual(done.output, {
      stepName: 'flaky',
      errorName: 'CodedError',
      details: { code: 'CONFLICT' },
    });
    const [entry] = await engine.journal(run.runId);
    const journaled = {
      kind: 'error',
      name: 'CodedError',
      message: 'failed with CONFLICT',
      details: { code: 'CONFLICT' },
    };
    assert.deepEqual([entry?.status, entry?.error], ['failed', journaled]);
  });

  it('TerminalWorkflowError fails the run with its message and details', async (world) => {
    const seen = new RecordingObserver();
    const fatal = new TerminalWorkflowError('bad image', { code: 'IMAGE_UNAVAILABLE' });
    const engine = await world.engine(
      [define('doomed', (ctx) => ctx.step('fatal', () => Promise.reject(fatal)))],
      {
        observer: seen,
      },
    );
    const { run } = await engine.start(startRequest('doomed'));
    const done = await finished(engine, run.runId);
    assert.deepEqual(
      [done.state, done.error],
      [
        'failed',
        {
          kind: 'terminal',
          name: 'TerminalWorkflowError',
          message: 'bad image',
          details: { code: 'IMAGE_UNAVAILABLE' },
        },
      ],
    );
    assert.equal((await seen.saw(run.runId, 'failed')).at(-1), 'failed');
  });

  it('a step that fails on an unavailable store is not journaled as failed: it runs again', async (world) => {
    const effects = new Effects();
    const engine = await world.engine([
      define('write', (ctx) =>
        ctx.step('write', async () => {
          effects.hit('write');
          if (effects.count('write') === 1)
            throw new StoreUnavailableError('database unavailable: disk full');
          return 'written';
        }),
      ),
    ]);
    const { run } = await engine.start(startRequest('write'));
    const done = await finished(engine, run.runId, 20_000);
    assert.deepEqual([done.state, done.output, effects.count('write')], ['succeeded', 'written', 2]);
    assert.deepEqual(
      (await engine.journal(run.runId)).map((s) => [s.name, s.status]),
      [['write', 'completed']],
    );
  });
}
