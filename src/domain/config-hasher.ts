/**
 * Keyed hashes of JSON values: the `configHash` of execution and run records, runtime labels and
 * tags, the per-field hashes providers record, and every other hash a caller or a database reader
 * may see. A plain hash of a config would be an offline oracle for the secrets inside it (guess a
 * weak password, hash the config with it, compare); a keyed one tells nothing without the key.
 *
 * A hasher is a function of its key, injected wherever hashes are made (no module-level key).
 * Execution ids derive from config hashes, so the key must stay the same for the life of a
 * deployment — it is not the secrets key, which rotates (see docs/decisions.md).
 */
import { createHmac } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/** Short, stable hash of any JSON value under the server's hash key: 16 hex chars (64 bits). */
export type ConfigHasher = (value: unknown) => string;

export const HASH_KEY_BYTES = 32;

/** HMAC-SHA256 of the canonical JSON, truncated to 16 hex chars; key order never matters. */
export function keyedConfigHasher(key: Uint8Array): ConfigHasher {
  if (key.length < HASH_KEY_BYTES) throw new RangeError(`a hash key needs ${HASH_KEY_BYTES} bytes`);
  const secret = Buffer.from(key);
  return (value) => createHmac('sha256', secret).update(canonicalJson(value)).digest('hex').slice(0, 16);
}
