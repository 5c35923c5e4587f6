/** Canonical JSON and hashes: key order never matters, everything else does. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { canonicalJson, deepEqualJson, sha256Hex } from './canonical-json.js';

const cases = [
  { reason: 'keys are sorted', value: { b: 1, a: 2 }, expect: '{"a":2,"b":1}' },
  {
    reason: 'nested keys are sorted',
    value: { z: { y: 1, x: [{ d: 1, c: 2 }] } },
    expect: '{"z":{"x":[{"c":2,"d":1}],"y":1}}',
  },
  { reason: 'array order is kept', value: [3, 1, 2], expect: '[3,1,2]' },
  { reason: 'undefined members are dropped', value: { a: undefined, b: null }, expect: '{"b":null}' },
  { reason: 'scalars pass through', value: 'x', expect: '"x"' },
  { reason: 'no whitespace', value: { a: [1, { b: 'c d' }] }, expect: '{"a":[1,{"b":"c d"}]}' },
];

for (const { reason, value, expect } of cases) {
  test(`canonicalJson: ${reason}`, () => assert.equal(canonicalJson(value), expect));
}

test('sha256Hex matches the standard test vector', () => {
  assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

/** Rebuilds every object of `value` with its keys in reverse insertion order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reverseKeys(v)]),
    );
  }
  return value;
}

test('property: key order never changes the canonical form; canonical form is a fixed point', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      assert.equal(canonicalJson(reverseKeys(value)), canonicalJson(value));
      assert.ok(deepEqualJson(value, reverseKeys(value)));
      assert.equal(canonicalJson(JSON.parse(canonicalJson(value))), canonicalJson(value));
    }),
    { numRuns: 500 },
  );
});

test('deepEqualJson tells different values apart', () => {
  assert.equal(deepEqualJson({ a: [1] }, { a: [1, 1] }), false);
  assert.equal(deepEqualJson({ a: 1 }, { a: '1' }), false);
  assert.equal(deepEqualJson(null, {}), false);
});

/** The form as first defined: JSON.stringify of a copy with sorted keys (what the one-pass writer must match). */
function reference(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>)
        .filter(([, m]) => m !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return Object.fromEntries(entries.map(([k, m]) => [k, sortKeys(m)]));
    }
    return v;
  };
  return JSON.stringify(sortKeys(value));
}

/** JSON-ish values with the awkward parts: index-like keys, undefined, NaN, functions, Dates, -0. */
const awkward = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(undefined, null, NaN, Infinity, -0, true, () => 1, Symbol('s'), new Date(0)),
    fc.double(),
    fc.integer(),
    fc.string(),
    fc.array(tie('value')),
    fc.dictionary(
      fc.oneof(
        fc.string(),
        fc.constantFrom('0', '1', '10', '9', '01', '4294967294', '4294967295', '-1', '__proto__'),
      ),
      tie('value'),
    ),
  ),
})).value;

test('property: canonicalJson writes exactly what sorting a copy and JSON.stringify would', () => {
  fc.assert(
    fc.property(awkward, (value) => {
      assert.equal(canonicalJson(value), reference(value));
    }),
    { numRuns: 2000 },
  );
});

test('property: deepEqualJson is equality of the canonical forms', () => {
  fc.assert(
    fc.property(awkward, awkward, (a, b) => {
      assert.equal(deepEqualJson(a, b), reference(a) === reference(b));
      assert.equal(deepEqualJson(a, reverseKeys(a)), true);
    }),
    { numRuns: 2000 },
  );
  const pairs: [unknown, unknown][] = [
    [{ a: undefined }, {}],
    [[undefined], [null]],
    [[NaN], [null]],
    [{ a: NaN }, { a: null }],
    [0, -0],
    [undefined, () => 1],
    [undefined, null],
    [{ a: () => 1 }, {}],
    [new Date(0), {}],
    [[], {}],
    [
      { 1: 'a', b: 2 },
      { b: 2, 1: 'a' },
    ],
  ];
  for (const [a, b] of pairs)
    assert.equal(deepEqualJson(a, b), reference(a) === reference(b), `${reference(a)}`);
});
