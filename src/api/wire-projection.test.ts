/**
 * `wireProjection` yields what a zod parse yields for valid documents, and refuses what it cannot
 * project.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { wireProjection } from './wire-projection.js';

const Item = z.object({ name: z.string(), size: z.number().optional() });
const Doc = z.object({
  id: z.string(),
  kind: z.enum(['a', 'b']),
  item: Item.nullable(),
  items: z.array(Item).readonly(),
  byName: z.record(z.string(), Item),
  tags: z.record(z.string(), z.string()),
  blob: z.unknown(),
  note: z.string().optional(),
  plan: z.string().nullable().default(null),
});

const cases: { reason: string; value: unknown }[] = [
  {
    reason: 'every field, with unknown fields at every level',
    value: {
      extra: 1,
      blob: { keep: { everything: [1, 2] } },
      tags: { t: 'v' },
      byName: { x: { name: 'x', size: 1, junk: true } },
      items: [
        { name: 'i', junk: 2 },
        { name: 'j', size: 3 },
      ],
      item: { size: 2, name: 'n', junk: 3 },
      kind: 'a',
      id: 'id-1',
      note: 'n',
    },
  },
  {
    reason: 'strings that need escaping, integer-like record keys, a set default',
    value: {
      id: 'quote " backslash \\ newline \n \u2028 é \ud800',
      kind: 'b',
      item: { name: '\u0000' },
      items: [{ name: 'a', size: 1.5 }],
      byName: { '2': { name: 'two' }, b: { name: 'b' }, '1': { name: 'one' } },
      tags: { z: 'last', '10': 'ten', a: 'first' },
      blob: [{ b: 1, a: [null, 'x'] }],
      plan: 'p',
    },
  },
  {
    reason: 'null, empty and absent optional fields',
    value: { id: 'id-2', kind: 'b', item: null, items: [], byName: {}, tags: {}, blob: null },
  },
];

describe('wireProjection', () => {
  const project = wireProjection<unknown>(Doc);
  for (const { reason, value } of cases) {
    test(`${reason}: the same bytes as a zod parse`, () => {
      assert.equal(JSON.stringify(project(value)), JSON.stringify(Doc.parse(value)));
    });
  }

  test('the input is not changed', () => {
    const value = structuredClone(cases[0]!.value);
    project(value);
    assert.deepEqual(value, cases[0]!.value);
  });

  const refused: { reason: string; schema: z.ZodType }[] = [
    { reason: 'a transform', schema: z.object({ a: z.string().transform((s) => s.length) }) },
    {
      reason: 'a default around a kind it cannot project',
      schema: z.object({ a: z.date().default(() => new Date(0)) }),
    },
    { reason: 'a union', schema: z.object({ a: z.union([z.string(), Item]) }) },
  ];
  for (const { reason, schema } of refused) {
    test(`refuses ${reason} when compiled, naming where`, () => {
      assert.throws(() => wireProjection(schema), /cannot project a '\w+' schema \(at a\)/);
    });
  }
});
