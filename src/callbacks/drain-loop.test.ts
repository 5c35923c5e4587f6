import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DrainLoop, type DrainLoopOptions } from './drain-loop.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

async function until(ok: () => boolean): Promise<void> {
  while (!ok()) await turn();
}

/** A drain the test finishes by hand, counting its runs. */
function gatedDrain() {
  const gates: (() => void)[] = [];
  const drain = () => new Promise<void>((resolve) => gates.push(resolve));
  return { gates, drain };
}

function loopWith(options: Partial<DrainLoopOptions> & Pick<DrainLoopOptions, 'drain'>): DrainLoop {
  return new DrainLoop({
    nextDueAt: async () => null,
    pollIntervalMs: 3_600_000,
    whenPastDue: 'poll',
    onError: (error) => assert.fail(String(error)),
    ...options,
  });
}

test('wakes during a drain coalesce into exactly one more drain', async () => {
  const { gates, drain } = gatedDrain();
  const loop = loopWith({ drain });
  loop.start();
  assert.equal(gates.length, 1, 'start drains at once');
  loop.wake();
  loop.wake();
  loop.wake();
  assert.equal(gates.length, 1, 'one drain at a time');
  gates[0]!();
  await until(() => gates.length === 2);
  gates[1]!();
  const stopped = loop.stop();
  await stopped;
  assert.equal(gates.length, 2, 'three wakes during the first drain made one more drain, not three');
  loop.wake();
  assert.equal(gates.length, 2, 'a stopped loop does not drain');
});

test('a due time already past drains again at once when the owner asks for it', async () => {
  let runs = 0;
  let due: number | null = 0;
  const loop = loopWith({
    drain: async () => {
      runs++;
      if (runs === 3) due = null;
    },
    nextDueAt: async () => due,
    whenPastDue: 'drain',
  });
  loop.start();
  await until(() => runs === 3);
  await loop.stop();
  assert.equal(runs, 3);
});

test('a drain that throws is reported, and the next wake drains again', async () => {
  const errors: unknown[] = [];
  let runs = 0;
  const loop = loopWith({
    drain: async () => {
      runs++;
      if (runs === 1) throw new Error('database unavailable');
    },
    onError: (error) => errors.push(error),
  });
  loop.start();
  await until(() => errors.length === 1);
  assert.match(String(errors[0]), /database unavailable/);
  loop.wake();
  await until(() => runs === 2);
  await loop.stop();
  assert.equal(errors.length, 1);
});

test('a poll drains only when a row is due, and then at once', async () => {
  let drains = 0;
  let lookups = 0;
  let due: number | null = null;
  const loop = loopWith({
    drain: async () => {
      drains++;
      due = null;
    },
    nextDueAt: async () => {
      lookups++;
      return due;
    },
    pollIntervalMs: 1,
  });
  loop.start();
  await until(() => lookups >= 10);
  assert.equal(drains, 1, 'the start drains; polls with nothing due do not');
  due = 0;
  await until(() => drains === 2);
  const seen = lookups;
  await until(() => lookups >= seen + 5);
  await loop.stop();
  assert.equal(drains, 2, 'the drained row is gone: the polls after it drain nothing');
});

test('a drain woken only for held work is not full; one that coalesces a wake() is', async () => {
  const fulls: boolean[] = [];
  const gates: (() => void)[] = [];
  const loop = loopWith({
    drain: (full) => {
      fulls.push(full);
      return new Promise<void>((resolve) => gates.push(resolve));
    },
  });
  loop.start();
  gates[0]!();
  await until(() => fulls.length === 1);
  loop.wakeForHeld();
  await until(() => gates.length === 2);
  loop.wakeForHeld();
  loop.wake();
  loop.wakeForHeld();
  gates[1]!();
  await until(() => gates.length === 3);
  loop.wakeForHeld();
  gates[2]!();
  await until(() => gates.length === 4);
  gates[3]!();
  await loop.stop();
  assert.deepEqual(fulls, [true, false, true, false], 'start, held, held+wake+held coalesced, held');
});
