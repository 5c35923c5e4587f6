import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WriteBatcher } from './write-batcher.js';

/** A write the test releases by hand, recording each batch it was given. */
function gatedWrite() {
  const batches: number[][] = [];
  const gates: { release: () => void; fail: (error: Error) => void }[] = [];
  const write = (items: readonly number[]) => {
    batches.push([...items]);
    return new Promise<readonly string[]>((resolve, reject) =>
      gates.push({ release: () => resolve(items.map((i) => `done ${i}`)), fail: reject }),
    );
  };
  return { batches, gates, write };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('the first item is written at once; items added meanwhile share the next write', async () => {
  const { batches, gates, write } = gatedWrite();
  const batcher = new WriteBatcher(write, 100);
  const first = batcher.add(1);
  assert.deepEqual(batches, [[1]], 'no wait before a lone write');
  const rest = [batcher.add(2), batcher.add(3), batcher.add(4)];
  gates[0]!.release();
  assert.equal(await first, 'done 1');
  await turn();
  assert.deepEqual(batches, [[1], [2, 3, 4]]);
  gates[1]!.release();
  assert.deepEqual(await Promise.all(rest), ['done 2', 'done 3', 'done 4']);
  const later = batcher.add(5);
  assert.deepEqual(batches.at(-1), [5], 'a quiet batcher writes the next item at once');
  gates[2]!.release();
  assert.equal(await later, 'done 5');
});

test('batches are capped; a failed write fails its own items only', async () => {
  const { batches, gates, write } = gatedWrite();
  const batcher = new WriteBatcher(write, 2);
  const all = [1, 2, 3, 4, 5].map((i) => batcher.add(i).catch((error: Error) => error.message));
  gates[0]!.release();
  await turn();
  gates[1]!.fail(new Error('disk full'));
  await turn();
  gates[2]!.release();
  assert.deepEqual(await Promise.all(all), ['done 1', 'disk full', 'disk full', 'done 4', 'done 5']);
  assert.deepEqual(batches, [[1], [2, 3], [4, 5]]);
});
