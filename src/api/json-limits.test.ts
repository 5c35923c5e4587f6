import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONFIG_LIMITS, jsonShapeProblems } from './json-limits.js';

const nest = (depth: number): unknown => (depth <= 1 ? 'x' : { a: nest(depth - 1) });

test('JSON shape limits', () => {
  const cases: [string, unknown, string | null][] = [
    ['plain config', { image: 'nginx', env: { A: 'b' }, ports: [{ containerPort: 80 }] }, null],
    ['tabs and newlines in values', { cert: '-----BEGIN-----\n\tabc\r\n' }, null],
    ['10 levels', nest(10), null],
    ['11 levels', nest(11), 'nested deeper than 10'],
    ['NUL in a value', { a: 'x\u0000' }, 'NUL or control'],
    ['escape in a value', { a: '\u001b[31m' }, 'NUL or control'],
    ['control in a key', { 'a\u0001': 1 }, 'key contains'],
    ['empty key', { '': 1 }, 'key must be'],
    ['long key', { ['k'.repeat(257)]: 1 }, 'key must be'],
    ['long string', { a: 'x'.repeat(65_537) }, 'longer than'],
    ['too many values', { a: Array.from({ length: 10_001 }, () => 1) }, 'more than 10000'],
    ['Infinity', { a: Infinity }, 'not a finite number'],
  ];
  for (const [reason, value, expected] of cases) {
    const problems = jsonShapeProblems(value, CONFIG_LIMITS);
    if (expected === null) assert.deepEqual(problems, [], reason);
    else
      assert.ok(
        problems.some((p) => p.message.includes(expected)),
        `${reason}: ${JSON.stringify(problems)}`,
      );
  }
});

test('very deep values are measured without recursion', () => {
  let value: unknown = 1;
  for (let i = 0; i < 200_000; i++) value = [value];
  const problems = jsonShapeProblems(value, CONFIG_LIMITS);
  assert.equal(problems.length, 1);
  assert.deepEqual(problems[0]!.path.length, 9);
});
