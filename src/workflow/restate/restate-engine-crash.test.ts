/**
 * Crashes around the `restate` engine: restate-server killed with SIGKILL mid-run (while a run
 * waits for a promise, or sleeps, or before a run could be submitted to it) and restarted; Lessor's side "crashing" (its engine closed
 * without grace, a new engine opened on the same URL) while a run waits, or past Restate's retry
 * budget. Every run completes; journaled steps are not repeated. (A crash mid-step and a graceful
 * close are in the engine conformance suite.)
 */
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  define,
  delay,
  Effects,
  eventually,
  finished,
  Gate,
  inState,
  RecordingObserver,
} from '../testing/run-probes.js';
import { RestateHttp } from './restate-http.js';
import {
  createRestateWorld,
  sameDeployment,
  TEST_RETRY_POLICY,
  type RestateWorld,
} from './testing/restate-harness.js';

describe('restate engine crash recovery', () => {
  let world: RestateWorld;
  before(async () => {
    world = await createRestateWorld();
  });
  after(() => world?.cleanup());

  test('restate-server killed (SIGKILL) while a run waits for a promise: after a restart the run completes', async () => {
    const effects = new Effects();
    const engine = await world.engine([
      define('flow', async (ctx) => {
        await ctx.step('a', async () => effects.hit('a'));
        const outcome = await ctx.awaitPromise('callback', { timeoutMs: 60_000 });
        await ctx.step('b', async () => effects.hit('b'));
        return outcome;
      }),
    ]);
    const { run } = await engine.start(request());
    await inState(world.db.store, run.runId, 'waiting');
    await world.server.kill();
    await assert.rejects(engine.resolvePromise(run.runId, 'callback', 'x'), { name: 'RestateCallError' });
    await world.server.restart();
    await engine.resolvePromise(run.runId, 'callback', 'after restart');
    const done = await finished(world.db.store, run.runId, 20_000);
    assert.deepEqual([done.state, done.output], ['succeeded', { resolved: true, value: 'after restart' }]);
    assert.deepEqual([effects.count('a'), effects.count('b')], [1, 1]);
  });

  test('restate-server killed (SIGKILL) while a run sleeps: the durable timer still fires after a restart', async () => {
    const effects = new Effects();
    const seen = new RecordingObserver();
    const engine = await world.engine(
      [
        define('flow', async (ctx) => {
          await ctx.step('a', async () => effects.hit('a'));
          await ctx.sleep('backoff', 1_000);
          await ctx.step('b', async () => effects.hit('b'));
          return 'woke up';
        }),
      ],
      { observer: seen },
    );
    const { run } = await engine.start(request());
    await inState(world.db.store, run.runId, 'backing-off');
    await world.server.kill();
    await delay(300);
    await world.server.restart();
    const done = await finished(world.db.store, run.runId, 20_000);
    assert.deepEqual([done.state, done.output], ['succeeded', 'woke up']);
    assert.deepEqual([effects.count('a'), effects.count('b')], [1, 1]);
    assert.deepEqual(
      seen.states(run.runId).filter((state) => state === 'backing-off' || state === 'succeeded'),
      ['backing-off', 'succeeded'],
      'each change heard once, though Restate ran the run again',
    );
  });

  test('restate-server down when a run starts: start returns, and the run executes once it is back', async () => {
    const effects = new Effects();
    const engine = await world.engine([
      define('flow', async (ctx) => {
        await ctx.step('a', async () => effects.hit('a'));
        return 'ran';
      }),
    ]);
    await world.server.kill();
    const { run, created } = await engine.start(request());
    assert.deepEqual([created, run.state], [true, 'pending']);
    await delay(300);
    assert.equal((await world.db.store.runs.get(run.runId))?.state, 'pending');
    await world.server.restart();
    const done = await finished(world.db.store, run.runId, 20_000);
    assert.deepEqual([done.state, done.output, effects.count('a')], ['succeeded', 'ran', 1]);
  });

  test('Lessor crashes while a run waits: a new engine on the same URL completes it', async () => {
    const effects = new Effects();
    const flow = define('flow', async (ctx) => {
      await ctx.step('a', async () => effects.hit('a'));
      const outcome = await ctx.awaitPromise('callback', { timeoutMs: 60_000 });
      await ctx.step('b', async () => effects.hit('b'));
      return outcome;
    });
    const first = await world.engine([flow]);
    const { run } = await first.start(request());
    await inState(world.db.store, run.runId, 'waiting');
    await first.close(0);
    const second = await world.engine([flow], sameDeployment(first));
    await second.resolvePromise(run.runId, 'callback', 'to the new process');
    const done = await finished(world.db.store, run.runId, 20_000);
    assert.deepEqual(done.output, { resolved: true, value: 'to the new process' });
    assert.deepEqual([effects.count('a'), effects.count('b')], [1, 1]);
  });

  test("an audit entry lost with the process is written again, the same, by the new process's replay", async () => {
    const effects = new Effects();
    const flow = define('flow', async (ctx) => {
      await ctx.step('a', async () => (effects.hit('a'), 'from a'));
      const outcome = await ctx.awaitPromise('callback', { timeoutMs: 60_000 });
      await ctx.step('b', async () => effects.hit('b'));
      return outcome;
    });
    const first = await world.engine([flow]);
    const { run } = await first.start(request());
    // The wait shows once it lasts, and the held entry of `a` goes with it (held-audit.ts).
    const shown = await eventually(async () => {
      const journal = await first.journal(run.runId);
      return journal.length === 2 ? journal : undefined;
    });
    assert.deepEqual(
      shown.map((s) => [s.seq, s.name, s.status]),
      [
        [1, 'a', 'completed'],
        [2, 'callback', 'started'],
      ],
    );
    await first.close(0);
    // As if the process had died before a write carried it: only Restate's journal has `a`.
    deleteStep(world, run.runId, 1);
    const second = await world.engine([flow], sameDeployment(first));
    await second.resolvePromise(run.runId, 'callback', 'to the new process');
    const done = await finished(world.db.store, run.runId, 20_000);
    assert.deepEqual(done.output, { resolved: true, value: 'to the new process' });
    const journal = await second.journal(run.runId);
    assert.deepEqual(journal[0], shown[0], 'built again from the journaled outcome and its timing');
    assert.deepEqual(
      journal.map((s) => [s.seq, s.name, s.status]),
      [
        [1, 'a', 'completed'],
        [2, 'callback', 'completed'],
        [3, 'b', 'completed'],
      ],
    );
    assert.deepEqual([effects.count('a'), effects.count('b')], [1, 1]);
  });

  test('a run Restate paused (endpoint down past the retry budget) resumes when an engine opens', async () => {
    const effects = new Effects();
    const gate = new Gate();
    const flow = define('flow', async (ctx) => {
      await ctx.step('a', async () => {
        effects.hit('a');
        if (effects.count('a') === 1) await gate.opened;
      });
      return 'done';
    });
    const first = await world.engine([flow], { retryPolicy: { ...TEST_RETRY_POLICY, maxAttempts: 2 } });
    const { run } = await first.start(request());
    await effects.reached('a');
    await first.close(0);
    await eventually(async () =>
      (await pausedInvocations(world, first.serviceName)).length > 0 ? true : undefined,
    );
    gate.open();
    await world.engine([flow], sameDeployment(first));
    const done = await finished(world.db.store, run.runId, 20_000);
    assert.deepEqual([done.state, done.output, effects.count('a')], ['succeeded', 'done', 2]);
  });
});

/** Deletes one audit entry from the world's SQLite file, behind the store's back. */
function deleteStep(world: RestateWorld, runId: string, seq: number): void {
  const db = new BetterSqlite3(world.db.url.slice('sqlite:'.length));
  try {
    db.prepare('delete from workflow_steps where run_id = ? and seq = ?').run(runId, seq);
  } finally {
    db.close();
  }
}

function pausedInvocations(world: RestateWorld, service: string): Promise<readonly unknown[]> {
  const http = new RestateHttp(world.server.adminUrl, world.server.ingressUrl, 5_000);
  return http.query(
    `SELECT id FROM sys_invocation WHERE target_service_name = '${service}' AND status = 'paused'`,
  );
}

/** A request for a fresh run of the test definition `flow`. */
function request(): { runId: string; workflow: string; input: null } {
  return { runId: `flow-${randomUUID().slice(0, 8)}`, workflow: 'flow', input: null };
}
