/**
 * Restate request-identity public keys (v1): `publickeyv1_` + the base58 (Bitcoin alphabet) spelling
 * of a raw 32-byte Ed25519 public key. A restate-server given the private key (PKCS#8 PEM) in
 * `RESTATE_WORKER__INVOKER__REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE` signs every request to a service
 * endpoint, discovery included, and logs this public form at start-up; an endpoint given the public key accepts only requests
 * so signed. No SDK import: configuration validation reads this without loading the SDK.
 */
import type { KeyObject } from 'node:crypto';

const PREFIX = 'publickeyv1_';
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const ED25519_PUBLIC_KEY_BYTES = 32;

/** True when `key` is a `publickeyv1_…` key whose payload decodes to an Ed25519 public key. */
export function isIdentityKey(key: string): boolean {
  if (!key.startsWith(PREFIX)) return false;
  return decodeBase58(key.slice(PREFIX.length))?.length === ED25519_PUBLIC_KEY_BYTES;
}

/** The `publickeyv1_…` form of an Ed25519 public key (what the restate-server logs for its private key). */
export function identityKeyOf(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || jwk.x === undefined) {
    throw new TypeError('a Restate identity key is an Ed25519 public key');
  }
  return PREFIX + encodeBase58(Buffer.from(jwk.x, 'base64url'));
}

function encodeBase58(bytes: Uint8Array): string {
  let value = BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
  let text = '';
  while (value > 0n) {
    text = ALPHABET[Number(value % 58n)]! + text;
    value /= 58n;
  }
  const zeros = bytes.findIndex((byte) => byte !== 0);
  return '1'.repeat(zeros === -1 ? bytes.length : zeros) + text;
}

/** The bytes `text` spells, or undefined when it is not base58. */
function decodeBase58(text: string): Uint8Array | undefined {
  if (text === '') return undefined;
  let value = 0n;
  for (const char of text) {
    const digit = ALPHABET.indexOf(char);
    if (digit === -1) return undefined;
    value = value * 58n + BigInt(digit);
  }
  const hex = value === 0n ? '' : value.toString(16);
  const body = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
  const zeros = /^1*/.exec(text)![0].length;
  return Buffer.concat([Buffer.alloc(zeros), body]);
}
