import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unifiedDiff } from './unified-diff.js';

const labels = { fromLabel: 'a', toLabel: 'b' };
const numbered = (n: number, change?: [number, string]) =>
  Array.from({ length: n }, (_, i) => (change && change[0] === i + 1 ? change[1] : `line ${i + 1}`)).join(
    '\n',
  ) + '\n';

const CASES: readonly { reason: string; from: string; to: string; expected: string }[] = [
  { reason: 'equal texts have no diff', from: 'x\ny\n', to: 'x\ny\n', expected: '' },
  {
    reason: 'one changed line with its context',
    from: 'provider: docker\nconfig:\n  image: a:1\n',
    to: 'provider: docker\nconfig:\n  image: a:2\n',
    expected: '--- a\n+++ b\n@@ -1,3 +1,3 @@\n provider: docker\n config:\n-  image: a:1\n+  image: a:2\n',
  },
  {
    reason: 'an addition into an empty text starts at line 0 of the old one',
    from: '',
    to: 'x\n',
    expected: '--- a\n+++ b\n@@ -0,0 +1,1 @@\n+x\n',
  },
  {
    reason: 'a removed middle line keeps 3 lines of context either side',
    from: numbered(9),
    to: numbered(9).replace('line 5\n', ''),
    expected:
      '--- a\n+++ b\n@@ -2,7 +2,6 @@\n line 2\n line 3\n line 4\n-line 5\n line 6\n line 7\n line 8\n',
  },
  {
    reason: 'changes far apart make two hunks',
    from: numbered(20),
    to: numbered(20, [2, 'two']).replace('line 19', 'nineteen'),
    expected: [
      '--- a',
      '+++ b',
      '@@ -1,5 +1,5 @@',
      ' line 1',
      '-line 2',
      '+two',
      ' line 3',
      ' line 4',
      ' line 5',
      '@@ -16,5 +16,5 @@',
      ' line 16',
      ' line 17',
      ' line 18',
      '-line 19',
      '+nineteen',
      ' line 20',
      '',
    ].join('\n'),
  },
  {
    reason: 'an insertion between kept lines is found by the common subsequence',
    from: 'env:\n  A: "1"\n  C: "3"\nimage: x\n',
    to: 'env:\n  A: "1"\n  B: "2"\n  C: "3"\nimage: x\n',
    expected: '--- a\n+++ b\n@@ -1,4 +1,5 @@\n env:\n   A: "1"\n+  B: "2"\n   C: "3"\n image: x\n',
  },
];

test('unifiedDiff', () => {
  for (const c of CASES) assert.equal(unifiedDiff(c.from, c.to, labels), c.expected, c.reason);
});

test('unifiedDiff colours removals, additions and hunk headers only when asked', () => {
  const text = unifiedDiff('a\n', 'b\n', { ...labels, color: true });
  assert.equal(
    text,
    '\u001b[31m--- a\u001b[0m\n\u001b[32m+++ b\u001b[0m\n\u001b[36m@@ -1,1 +1,1 @@\u001b[0m\n\u001b[31m-a\u001b[0m\n\u001b[32m+b\u001b[0m\n',
  );
});
