/** `textProjection` answers what `JSON.stringify(wireProjection(schema)(JSON.parse(text)))` writes, or nothing. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { textProjection } from './wire-text.js';
import { wireProjection } from './wire-projection.js';

const Inner = z.object({ x: z.string(), d: z.string().nullable().default(null), o: z.number().optional() });
const Schema = z.object({
  a: z.string(),
  inner: Inner.nullable(),
  list: z.array(z.object({ n: z.number(), free: z.unknown().optional() })).readonly(),
  tail: z.boolean().default(false),
});

const project = textProjection(Schema);
const viaObjects = (text: string) => JSON.stringify(wireProjection(Schema)(JSON.parse(text)));

test('defaults are inserted where the projection writes them, also inside a nullable object', () => {
  const texts = [
    '{"a":"x","inner":null,"list":[]}',
    '{"a":"x","inner":{"x":"y"},"list":[]}',
    '{"a":"x","inner":{"x":"y","o":1},"list":[{"n":1}],"tail":true}',
    '{"a":"x","inner":{"x":"y","d":"z","o":2},"list":[{"n":1,"free":{"k":[1,{"b":null}]}},{"n":2}]}',
  ];
  for (const text of texts) assert.equal(project(text), viaObjects(text), text);
});

test('a text the projection would change is refused', () => {
  const texts = [
    '{"inner":null,"a":"x","list":[]}', // another order
    '{"a":"x","inner":null,"list":[],"extra":1}', // a field the schema does not name
    '{"a":"x","inner":{"x":"y","extra":1},"list":[]}',
    '{"a":"x","inner":null,"list":[{"n":1.50}]}', // a number String() writes otherwise
    '{"a":"x","inner":null,"list":[{"n":1,"free":{"1":2,"b":3}}]}', // an index-like key
    '{"a":"x", "inner":null,"list":[]}', // whitespace
    '{"a":"\\u0078","inner":null,"list":[]}', // an escape JSON.stringify does not write
  ];
  for (const text of texts) assert.equal(project(text), undefined, text);
});
