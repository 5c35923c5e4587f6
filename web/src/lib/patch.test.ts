import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changeCount, patchLines } from './patch.js';

test('patchLines: each RFC 6902 operation reads as one marked line', () => {
  const cases = [
    {
      reason: 'an add shows its value',
      op: { op: 'add' as const, path: '/labels/tier', value: 'gold' },
      want: { op: '+', text: '/labels/tier: "gold"' },
    },
    {
      reason: 'a remove shows only the path',
      op: { op: 'remove' as const, path: '/labels/tier' },
      want: { op: '-', text: '/labels/tier' },
    },
    {
      reason: 'a replace shows the new value',
      op: { op: 'replace' as const, path: '/suspended', value: true },
      want: { op: '~', text: '/suspended: true' },
    },
    {
      reason: 'a masked secret stays masked',
      op: { op: 'replace' as const, path: '/config/secretEnv/DB', value: '***' },
      want: { op: '~', text: '/config/secretEnv/DB: "***"' },
    },
    {
      reason: 'a move names its source',
      op: { op: 'move' as const, path: '/a', from: '/b' },
      want: { op: '~', text: '/a ← moved from /b' },
    },
  ];
  for (const c of cases) assert.deepEqual(patchLines([c.op]), [c.want], c.reason);
});

test('patchLines: a long value is cut, never the path', () => {
  const [line] = patchLines([{ op: 'add', path: '/config/env/BIG', value: 'x'.repeat(1000) }]);
  assert.ok(line!.text.startsWith('/config/env/BIG: "xxx'), 'path kept');
  assert.ok(line!.text.length < 260, `cut (${line!.text.length})`);
  assert.ok(line!.text.endsWith('…'));
});

test('changeCount', () => {
  assert.equal(changeCount([]), 'no change');
  assert.equal(changeCount([1]), '1 change');
  assert.equal(changeCount([1, 2]), '2 changes');
});
