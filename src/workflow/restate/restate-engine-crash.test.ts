/**
 * Crashes around the `restate` engine: restate-server killed with SIGKILL mid-run (while a run
 * waits for a promise, or sleeps) and restarted; Lessor's side "crashing" (its engine closed
 * without grace, a new engine opened on the same URL) while a run waits or while a step runs. Every
 * run completes; journaled steps are not repeated (a step cut off mid-way runs again: at-least-once).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RestateHttp } from './restate-http.js';
import {
  createRestateWorld,
  define,
  delay,
  Effects,
  finished,
  Gate,
  inState,
  startRequest,
  TEST_RETRY_POLICY,
  eventually,
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
      define('provision', async (ctx) => {
        await ctx.step('a', async () => effects.hit('a'));
        const outcome = await ctx.awaitPromise('callback', { timeoutMs: 60_000 });
        await ctx.step('b', async () => effects.hit('b'));
        return outcome;
      }),
    ]);
    const { run } = await engine.start(startRequest(await world.newTenant(), 'provision'));
    await inState(world, run.runId, 'waiting');
    await world.server.kill();
    await assert.rejects(engine.resolvePromise(run.runId, 'callback', 'x'), { name: 'RestateCallError' });
    await world.server.restart();
    await engine.resolvePromise(run.runId, 'callback', 'after restart');
    const done = await finished(world, run.runId, 20_000);
    assert.deepEqual([done.state, done.output], ['succeeded', { resolved: true, value: 'after restart' }]);
    assert.deepEqual([effects.count('a'), effects.count('b')], [1, 1]);
  });

  test('restate-server killed (SIGKILL) while a run sleeps: the durable timer still fires after a restart', async () => {
    const effects = new Effects();
    const engine = await world.engine([
      define('provision', async (ctx) => {
        await ctx.step('a', async () => effects.hit('a'));
        await ctx.sleep('backoff', 1_000);
        await ctx.step('b', async () => effects.hit('b'));
        return 'woke up';
      }),
    ]);
    const tenantId = await world.newTenant();
    const { run } = await engine.start(startRequest(tenantId, 'provision'));
    await inState(world, run.runId, 'backing-off');
    await world.server.kill();
    await delay(300);
    await world.server.restart();
    const done = await finished(world, run.runId, 20_000);
    assert.deepEqual([done.state, done.output], ['succeeded', 'woke up']);
    assert.deepEqual([effects.count('a'), effects.count('b')], [1, 1]);
    assert.deepEqual(
      (await world.runEvents(tenantId)).map((d) => d.state),
      ['backing-off', 'succeeded'],
    );
  });

  test('Lessor crashes while a run waits: a new engine on the same URL completes it', async () => {
    const effects = new Effects();
    const flow = define('provision', async (ctx) => {
      await ctx.step('a', async () => effects.hit('a'));
      const outcome = await ctx.awaitPromise('callback', { timeoutMs: 60_000 });
      await ctx.step('b', async () => effects.hit('b'));
      return outcome;
    });
    const first = await world.engine([flow]);
    const { run } = await first.start(startRequest(await world.newTenant(), 'provision'));
    await inState(world, run.runId, 'waiting');
    await first.close(0);
    const second = await world.engine([flow], { serviceName: serviceOf(first), endpointPort: portOf(first) });
    await second.resolvePromise(run.runId, 'callback', 'to the new process');
    const done = await finished(world, run.runId, 20_000);
    assert.deepEqual(done.output, { resolved: true, value: 'to the new process' });
    assert.deepEqual([effects.count('a'), effects.count('b')], [1, 1]);
  });

  test('Lessor crashes mid-step: the step runs again (at-least-once), earlier steps do not', async () => {
    const effects = new Effects();
    const gate = new Gate();
    const flow = define('provision', async (ctx) => {
      await ctx.step('a', async () => effects.hit('a'));
      await ctx.step('slow', async () => {
        effects.hit('slow');
        if (effects.count('slow') === 1) await gate.opened;
      });
      return 'done';
    });
    const first = await world.engine([flow]);
    const { run } = await first.start(startRequest(await world.newTenant(), 'provision'));
    await effects.reached('slow');
    await first.close(0);
    const second = await world.engine([flow], { serviceName: serviceOf(first), endpointPort: portOf(first) });
    const done = await finished(world, run.runId, 20_000);
    gate.open();
    assert.deepEqual([done.state, done.output], ['succeeded', 'done']);
    assert.deepEqual([effects.count('a'), effects.count('slow')], [1, 2]);
    const journal = await second.journal(run.runId);
    assert.deepEqual(
      journal.map((s) => [s.name, s.status]),
      [
        ['a', 'completed'],
        ['slow', 'completed'],
      ],
    );
  });

  test('close waits for a step in flight (within the grace period) so its result is journaled', async () => {
    const effects = new Effects();
    const gate = new Gate();
    const flow = define('provision', async (ctx) => {
      await ctx.step('slow', async () => (effects.hit('slow'), await gate.opened));
      await ctx.step('after', async () => effects.hit('after'));
      return 'done';
    });
    const first = await world.engine([flow]);
    const { run } = await first.start(startRequest(await world.newTenant(), 'provision'));
    await effects.reached('slow');
    const closing = first.close(5_000);
    await delay(100);
    gate.open();
    await closing;
    assert.equal(effects.count('after'), 0, 'no new step starts on a closing engine');
    await world.engine([flow], { serviceName: serviceOf(first), endpointPort: portOf(first) });
    await finished(world, run.runId, 20_000);
    assert.deepEqual([effects.count('slow'), effects.count('after')], [1, 1]);
  });
  test('a run Restate paused (endpoint down past the retry budget) resumes when an engine opens', async () => {
    const effects = new Effects();
    const gate = new Gate();
    const flow = define('provision', async (ctx) => {
      await ctx.step('a', async () => {
        effects.hit('a');
        if (effects.count('a') === 1) await gate.opened;
      });
      return 'done';
    });
    const first = await world.engine([flow], { retryPolicy: { ...TEST_RETRY_POLICY, maxAttempts: 2 } });
    const { run } = await first.start(startRequest(await world.newTenant(), 'provision'));
    await effects.reached('a');
    await first.close(0);
    await eventually(async () =>
      (await pausedInvocations(world, serviceOf(first))).length > 0 ? true : undefined,
    );
    gate.open();
    await world.engine([flow], { serviceName: serviceOf(first), endpointPort: portOf(first) });
    const done = await finished(world, run.runId, 20_000);
    assert.deepEqual([done.state, done.output, effects.count('a')], ['succeeded', 'done', 2]);
  });
});

function pausedInvocations(world: RestateWorld, service: string): Promise<readonly unknown[]> {
  const http = new RestateHttp(world.server.adminUrl, world.server.ingressUrl, 5_000);
  return http.query(
    `SELECT id FROM sys_invocation WHERE target_service_name = '${service}' AND status = 'paused'`,
  );
}

function portOf(engine: { endpointUrl: string }): number {
  return Number(new URL(engine.endpointUrl).port);
}

function serviceOf(engine: { serviceName: string }): string {
  return engine.serviceName;
}
