/**
 * Sealing of single secret values for storage: AES-256-GCM with a random 96-bit nonce per value and
 * the key's id stored with the ciphertext, so a ring of keys — the current one and those being
 * rotated out — opens values sealed under any of them, while new values always use the current key.
 *
 * Sealed form: `enc:v1:<keyId>:<base64url(nonce ‖ ciphertext ‖ tag)>`. `keyId` is the first 8 hex
 * digits of HMAC-SHA256(key, "lessor-key-id"): it names a key without revealing it. Every value is
 * bound to a `context` (associated data, e.g. `tenant:<id>`), so a ciphertext copied to another place
 * does not open there. Pure: `node:crypto` only computes; where keys come from is the caller's
 * business (`reload`).
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { LessorError } from './errors.js';

export const SECRET_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const PREFIX = 'enc:v1:';
const SEALED = /^enc:v1:([0-9a-f]{8}):([A-Za-z0-9_-]{38,})$/;

/** A sealed value that cannot be opened: wrong or missing key, or tampered with. A server fault. */
export class SecretsError extends LessorError {
  constructor(message: string, details: Readonly<Record<string, unknown>> = {}) {
    super('INTERNAL', message, details);
  }
}

/** 32 bytes written as base64 (or base64url) or as 64 hex digits; undefined for anything else. */
export function decodeSecretKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) return undefined;
  const key = Buffer.from(trimmed, 'base64');
  return key.length === SECRET_KEY_BYTES ? key : undefined;
}

export function encodeSecretKey(key: Uint8Array): string {
  return Buffer.from(key).toString('base64');
}

export function newSecretKey(): Buffer {
  return randomBytes(SECRET_KEY_BYTES);
}

export function secretKeyId(key: Uint8Array): string {
  return createHmac('sha256', key).update('lessor-key-id').digest('hex').slice(0, 8);
}

export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX) && SEALED.test(value);
}

/** The id of the key `value` was sealed under; undefined when it is not a sealed value. */
export function sealedKeyId(value: string): string | undefined {
  return SEALED.exec(value)?.[1];
}

export interface SecretKeyRingOptions {
  /**
   * Called when a value names a key the ring lacks (at most once a second): the keys as they are
   * now, current first — e.g. a key file re-read after `lessor secrets rotate-key` changed it, so a
   * running server follows a rotation instead of failing until it restarts.
   */
  readonly reload?: () => readonly Uint8Array[];
  /** Clock for the reload throttle (epoch ms). */
  readonly now?: () => number;
}

const RELOAD_INTERVAL_MS = 1_000;

export class SecretKeyRing {
  private keys = new Map<string, Buffer>();
  private current = '';
  private lastReload = Number.NEGATIVE_INFINITY;

  /** `keys[0]` seals; every key opens. Duplicates are ignored. */
  constructor(
    keys: readonly Uint8Array[],
    private readonly options: SecretKeyRingOptions = {},
  ) {
    this.replace(keys);
  }

  /** The id of the key new values are sealed under. */
  get currentKeyId(): string {
    return this.current;
  }

  /** Ids of every key, the current one first. */
  get keyIds(): readonly string[] {
    return [...this.keys.keys()];
  }

  has(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  seal(plaintext: string, context: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, nonce);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const sealed = Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url');
    return `${PREFIX}${this.currentKeyId}:${sealed}`;
  }

  /** @throws SecretsError when `sealed` is malformed, under a key not in the ring, or not authentic here. */
  open(sealed: string, context: string): string {
    const match = SEALED.exec(sealed);
    if (!match) throw new SecretsError('a stored secret value is malformed');
    const keyId = match[1]!;
    const key = this.keys.get(keyId) ?? this.reloadFor(keyId);
    if (!key) {
      throw new SecretsError(
        `a stored secret is sealed under key ${keyId}, which this server does not have (its keys: ${this.keyIds.join(', ')}); configure that key as secrets.key or in secrets.previousKeys`,
        { keyId },
      );
    }
    const raw = Buffer.from(match[2]!, 'base64url');
    if (raw.length < NONCE_BYTES + TAG_BYTES) throw new SecretsError('a stored secret value is malformed');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const body = raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new SecretsError(`a stored secret sealed under key ${keyId} failed authentication`, {
        keyId,
        cause: error instanceof Error ? error.message : String(error),
      });
    }
  }

  private reloadFor(keyId: string): Buffer | undefined {
    const { reload, now = Date.now } = this.options;
    if (!reload || now() - this.lastReload < RELOAD_INTERVAL_MS) return undefined;
    this.lastReload = now();
    this.replace(reload());
    return this.keys.get(keyId);
  }

  private replace(keys: readonly Uint8Array[]): void {
    const next = new Map<string, Buffer>();
    for (const key of keys) {
      if (key.length !== SECRET_KEY_BYTES) throw new RangeError(`a secrets key is ${SECRET_KEY_BYTES} bytes`);
      const id = secretKeyId(key);
      if (!next.has(id)) next.set(id, Buffer.from(key));
    }
    const first = next.keys().next();
    if (first.done) throw new RangeError('a key ring needs at least one key');
    this.keys = next;
    this.current = first.value;
  }
}
