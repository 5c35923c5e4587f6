/**
 * The `restate` engine against a real restate-server and a real SQLite store: the engine
 * conformance suite, then what only this engine does — Restate's own view of a cancelled run, and
 * a run Restate suspended for inactivity. Crashes of either side are in restate-engine-crash.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runEngineConformance } from '../testing/engine-conformance.js';
import { define, delay, Effects, eventually, finished, Gate, inState } from '../testing/run-probes.js';
import { specOf } from '../../store/conformance/harness.js';
import type { RunObserver } from '../run-observer.js';
import { RestateHttp } from './restate-http.js';
import { createRestateWorld, restateTarget, type RestateWorld } from './testing/restate-harness.js';

runEngineConformance(restateTarget());

describe('restate engine', () => {
  let world: RestateWorld;
  before(async () => {
    world = await createRestateWorld();
  });
  after(() => world?.cleanup());

  test("a cancelled run's Restate invocation ends too, without waiting out its timer", async () => {
    const effects = new Effects();
    const engine = await world.engine([
      define('nap', async (ctx) => {
        await ctx.sleep('backoff', 30_000);
        await ctx.step('after', async () => effects.hit('after'));
      }),
    ]);
    const { run } = await engine.start({ runId: 'nap-cancelled', workflow: 'nap', input: null });
    await inState(engine, run.runId, 'backing-off');
    assert.equal(await engine.cancel(run.runId, 'superseded'), true);
    await eventually(
      async () =>
        (await invocationStatus(world, engine.serviceName, run.runId)) === 'completed' ? true : undefined,
      5_000,
    );
    await delay(300);
    assert.equal(effects.count('after'), 0);
  });

  // Restate's cancel reaches the endpoint by its own connection: the step may finish before its
  // `ctx.run` is given up on, or after the invocation has ended. Both orders, the second forced.
  for (const stepEnds of ['when the cancel returns', 'after Restate ended the invocation'] as const) {
    test(`a cancelled run's audit keeps its held entries and the step Restate cancelled, though its end is refused (the step ends ${stepEnds})`, async () => {
      const effects = new Effects();
      const gate = new Gate();
      const engine = await world.engine([
        define('held', async (ctx) => {
          await ctx.step('a', async () => effects.hit('a'));
          await ctx.step('b', async () => (effects.hit('b'), await gate.opened));
          await ctx.step('c', async () => effects.hit('c'));
        }),
      ]);
      const runId = `held-cancelled-${stepEnds === 'when the cancel returns' ? 'soon' : 'late'}`;
      await engine.start({ runId, workflow: 'held', input: null });
      await effects.reached('b');
      assert.equal(await engine.cancel(runId, 'superseded'), true);
      if (stepEnds === 'after Restate ended the invocation')
        await eventually(
          async () =>
            (await invocationStatus(world, engine.serviceName, runId)) === 'completed' ? true : undefined,
          5_000,
        );
      gate.open();
      const steps = await eventually(async () => {
        const journal = await engine.journal(runId);
        return journal.some((s) => s.name === 'b') ? journal : undefined;
      }, 5_000);
      assert.deepEqual(
        steps.map((s) => [s.seq, s.name, s.status]),
        [
          [1, 'a', 'completed'],
          [2, 'b', 'completed'],
        ],
      );
      assert.equal((await finished(engine, runId)).state, 'cancelled');
      assert.equal(effects.count('c'), 0);
    });
  }

  test("a run's end writes the events its observer offers with it", async () => {
    const store = world.db.store;
    const tenant = await store.tenants.create({ name: 'restate-ended', spec: specOf(), actor: 'test' });
    const told: { state: string; eventsWritten: boolean | undefined }[] = [];
    const draft = (attempt: number) => ({
      type: 'RunStateChanged' as const,
      actor: 'test',
      reason: 'RunSucceeded',
      message: `attempt ${attempt}`,
      fromPhase: null,
      toPhase: null,
      generation: 1,
      runId: null,
      executionId: null,
    });
    const observer: RunObserver = {
      eventsFor: ({ run, state }) =>
        state === 'succeeded' ? { tenantId: tenant.id, drafts: [draft(run.attempt)] } : null,
      runChanged: async ({ state, eventsWritten }) => void told.push({ state, eventsWritten }),
    };
    const engine = await world.engine([define('quick', async (ctx) => ctx.step('a', async () => 'done'))], {
      observer,
    });
    const { run } = await engine.start({ runId: 'quick-ended', workflow: 'quick', input: null });
    assert.equal((await finished(engine, run.runId)).state, 'succeeded');
    await eventually(async () => (told.some((t) => t.state === 'succeeded') ? true : undefined), 5_000);
    assert.deepEqual(told.at(-1), { state: 'succeeded', eventsWritten: true });
    const events = await store.events.listByTenant(tenant.id, { limit: 10 });
    assert.deepEqual(
      events.map((e) => [e.type, e.message]),
      [
        ['Created', events[0]!.message],
        ['RunStateChanged', 'attempt 1'],
      ],
    );
  });

  test('a declared wait shows on the run row only once it lasts; a prompt one leaves it running', async () => {
    const states = new Map<string, string[]>();
    const observer: RunObserver = {
      runChanged: async ({ run, state }) =>
        void states.set(run.runId, [...(states.get(run.runId) ?? []), state]),
    };
    const flow = define('declared', async (ctx, input) => {
      const { prompt } = input as { prompt: boolean };
      const key = await ctx.step(
        'a',
        async () => {
          // A prompt callback: resolved before the wait begins.
          if (prompt) await engine.resolvePromise(ctx.runId, 'callback', 'prompt');
          return 'callback';
        },
        { waitFollows: (k) => ({ kind: 'promise', key: k }) },
      );
      const outcome = await ctx.awaitPromise(key, { timeoutMs: 30_000 });
      await ctx.step('b', async () => 'b');
      return outcome;
    });
    const engine = await world.engine([flow], { observer });
    await engine.start({ runId: 'declared-prompt', workflow: 'declared', input: { prompt: true } });
    await engine.start({ runId: 'declared-late', workflow: 'declared', input: { prompt: false } });
    await inState(engine, 'declared-late', 'waiting');
    assert.deepEqual(
      (await engine.journal('declared-late')).map((s) => [s.seq, s.name, s.status]),
      [
        [1, 'a', 'completed'],
        [2, 'callback', 'started'],
      ],
    );
    await engine.resolvePromise('declared-late', 'callback', 'late');
    for (const [runId, value] of [
      ['declared-prompt', 'prompt'],
      ['declared-late', 'late'],
    ] as const) {
      const done = await finished(engine, runId);
      assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
      assert.deepEqual(done.output, { resolved: true, value });
      const journal = await engine.journal(runId);
      assert.deepEqual(
        journal.map((s) => [s.seq, s.name, s.kind, s.status, s.result]),
        [
          [1, 'a', 'step', 'completed', 'callback'],
          [2, 'callback', 'promise', 'completed', { resolved: true, value }],
          [3, 'b', 'step', 'completed', 'b'],
        ],
      );
      assert.ok(journal[1]!.finishedAt! >= journal[1]!.startedAt, 'the wait ends after it began');
    }
    await eventually(
      async () => (states.get('declared-late')?.includes('succeeded') ? true : undefined),
      5_000,
    );
    assert.deepEqual(states.get('declared-prompt'), ['pending', 'running', 'succeeded']);
    assert.deepEqual(states.get('declared-late'), ['pending', 'running', 'waiting', 'running', 'succeeded']);
  });

  test('a run suspended by Restate while it waits resumes by replay, steps not repeated', async () => {
    const effects = new Effects();
    const flow = define('wait', async (ctx) => {
      await ctx.step('a', async () => effects.hit('a'));
      const outcome = await ctx.awaitPromise('callback', { timeoutMs: 30_000 });
      await ctx.step('b', async () => effects.hit('b'));
      return outcome;
    });
    const engine = await world.engine([flow], { inactivityTimeoutMs: 200 });
    const { run } = await engine.start({ runId: 'wait-suspended', workflow: 'wait', input: null });
    await inState(engine, run.runId, 'waiting');
    await delay(800);
    await engine.resolvePromise(run.runId, 'callback', 'late but fine');
    const done = await finished(engine, run.runId);
    assert.deepEqual(done.output, { resolved: true, value: 'late but fine' });
    assert.deepEqual([effects.count('a'), effects.count('b')], [1, 1]);
  });

  test('a run keeps the journal layout it was submitted with, across a replay', async () => {
    const effects = new Effects();
    const change = { formerFirstCall: 'former', restateLayout: 4 };
    const flow = define('layout', async (ctx) => {
      const before = ctx.begunBefore(change);
      const key = await ctx.step('a', async () => (effects.hit('a'), 'callback'), {
        waitFollows: (k) => ({ kind: 'promise', key: k }),
      });
      const outcome = await ctx.awaitPromise(key, { timeoutMs: 30_000 });
      await ctx.step('b', async () => effects.hit('b'));
      return { ...outcome, before };
    });
    // Suspended while they wait, so that each run resumes by a replay of the journal it began.
    const engine = await world.engine([flow], { inactivityTimeoutMs: 200 });
    const http = new RestateHttp(world.server.adminUrl, world.server.ingressUrl, 5_000);
    // As processes from before submitted them: the row, then a payload without `layout` / with 2–4.
    for (const [runId, layout] of [
      ['layout-1', undefined],
      ['layout-2', 2],
      ['layout-3', 3],
      ['layout-4', 4],
      ['layout-5', 5],
    ] as const) {
      await world.db.store.runs.createOrGet({
        runId,
        workflow: 'layout',
        tags: {},
        engine: 'restate',
        input: null,
      });
      await http.submitRun(engine.serviceName, runId, { workflow: 'layout', input: null, layout });
    }
    await engine.start({ runId: 'layout-6', workflow: 'layout', input: null });
    const runIds = ['layout-1', 'layout-2', 'layout-3', 'layout-4', 'layout-5', 'layout-6'];
    for (const runId of runIds) await inState(engine, runId, 'waiting');
    await delay(800);
    for (const runId of runIds) {
      await engine.resolvePromise(runId, 'callback', runId);
      const done = await finished(engine, runId);
      assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
      // Begun before a change that came with layout 4, as the replay after the suspension tells.
      const before = !['layout-4', 'layout-5', 'layout-6'].includes(runId);
      assert.deepEqual(done.output, { resolved: true, value: runId, before });
      assert.deepEqual(
        (await engine.journal(runId)).map((s) => [s.seq, s.name, s.status]),
        [
          [1, 'a', 'completed'],
          [2, 'callback', 'completed'],
          [3, 'b', 'completed'],
        ],
      );
    }
    assert.deepEqual([effects.count('a'), effects.count('b')], [6, 6]);
    const ownRuns = async (runId: string) =>
      (await journalNames(world, engine.serviceName, runId)).filter((n) => n.startsWith('lessor:'));
    assert.deepEqual(await ownRuns('layout-1'), ['lessor:running', 'lessor:waiting#2', 'lessor:running#2']);
    assert.deepEqual(await ownRuns('layout-2'), ['lessor:waiting#2']);
    assert.deepEqual(await ownRuns('layout-3'), []);
    assert.deepEqual(await ownRuns('layout-4'), []);
    assert.deepEqual(await ownRuns('layout-5'), []);
    assert.deepEqual(await ownRuns('layout-6'), []);
  });
});

/** The names of the entries in Restate's journal of a run's `run` invocation. */
async function journalNames(world: RestateWorld, service: string, runId: string): Promise<string[]> {
  const http = new RestateHttp(world.server.adminUrl, world.server.ingressUrl, 5_000);
  const rows = await http.query<{ name: string | null }>(
    `SELECT j.name AS name FROM sys_journal j JOIN sys_invocation i ON j.id = i.id ` +
      `WHERE i.target_service_name = '${service}' AND i.target_service_key = '${runId}' ` +
      `AND i.target_handler_name = 'run' ORDER BY j.index`,
  );
  return rows.map((row) => row.name ?? '');
}

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
