/**
 * The `restate` engine against a real restate-server and a real SQLite store: the same behaviour
 * as the embedded engine (steps once, StepFailedError, promises, timeouts, idempotent start and
 * resolve, cancel), with Lessor's `workflow_runs` row as the source of truth.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StoreUnavailableError } from '../../domain/errors.js';
import { StepFailedError, TerminalWorkflowError } from '../context.js';
import { RestateHttp } from './restate-http.js';
import {
  createRestateWorld,
  define,
  delay,
  Effects,
  eventually,
  finished,
  Gate,
  inState,
  startRequest,
  type RestateWorld,
} from './testing/restate-harness.js';

class CodedError extends Error {
  constructor(readonly code: string) {
    super(`failed with ${code}`);
    this.name = 'CodedError';
  }
}

describe('restate engine', () => {
  let world: RestateWorld;
  before(async () => {
    world = await createRestateWorld();
  });
  after(() => world?.cleanup());

  test('runs steps, a sleep and a promise wait to completion, each step once, with journal and events', async () => {
    const effects = new Effects();
    const flow = define('provision', async (ctx, input) => {
      const a = await ctx.step('a', async () => (effects.hit('a'), (input as { base: number }).base));
      await ctx.sleep('pause', 100);
      const callback = await ctx.awaitPromise<{ status: string }>('callback', { timeoutMs: 30_000 });
      const b = await ctx.step('b', async () => (effects.hit('b'), a + 1));
      await ctx.step('nothing', async () => undefined);
      return { sum: b, callback };
    });
    const engine = await world.engine([flow]);
    const tenantId = await world.newTenant();
    const { run, created } = await engine.start(startRequest(tenantId, 'provision', { base: 41 }));
    assert.deepEqual([created, run.state, run.engine], [true, 'pending', 'restate']);
    await inState(world, run.runId, 'waiting');
    await engine.resolvePromise(run.runId, 'callback', { status: 'succeeded' });
    const done = await finished(world, run.runId);
    assert.deepEqual(
      [done.state, done.output],
      ['succeeded', { sum: 42, callback: { resolved: true, value: { status: 'succeeded' } } }],
    );
    assert.ok(done.finishedAt);
    assert.deepEqual([effects.count('a'), effects.count('b')], [1, 1]);
    const journal = await engine.journal(run.runId);
    assert.deepEqual(
      journal.map((s) => [s.seq, s.name, s.kind, s.status]),
      [
        [1, 'a', 'step', 'completed'],
        [2, 'pause', 'sleep', 'completed'],
        [3, 'callback', 'promise', 'completed'],
        [4, 'b', 'step', 'completed'],
        [5, 'nothing', 'step', 'completed'],
      ],
    );
    assert.deepEqual(journal[2]?.result, { resolved: true, value: { status: 'succeeded' } });
    assert.deepEqual(journal[4]?.result, null);
    const states = (await world.runEvents(tenantId)).map((d) => d.state);
    assert.deepEqual(states, ['backing-off', 'succeeded']);
    assert.deepEqual(await engine.getRun(run.runId), done);
  });

  test('a failed step is rethrown as StepFailedError with the original name and details', async () => {
    const engine = await world.engine([
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
    const { run } = await engine.start(startRequest(await world.newTenant(), 'provision'));
    const done = await finished(world, run.runId);
    assert.deepEqual(done.output, {
      stepName: 'flaky',
      errorName: 'CodedError',
      details: { code: 'CONFLICT' },
    });
    const [entry] = await engine.journal(run.runId);
    assert.deepEqual(
      [entry?.status, entry?.error],
      ['failed', { name: 'CodedError', message: 'failed with CONFLICT', details: { code: 'CONFLICT' } }],
    );
  });

  test('a step that fails on an unavailable store is retried, not journaled as failed', async () => {
    const effects = new Effects();
    const engine = await world.engine([
      define('provision', async (ctx) =>
        ctx.step('write', async () => {
          effects.hit('write');
          if (effects.count('write') === 1)
            throw new StoreUnavailableError('database unavailable: disk full');
          return 'written';
        }),
      ),
    ]);
    const { run } = await engine.start(startRequest(await world.newTenant(), 'provision'));
    const done = await finished(world, run.runId);
    assert.deepEqual([done.state, done.output, effects.count('write')], ['succeeded', 'written', 2]);
    assert.deepEqual(
      (await engine.journal(run.runId)).map((s) => [s.name, s.status]),
      [['write', 'completed']],
    );
  });

  test('TerminalWorkflowError fails the run with its message and details', async () => {
    const engine = await world.engine([
      define('provision', (ctx) =>
        ctx.step('fatal', () =>
          Promise.reject(new TerminalWorkflowError('bad image', { code: 'IMAGE_UNAVAILABLE' })),
        ),
      ),
    ]);
    const tenantId = await world.newTenant();
    const { run } = await engine.start(startRequest(tenantId, 'provision'));
    const done = await finished(world, run.runId);
    assert.equal(done.state, 'failed');
    assert.deepEqual(done.error, {
      name: 'TerminalWorkflowError',
      message: 'bad image',
      details: { code: 'IMAGE_UNAVAILABLE' },
    });
    assert.deepEqual(
      (await world.runEvents(tenantId)).map((d) => d.state),
      ['failed'],
    );
  });

  test('a promise resolved before the wait starts is seen at once; an unresolved wait times out', async () => {
    const gate = new Gate();
    const effects = new Effects();
    const engine = await world.engine([
      define('provision', async (ctx) => {
        await ctx.step('before', async () => (effects.hit('before'), await gate.opened));
        const early = await ctx.awaitPromise('callback', { timeoutMs: 30_000 });
        const late = await ctx.awaitPromise('never', { timeoutMs: 200 });
        return { early, late };
      }),
    ]);
    const { run } = await engine.start(startRequest(await world.newTenant(), 'provision'));
    await effects.reached('before');
    await engine.resolvePromise(run.runId, 'callback', 7);
    gate.open();
    const done = await finished(world, run.runId);
    assert.deepEqual(done.output, { early: { resolved: true, value: 7 }, late: { resolved: false } });
    const journal = await engine.journal(run.runId);
    assert.deepEqual(
      journal.map((s) => [s.name, s.kind, s.status, s.result]),
      [
        ['before', 'step', 'completed', null],
        ['callback', 'promise', 'completed', { resolved: true, value: 7 }],
        ['never', 'promise', 'completed', { resolved: false }],
      ],
    );
  });

  test('duplicate and late resolutions change nothing and do not throw', async () => {
    const engine = await world.engine([
      define('provision', (ctx) => ctx.awaitPromise('callback', { timeoutMs: 30_000 })),
    ]);
    const { run } = await engine.start(startRequest(await world.newTenant(), 'provision'));
    await inState(world, run.runId, 'waiting');
    await Promise.all([
      engine.resolvePromise(run.runId, 'callback', 'first'),
      engine.resolvePromise(run.runId, 'callback', 'second'),
    ]);
    const done = await finished(world, run.runId);
    const first = (done.output as { value: string }).value;
    assert.ok(first === 'first' || first === 'second');
    await engine.resolvePromise(run.runId, 'callback', 'late');
    await engine.resolvePromise(run.runId, 'other-key', 'late');
    await engine.resolvePromise('no-such-run', 'callback', 'late');
    assert.deepEqual(await engine.getRun(run.runId), done);
  });

  test('start is idempotent: sequential and concurrent starts execute the run once', async () => {
    const effects = new Effects();
    const gate = new Gate();
    const engine = await world.engine([
      define('provision', (ctx) => ctx.step('once', async () => (effects.hit('once'), await gate.opened))),
    ]);
    const request = startRequest(await world.newTenant(), 'provision');
    const results = await Promise.all(Array.from({ length: 5 }, () => engine.start(request)));
    assert.equal(results.filter((r) => r.created).length, 1);
    await effects.reached('once');
    assert.equal((await engine.start(request)).created, false);
    gate.open();
    await finished(world, request.runId);
    const again = await engine.start(request);
    assert.deepEqual([again.created, again.run.state], [false, 'succeeded']);
    await delay(200);
    assert.equal(effects.count('once'), 1);
  });

  for (const { reason, wait } of [
    { reason: 'sleeping', wait: 'backing-off' as const },
    { reason: 'waiting for a promise', wait: 'waiting' as const },
  ]) {
    test(`cancel stops a run ${reason} at once`, async () => {
      const effects = new Effects();
      const engine = await world.engine([
        define('provision', async (ctx) => {
          if (wait === 'backing-off') await ctx.sleep('backoff', 30_000);
          else await ctx.awaitPromise('callback', { timeoutMs: 30_000 });
          await ctx.step('after', async () => effects.hit('after'));
        }),
      ]);
      const tenantId = await world.newTenant();
      const { run } = await engine.start(startRequest(tenantId, 'provision'));
      await inState(world, run.runId, wait);
      assert.equal(await engine.cancel(run.runId, 'superseded by generation 2'), true);
      const done = await finished(world, run.runId, 1000);
      assert.deepEqual(
        [done.state, (done.error as { name: string }).name],
        ['cancelled', 'RunCancelledError'],
      );
      assert.equal(await engine.cancel(run.runId, 'again'), false);
      // Restate's invocation ended too (it did not wait out its 30 s timer).
      await eventually(
        async () =>
          (await invocationStatus(world, engine.serviceName, run.runId)) === 'completed' ? true : undefined,
        5_000,
      );
      await delay(300);
      assert.equal(effects.count('after'), 0);
      assert.equal((await engine.getRun(run.runId))?.state, 'cancelled');
      const expected = wait === 'backing-off' ? ['backing-off', 'cancelled'] : ['cancelled'];
      assert.deepEqual(
        (await world.runEvents(tenantId)).map((d) => d.state),
        expected,
      );
    });
  }

  test('a run suspended by Restate while it waits resumes by replay, steps not repeated', async () => {
    const effects = new Effects();
    const engine = await world.engine(
      [
        define('provision', async (ctx) => {
          await ctx.step('a', async () => effects.hit('a'));
          const outcome = await ctx.awaitPromise('callback', { timeoutMs: 30_000 });
          await ctx.step('b', async () => effects.hit('b'));
          return outcome;
        }),
      ],
      { inactivityTimeoutMs: 200 },
    );
    const { run } = await engine.start(startRequest(await world.newTenant(), 'provision'));
    await inState(world, run.runId, 'waiting');
    await delay(800);
    await engine.resolvePromise(run.runId, 'callback', 'late but fine');
    const done = await finished(world, run.runId);
    assert.deepEqual(done.output, { resolved: true, value: 'late but fine' });
    assert.deepEqual([effects.count('a'), effects.count('b')], [1, 1]);
  });

  test('ping answers; an unknown definition is refused before anything is stored', async () => {
    const engine = await world.engine([define('provision', async () => null)]);
    await engine.ping();
    const request = startRequest(await world.newTenant(), 'nope');
    await assert.rejects(engine.start(request), { name: 'ValidationError' });
    assert.equal(await engine.getRun(request.runId), undefined);
  });
});

/** Restate's own view of a run's `run` invocation (pending, running, suspended, completed, …). */
async function invocationStatus(
  world: RestateWorld,
  service: string,
  runId: string,
): Promise<string | undefined> {
  const http = new RestateHttp(world.server.adminUrl, world.server.ingressUrl, 5_000);
  const rows = await http.query<{ status: string }>(
    `SELECT status FROM sys_invocation WHERE target_service_name = '${service}' ` +
      `AND target_service_key = '${runId}' AND target_handler_name = 'run'`,
  );
  return rows[0]?.status;
}
