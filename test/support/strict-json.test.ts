import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStrictJson, StrictJsonError } from './strict-json.js';

test('parseStrictJson reads what JSON.parse reads', () => {
  const valid = [
    '{"level":30,"time":"2026-01-01T00:00:00.000Z","msg":"a \\"quoted\\" \\u00e9 line"}',
    ' [1, -2.5e3, 0, true, false, null, "", {}, []] ',
    '{"a":{"b":{"c":[{"d":1},{"d":2}]}},"e":"\\n\\t\\/"}',
    '{"__proto__":1,"constructor":{"x":1}}',
    '"text"',
  ];
  for (const text of valid) assert.deepEqual(parseStrictJson(text), JSON.parse(text), text);
});

test('parseStrictJson refuses duplicate keys and anything JSON.parse refuses', () => {
  const cases: readonly { reason: string; text: string }[] = [
    { reason: 'a duplicate key', text: '{"provider":"docker","provider":"docker"}' },
    { reason: 'a duplicate key in a nested object', text: '{"a":{"b":1,"b":2}}' },
    { reason: 'a duplicate key inside an array', text: '[{"x":1},{"y":1,"y":1}]' },
    { reason: 'a duplicate spelt with an escape', text: '{"a":1,"\\u0061":2}' },
    { reason: 'a trailing comma', text: '{"a":1,}' },
    { reason: 'single quotes', text: "{'a':1}" },
    { reason: 'a raw control character', text: '{"a":"x\ny"}' },
    { reason: 'a leading zero', text: '[01]' },
    { reason: 'text after the value', text: '{"a":1} {"b":2}' },
    { reason: 'a truncated line', text: '{"a":1' },
    { reason: 'an empty line', text: '' },
  ];
  for (const c of cases) {
    assert.throws(() => parseStrictJson(c.text), StrictJsonError, c.reason);
  }
});
