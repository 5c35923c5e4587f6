/**
 * Crashes, restarts and several engines on one database, beyond what the conformance suite checks
 * of every engine: timers and deadlines that survive a restart, non-determinism, and lease takeover
 * between engines with different owners.
 * A "crash" here is `close(0)` while a step is held mid-flight (its lease is left to expire); the
 * real process kill is in embedded-process-kill.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { define, delay, Effects, eventually, finished, Gate, inState } from '../testing/run-probes.js';
import type { MemoryWorkflowStore } from '../testing/memory-workflow-store.js';
import { createLocalNotifier } from './options.js';
import { inWorld, startRequest, worldBackends } from './testing/engine-harness.js';

for (const backend of worldBackends()) {
  describe(`embedded engine recovery [${backend.name}]`, () => {
    test('a sleep resumes after a restart at its journaled wake time', () =>
      inWorld(backend, async (world, engine) => {
        const effects = new Effects();
        let afterAt = 0;
        const flow = define('flow', async (ctx) => {
          await ctx.step('a', async () => effects.hit('a'));
          await ctx.sleep('nap', 800);
          await ctx.step('b', async () => (effects.hit('b'), (afterAt = Date.now())));
        });
        const first = await engine([flow], { maxInMemorySleepMs: 60_000 });
        const { run } = await first.start(startRequest('flow'));
        await inState(world.store, run.runId, 'backing-off');
        await delay(100);
        await first.close(0);
        await delay(300);
        await engine([flow], { store: await world.openStore() });
        const done = await finished(world.store, run.runId, 3000);
        const nap = (await world.store.steps.list(run.runId)).find((s) => s.name === 'nap');
        const wakeAt = (nap?.result as { wakeAt: number }).wakeAt;
        assert.deepEqual([done.state, done.attempt, nap?.status], ['succeeded', 1, 'completed']);
        assert.ok(afterAt >= wakeAt, 'not before the wake time');
        assert.ok(afterAt < wakeAt + 350, `the timer was not restarted (${afterAt - wakeAt} ms late)`);
        assert.deepEqual([effects.count('a'), effects.count('b')], [1, 1]);
      }));

    test('a promise wait resumed after a restart keeps its deadline', () =>
      inWorld(backend, async (world, engine) => {
        // The deadline (2 s after the start) passes while no engine runs. Kept, the wait ends as
        // soon as the next engine claims the run; restarted, it would take another 2 s from there.
        const flow = define('flow', async (ctx) => ctx.awaitPromise('callback', { timeoutMs: 2000 }));
        const first = await engine([flow]);
        const { run } = await first.start(startRequest('flow'));
        await inState(world.store, run.runId, 'waiting');
        await first.close(0);
        await delay(2500);
        const restartedAt = Date.now();
        await engine([flow], { store: await world.openStore() });
        const done = await finished(world.store, run.runId, 5000);
        const afterRestart = Date.parse(done.finishedAt ?? '') - restartedAt;
        assert.deepEqual(done.output, { resolved: false });
        assert.ok(
          afterRestart < 2000,
          `the wait ended ${afterRestart} ms after the restart: the deadline was kept`,
        );
      }));

    test('a resolution delivered while no process holds the run is seen by the next one', () =>
      inWorld(backend, async (world, engine) => {
        const flow = define('flow', async (ctx) => ctx.awaitPromise('callback', { timeoutMs: 30_000 }));
        const first = await engine([flow]);
        const { run } = await first.start(startRequest('flow'));
        await inState(world.store, run.runId, 'waiting');
        await first.close(0);
        await first.resolvePromise(run.runId, 'callback', 'late but in time');
        await engine([flow], { store: await world.openStore() });
        assert.deepEqual((await finished(world.store, run.runId)).output, {
          resolved: true,
          value: 'late but in time',
        });
      }));

    test('a wait journals its deadline only once it lasts: a prompt resolution is journaled finished', () =>
      inWorld(backend, async (world, engine) => {
        const effects = new Effects();
        const flow = define('flow', async (ctx) => {
          await ctx.step('before', async () => effects.hit('before'));
          const outcome = await ctx.awaitPromise<string>('callback', { timeoutMs: 30_000 });
          await ctx.step('after', async () => effects.hit('after'));
          return outcome;
        });
        const finishes = () => (world.store as Partial<MemoryWorkflowStore>).writes?.get('steps.finish') ?? 0;
        const journal = async (runId: string) =>
          (await world.store.steps.list(runId)).map((s) => [s.name, s.status] as const);
        const started = await engine([flow]);
        const prompt = (await started.start(startRequest('flow'))).run;
        await eventually(() => (effects.count('before') === 1 ? true : undefined));
        await started.resolvePromise(prompt.runId, 'callback', 'prompt');
        assert.deepEqual((await finished(world.store, prompt.runId)).output, {
          resolved: true,
          value: 'prompt',
        });
        assert.equal(finishes(), 0, 'a prompt resolution journals no `started` entry to finish');

        const slow = (await started.start(startRequest('flow'))).run;
        await eventually(async () =>
          (await journal(slow.runId)).some(([name, status]) => name === 'callback' && status === 'started')
            ? true
            : undefined,
        );
        await started.resolvePromise(slow.runId, 'callback', 'slow');
        assert.deepEqual((await finished(world.store, slow.runId)).output, { resolved: true, value: 'slow' });
        assert.deepEqual(await journal(slow.runId), [
          ['before', 'completed'],
          ['callback', 'completed'],
          ['after', 'completed'],
        ]);
        if (backend.name === 'memory')
          assert.equal(finishes(), 1, 'a wait that lasted was journaled and finished');
      }));

    test('renaming a journaled step fails the run with NonDeterminismError, even if the code catches it', () =>
      inWorld(backend, async (world, engine) => {
        const gate = new Gate();
        const v1 = define('flow', async (ctx) => {
          await ctx.step('validate', async () => 1);
          await ctx.step('hold', () => gate.opened);
        });
        const v2 = define('flow', async (ctx) => {
          try {
            await ctx.step('validate-v2', async () => 1);
          } catch {
            return 'swallowed';
          }
        });
        const first = await engine([v1]);
        const { run } = await first.start(startRequest('flow'));
        await eventually(async () =>
          (await world.store.steps.list(run.runId)).length === 1 ? true : undefined,
        );
        await first.close(0);
        await engine([v2], { store: await world.openStore() });
        const done = await finished(world.store, run.runId);
        assert.equal(done.state, 'failed');
        assert.equal((done.error as { name: string }).name, 'NonDeterminismError');
        gate.open();
      }));

    test('two engines on one database: every step runs exactly once, and a killed engine is taken over', () =>
      inWorld(backend, async (world, engine) => {
        const notifier = createLocalNotifier();
        const effects = new Effects();
        const gate = new Gate();
        const flow = (hold: boolean) =>
          define('flow', async (ctx, input) => {
            const n = (input as { n: number }).n;
            await ctx.step('one', async () => effects.hit(`${n}:one`));
            const outcome = await ctx.awaitPromise<number>('callback', { timeoutMs: 30_000 });
            await ctx.step('held', async () => (effects.hit(`${n}:held`), hold && (await gate.opened)));
            await ctx.step('two', async () => effects.hit(`${n}:two`));
            return outcome.value;
          });
        // Leases long enough that a loaded machine does not lose one before the kill: a lease lost
        // early is a legitimate takeover that re-runs a step (steps are at least once), not what
        // this test is about.
        const leaseMs = 3000;
        const a = await engine([flow(true)], { notifier, store: await world.openStore(), leaseMs });
        const b = await engine([flow(false)], { notifier, store: await world.openStore(), leaseMs });
        const runs = await Promise.all(
          Array.from(
            { length: 16 },
            async (_, n) => (await [a, b][n % 2]!.start(startRequest('flow', { n }))).run,
          ),
        );
        for (const run of runs) await inState(world.store, run.runId, 'waiting');
        await Promise.all(runs.map((run, n) => [b, a][n % 2]!.resolvePromise(run.runId, 'callback', n)));
        await eventually(() => (runs.every((_, n) => effects.count(`${n}:held`) === 1) ? true : undefined));
        await a.close(0); // killed: runs held by `a` sit in step 'held' until their lease expires
        const done = await Promise.all(runs.map((run) => finished(world.store, run.runId)));
        assert.deepEqual(
          done.map((r) => r.output),
          runs.map((_, n) => n),
        );
        for (let n = 0; n < runs.length; n++) {
          assert.deepEqual([effects.count(`${n}:one`), effects.count(`${n}:two`)], [1, 1], `run ${n}`);
          assert.equal(
            effects.count(`${n}:held`),
            done[n]!.attempt,
            `run ${n}: the held step re-runs only after a takeover`,
          );
        }
        assert.ok(
          done.some((r) => r.attempt === 2),
          'some runs were taken over from the killed engine',
        );
        gate.open();
      }));

    test('a clean close releases its runs: another engine resumes them at once, not after the lease', () =>
      inWorld(backend, async (world, engine) => {
        const lease = { leaseMs: 60_000 };
        const effects = new Effects();
        const gate = new Gate();
        const flow = define('flow', async (ctx, input) => {
          const { n } = input as { n: number };
          await ctx.step('slow', async () => (effects.hit(`${n}:slow`), n === 1 && (await gate.opened)));
          if (n === 0) await ctx.awaitPromise('callback', { timeoutMs: 120_000 });
          await ctx.step('after', async () => effects.hit(`${n}:after`));
        });
        const first = await engine([flow], lease);
        const waiting = (await first.start(startRequest('flow', { n: 0 }))).run;
        const stepping = (await first.start(startRequest('flow', { n: 1 }))).run;
        await inState(world.store, waiting.runId, 'waiting');
        await eventually(() => (effects.count('1:slow') === 1 ? true : undefined));
        const closing = first.close(5_000);
        setTimeout(() => gate.open(), 50); // the step in flight ends within the grace
        await closing;
        for (const run of [waiting, stepping]) {
          const row = await world.store.runs.get(run.runId);
          assert.equal(row?.leaseOwner, null, `${run.runId} was released`);
        }
        const second = await engine([flow], { ...lease, store: await world.openStore() });
        await second.resolvePromise(waiting.runId, 'callback', 'done');
        const done = await Promise.all([waiting, stepping].map((run) => finished(world.store, run.runId)));
        assert.deepEqual(
          done.map((r) => r.state),
          ['succeeded', 'succeeded'],
        );
        assert.deepEqual(
          ['0:slow', '0:after', '1:slow', '1:after'].map((k) => effects.count(k)),
          [1, 1, 1, 1],
          'the step that finished within the grace was journaled and is not run again',
        );
      }));

    test('cancel through another engine interrupts the holder at once', () =>
      inWorld(backend, async (world, engine) => {
        const notifier = createLocalNotifier();
        const effects = new Effects();
        const flow = define('flow', async (ctx) => {
          await ctx.sleep('backoff', 30_000);
          await ctx.step('after', async () => effects.hit('after'));
        });
        const holder = await engine([flow], { notifier, maxInMemorySleepMs: 60_000 });
        const other = await engine([flow], {
          notifier,
          maxInMemorySleepMs: 60_000,
          store: await world.openStore(),
        });
        const { run } = await holder.start(startRequest('flow'));
        const sleeping = await inState(world.store, run.runId, 'backing-off');
        assert.ok(sleeping.leaseOwner !== null, 'the sleep is held in memory');
        assert.equal(await other.cancel(run.runId, 'operator'), true);
        assert.equal((await finished(world.store, run.runId)).state, 'cancelled');
        await delay(100);
        assert.equal(effects.count('after'), 0);
      }));
  });
}
