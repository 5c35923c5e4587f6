import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasChanges, lineDiff } from './diff.js';

const show = (before: string, after: string) =>
  lineDiff(before, after)
    .map((l) => `${l.op}${l.text}`)
    .join('|');

test('lineDiff marks removed and added lines around the common ones', () => {
  const cases = [
    { before: 'a\nb\nc\n', after: 'a\nb\nc\n', want: ' a| b| c', reason: 'identical' },
    { before: 'a\nb\nc', after: 'a\nB\nc', want: ' a|-b|+B| c', reason: 'one line changed' },
    {
      before: 'env:\n  MODE: prod\n',
      after: 'env:\n  MODE: debug\n  X: "1"\n',
      want: ' env:|-  MODE: prod|+  MODE: debug|+  X: "1"',
      reason: 'yaml map',
    },
    { before: '', after: 'a\n', want: '+a', reason: 'from nothing' },
    { before: 'a\nb', after: '', want: '-a|-b', reason: 'to nothing' },
    { before: 'x\r\ny', after: 'x\ny', want: ' x| y', reason: 'CRLF is a line end' },
  ];
  for (const c of cases) assert.equal(show(c.before, c.after), c.want, c.reason);
});

test('hasChanges', () => {
  assert.equal(hasChanges(lineDiff('a\n', 'a\n')), false);
  assert.equal(hasChanges(lineDiff('a\n', 'b\n')), true);
});

test('a huge diff degrades to remove-all/add-all instead of a quadratic table', () => {
  const big = Array.from({ length: 3000 }, (_, i) => `line ${i}`).join('\n');
  const other = Array.from({ length: 3000 }, (_, i) => `row ${i}`).join('\n');
  const diff = lineDiff(big, other);
  assert.equal(diff.length, 6000);
  assert.equal(diff[0]!.op, '-');
  assert.equal(diff[5999]!.op, '+');
});
