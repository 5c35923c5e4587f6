/** Keyed config hashes: stable for one key, different under another, never the plain SHA-256. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import { keyedConfigHasher } from './config-hasher.js';

const keyA = Buffer.alloc(32, 1);
const keyB = Buffer.alloc(32, 2);
const config = { image: 'app:1', secretEnv: { DB_PASSWORD: 'hunter2' } };

test('a keyed hash is 16 hex chars, ignores key order and tells values apart', () => {
  const hash = keyedConfigHasher(keyA);
  assert.match(hash({ a: 1 }), /^[0-9a-f]{16}$/);
  assert.equal(hash({ a: 1, b: [1, 2] }), hash({ b: [1, 2], a: 1 }));
  assert.notEqual(hash({ a: 1 }), hash({ a: 2 }));
  assert.notEqual(hash([1, 2]), hash([2, 1]));
});

test('the same key gives the same hash in another hasher (ids survive a restart)', () => {
  assert.equal(keyedConfigHasher(Buffer.from(keyA))(config), keyedConfigHasher(keyA)(config));
});

test('two keys give different hashes of the same config', () => {
  assert.notEqual(keyedConfigHasher(keyA)(config), keyedConfigHasher(keyB)(config));
});

test('a keyed hash is not the plain SHA-256 prefix a guesser could recompute', () => {
  const plain = sha256Hex(canonicalJson(config)).slice(0, 16);
  assert.notEqual(keyedConfigHasher(keyA)(config), plain);
});

test('a short key is refused', () => {
  assert.throws(() => keyedConfigHasher(Buffer.alloc(16)), RangeError);
});
