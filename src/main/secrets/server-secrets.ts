/**
 * The server's secrets at rest, as `serve` and `secrets rotate-key` open them:
 * - the data directory made private (data-dir.ts);
 * - the key ring: `secrets.key` (+ `secrets.previousKeys`) when set, else the key file under the
 *   data directory (+ `secrets.previousKeys`), created with a random key on first start;
 * - the config-hash key, kept sealed in the database (`server_secrets`) so that it never changes
 *   when the secrets key rotates and is shared by every replica of the database.
 * Which config values are secret comes from the provider registry, which needs the hash key, which
 * needs the store: the store gets a `SecretFields` whose registry is bound once it is built, before
 * any tenant is read.
 */
import { randomBytes } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { keyedConfigHasher, type ConfigHasher, HASH_KEY_BYTES } from '../../domain/config-hasher.js';
import type { Logger } from '../../domain/logger.js';
import { decodeSecretKey, SecretKeyRing, SecretsError } from '../../domain/secret-key-ring.js';
import type { JsonObject, JsonValue } from '../../domain/tenant.js';
import type { SecretFields, SecretsAtRest } from '../../store/sealed-specs.js';
import type { Store } from '../../store/store.js';
import { ConfigError } from '../config/config-error.js';
import type { LessorConfig } from '../config/config-schema.js';
import { secureDataDir } from './data-dir.js';
import { readKeyFile, readOrCreateKeyFile } from './key-file.js';

/** Where the current key comes from. */
export type KeySource = { readonly kind: 'config' } | { readonly kind: 'file'; readonly path: string };

export interface ServerSecrets {
  readonly atRest: SecretsAtRest;
  readonly source: KeySource;
  /** Makes the provider registry the judge of which config values are secret. */
  bindFields(fields: SecretFields): void;
}

/** The name of the config-hash key in `server_secrets`. */
export const CONFIG_HASH_KEY = 'config-hash-key';

export function keyFilePath(config: LessorConfig): string {
  const { keyFile } = config.secrets;
  return isAbsolute(keyFile) ? keyFile : resolve(config.dataDir, keyFile);
}

/** Keys configured in `secrets.key` / `secrets.previousKeys` (already validated by the schema). */
export function configuredKeys(keys: readonly string[]): Buffer[] {
  return keys.map((text) => decodeSecretKey(text)!);
}

export function openServerSecrets(config: LessorConfig, logger: Logger): ServerSecrets {
  secureDataDir(config.dataDir, logger);
  const { ring, source } = keyRingOf(config, logger);
  logger.info({ keyId: ring.currentKeyId, keyIds: ring.keyIds, source: source.kind }, 'secrets at rest');
  const fields = lateSecretFields();
  return { atRest: { ring, fields }, source, bindFields: (registry) => fields.bind(registry) };
}

function keyRingOf(config: LessorConfig, logger: Logger): { ring: SecretKeyRing; source: KeySource } {
  const previous = configuredKeys(config.secrets.previousKeys);
  if (config.secrets.key !== undefined) {
    const ring = new SecretKeyRing([...configuredKeys([config.secrets.key]), ...previous]);
    return { ring, source: { kind: 'config' } };
  }
  const path = keyFilePath(config);
  const { keys, created } = readOrCreateKeyFile(path);
  if (created)
    logger.info({ path }, 'created the secrets key file: back it up, the secrets in the database need it');
  const reload = keyFileReload(path, keys, previous, logger);
  return { ring: new SecretKeyRing([...keys, ...previous], { reload }), source: { kind: 'file', path } };
}

/**
 * Re-reads the key file when a value names a key the server lacks (`rotate-key` ran while it was
 * up): the server then opens the re-sealed values and seals with the new key. A file that cannot be
 * read now leaves the server with the keys it has, and a warning.
 */
function keyFileReload(path: string, keys: readonly Buffer[], previous: readonly Buffer[], logger: Logger) {
  let known = keys;
  return (): Buffer[] => {
    try {
      known = readKeyFile(path) ?? known;
      logger.info({ path }, 're-read the secrets key file: a stored value names a key this server lacked');
    } catch (error) {
      const err = error instanceof Error ? error.message : String(error);
      logger.warn({ path, err }, 'cannot re-read the secrets key file');
    }
    return [...known, ...previous];
  };
}

/**
 * The keyed config hasher of this deployment: its key is made once and kept sealed in the database.
 * A server whose keys cannot open it has the wrong secrets key: a configuration error, at start.
 */
export async function loadConfigHasher(store: Pick<Store, 'serverSecrets'>): Promise<ConfigHasher> {
  let encoded: string;
  try {
    encoded = await store.serverSecrets.getOrCreate(CONFIG_HASH_KEY, () =>
      randomBytes(HASH_KEY_BYTES).toString('base64'),
    );
  } catch (error) {
    if (!(error instanceof SecretsError)) throw error;
    throw new ConfigError([{ path: 'secrets.key', message: error.message }]);
  }
  return keyedConfigHasher(Buffer.from(encoded, 'base64'));
}

/** `SecretFields` answered by a registry bound later; using it before that is a wiring bug. */
export function lateSecretFields(): LateSecretFields {
  return new LateSecretFields();
}

class LateSecretFields implements SecretFields {
  private target: SecretFields | undefined;

  bind(target: SecretFields): void {
    this.target = target;
  }

  mapSecrets(provider: string, config: JsonObject, fn: (value: JsonValue) => JsonValue): JsonObject {
    if (!this.target) throw new Error('a tenant spec was read before the provider registry was built');
    return this.target.mapSecrets(provider, config, fn);
  }

  mayHoldSecrets(provider: string, text: string): boolean {
    return this.target?.mayHoldSecrets?.(provider, text) ?? true;
  }
}
