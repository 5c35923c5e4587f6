/** Sealing secret values: round trips, key ids, rings, context binding and tampering. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeSecretKey,
  encodeSecretKey,
  isSealed,
  newSecretKey,
  sealedKeyId,
  secretKeyId,
  SecretKeyRing,
  SecretsError,
} from './secret-key-ring.js';

const oldKey = Buffer.alloc(32, 7);
const newKey = Buffer.alloc(32, 9);

test('a sealed value opens to the plaintext and shows neither plaintext nor key', () => {
  const ring = new SecretKeyRing([oldKey]);
  const sealed = ring.seal('hunter2', 'tenant:a');
  assert.ok(isSealed(sealed), sealed);
  assert.ok(!sealed.includes('hunter2'));
  assert.equal(sealedKeyId(sealed), secretKeyId(oldKey));
  assert.equal(ring.open(sealed, 'tenant:a'), 'hunter2');
});

test('every seal uses a fresh nonce', () => {
  const ring = new SecretKeyRing([oldKey]);
  assert.notEqual(ring.seal('same', 'c'), ring.seal('same', 'c'));
});

test('a ring seals with its first key and opens with any of them', () => {
  const before = new SecretKeyRing([oldKey]).seal('v', 'c');
  const ring = new SecretKeyRing([newKey, oldKey]);
  assert.equal(ring.currentKeyId, secretKeyId(newKey));
  assert.deepEqual(ring.keyIds, [secretKeyId(newKey), secretKeyId(oldKey)]);
  assert.equal(ring.open(before, 'c'), 'v');
  assert.equal(sealedKeyId(ring.seal('v', 'c')), secretKeyId(newKey));
});

const refusals = [
  {
    reason: 'a key the ring does not hold',
    sealed: () => new SecretKeyRing([newKey]).seal('v', 'c'),
    context: 'c',
    message: /does not have/,
  },
  {
    reason: 'another context (a ciphertext copied to another tenant)',
    sealed: () => new SecretKeyRing([oldKey]).seal('v', 'tenant:a'),
    context: 'tenant:b',
    message: /failed authentication/,
  },
  {
    reason: 'a flipped ciphertext byte',
    sealed: () => {
      const sealed = new SecretKeyRing([oldKey]).seal('value', 'c');
      const body = Buffer.from(sealed.split(':')[3]!, 'base64url');
      body[13] = body[13]! ^ 1;
      return `enc:v1:${secretKeyId(oldKey)}:${body.toString('base64url')}`;
    },
    context: 'c',
    message: /failed authentication/,
  },
  { reason: 'a malformed value', sealed: () => 'enc:v1:zz', context: 'c', message: /malformed/ },
];

for (const { reason, sealed, context, message } of refusals) {
  test(`open refuses ${reason} with a SecretsError`, () => {
    const ring = new SecretKeyRing([oldKey]);
    assert.throws(
      () => ring.open(sealed(), context),
      (error: unknown) => error instanceof SecretsError && message.test(error.message),
    );
  });
}

test('isSealed accepts only the sealed form', () => {
  for (const value of ['hunter2', 'enc:v1:', 'enc:v1:abcdefgh:xyz', 42, null])
    assert.equal(isSealed(value), false, String(value));
});

test('keys decode from base64 or hex, 32 bytes only', () => {
  const key = newSecretKey();
  assert.deepEqual(decodeSecretKey(encodeSecretKey(key)), key);
  assert.deepEqual(decodeSecretKey(key.toString('hex')), key);
  assert.deepEqual(decodeSecretKey(`  ${key.toString('base64url')}\n`), key);
  for (const bad of ['', 'short', Buffer.alloc(16).toString('base64'), Buffer.alloc(33).toString('hex')])
    assert.equal(decodeSecretKey(bad), undefined, bad);
});

test('a ring with reload picks up a key it lacks (a rotation while running), at most once a second', () => {
  const later = new SecretKeyRing([newKey, oldKey]).seal('v', 'c');
  let clock = 0;
  let reloads = 0;
  const ring = new SecretKeyRing([oldKey], {
    now: () => clock,
    reload: () => (++reloads, [newKey, oldKey]),
  });
  assert.equal(ring.open(later, 'c'), 'v');
  assert.equal(ring.currentKeyId, secretKeyId(newKey), 'new values go under the reloaded current key');
  const unknown = new SecretKeyRing([Buffer.alloc(32, 3)]).seal('v', 'c');
  assert.throws(() => ring.open(unknown, 'c'), SecretsError);
  assert.equal(reloads, 1, 'a second miss within a second does not re-read');
  clock += 1_000;
  assert.throws(() => ring.open(unknown, 'c'), SecretsError);
  assert.equal(reloads, 2);
});
