import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { silentLogger } from '../domain/logger.js';
import { WorkQueue, type WorkQueueOptions } from './work-queue.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function queue(
  overrides: Partial<WorkQueueOptions<string>> & Pick<WorkQueueOptions<string>, 'handle'>,
): WorkQueue<string> {
  return new WorkQueue<string>({
    workers: 4,
    ratePerSecond: 100_000,
    timeoutMs: 5_000,
    backoff: { initialMs: 1, maxMs: 5 },
    logger: silentLogger,
    ...overrides,
  });
}

test('work queue model: a key is never handled twice at once, and every enqueue is followed by a handling', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd'), gapMs: fc.nat(3), workMs: fc.nat(4) }), {
        minLength: 1,
        maxLength: 40,
      }),
      fc.integer({ min: 1, max: 4 }),
      async (ops, workers) => {
        const active = new Set<string>();
        const lastEnqueued = new Map<string, number>();
        const lastHandledStart = new Map<string, number>();
        let clock = 0;
        let overlap = false;
        const work = new Map<string, number>(ops.map((op) => [op.key, op.workMs]));
        const q = queue({
          workers,
          handle: async (key) => {
            if (active.has(key)) overlap = true;
            active.add(key);
            lastHandledStart.set(key, ++clock);
            await tick(work.get(key) ?? 0);
            active.delete(key);
          },
        });
        q.start();
        for (const op of ops) {
          lastEnqueued.set(op.key, ++clock);
          q.enqueue(op.key, 'api');
          await tick(op.gapMs);
        }
        await q.whenIdle();
        await q.stop(100);
        assert.equal(overlap, false, 'a key was handled by two workers at once');
        for (const [key, enqueuedAt] of lastEnqueued) {
          assert.ok(
            (lastHandledStart.get(key) ?? 0) > enqueuedAt,
            `key ${key} was not handled after its last enqueue`,
          );
        }
      },
    ),
    { numRuns: 40 },
  );
});

test('work queue collapses duplicate enqueues of a waiting key', async () => {
  let handled = 0;
  const q = queue({ workers: 1, handle: async () => void handled++ });
  for (let i = 0; i < 10; i++) q.enqueue('same', 'api');
  q.start();
  await q.whenIdle();
  await q.stop(100);
  assert.equal(handled, 1);
});

test('work queue backs off a failing key and handles it again', async () => {
  let calls = 0;
  const q = queue({
    workers: 1,
    handle: async () => {
      calls++;
      if (calls < 3) throw new Error('transient');
    },
  });
  q.start();
  q.enqueue('flaky', 'api');
  const deadline = Date.now() + 2_000;
  while (calls < 3 && Date.now() < deadline) await tick(5);
  await q.stop(100);
  assert.equal(calls, 3);
});

test('work queue honours requeueAfterMs and the per-handling timeout', async () => {
  const seen: string[] = [];
  let first = true;
  const q = queue({
    workers: 2,
    timeoutMs: 30,
    handle: async (key, _source, signal) => {
      seen.push(key);
      if (key === 'slow' && first) {
        first = false;
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
      }
      return key === 'again' && seen.filter((k) => k === 'again').length === 1
        ? { requeueAfterMs: 10 }
        : undefined;
    },
  });
  q.start();
  q.enqueue('again', 'controller');
  q.enqueue('slow', 'controller');
  const deadline = Date.now() + 2_000;
  while (
    (seen.filter((k) => k === 'again').length < 2 || seen.filter((k) => k === 'slow').length < 2) &&
    Date.now() < deadline
  ) {
    await tick(5);
  }
  await q.stop(100);
  assert.equal(seen.filter((k) => k === 'again').length, 2, 'requeueAfterMs handled the key once more');
  assert.equal(
    seen.filter((k) => k === 'slow').length,
    2,
    'a timed-out handling counts as a failure and is retried',
  );
});

test('work queue rate limit spaces handlings out', async () => {
  const starts: number[] = [];
  const q = queue({ workers: 4, ratePerSecond: 50, handle: async () => void starts.push(Date.now()) });
  for (let i = 0; i < 5; i++) q.enqueue(`k${i}`, 'api');
  q.start();
  await q.whenIdle();
  await q.stop(100);
  assert.equal(starts.length, 5);
  // 50 tokens/s with a full bucket: all five fit in the initial burst; the bucket never exceeds its size.
  const q2starts: number[] = [];
  const q2 = queue({ workers: 4, ratePerSecond: 2, handle: async () => void q2starts.push(Date.now()) });
  for (let i = 0; i < 4; i++) q2.enqueue(`k${i}`, 'api');
  q2.start();
  await q2.whenIdle();
  await q2.stop(100);
  assert.ok(q2starts[3]! - q2starts[0]! >= 400, `4 handlings at 2/s took ${q2starts[3]! - q2starts[0]!} ms`);
});
