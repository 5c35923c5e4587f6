/**
 * `lessor secrets rotate-key`: seal every stored secret under a new key.
 *
 * - Key file (no `secrets.key`): the new key — from `--new-key-file`, else a fresh random one,
 *   else with `--resume` the file's current key — is written to the key file FIRST, current, with
 *   the old keys behind it; then every value is re-sealed. A crash at any point leaves a file that
 *   opens everything, and running the command again (`--resume`) finishes the job. When no value
 *   is left under an older key, the file is trimmed to the new key and the one before it (kept
 *   for a running server that has not yet re-read the file and still seals with it).
 * - `secrets.key` set: the new key is `secrets.key` and the old ones `secrets.previousKeys`; the
 *   command re-seals under `secrets.key` and says when `previousKeys` may go.
 * Re-sealing is the store's (`resealSecrets`): batches, one transaction each, compare-and-set per
 * row — safe beside running servers. The config-hash key is re-sealed, never changed.
 */
import type { Logger } from '../../domain/logger.js';
import { newSecretKey, secretKeyId, SecretKeyRing } from '../../domain/secret-key-ring.js';
import type { ResealReport } from '../../store/store.js';
import { buildProviders } from '../build-providers.js';
import { openDatabase } from '../open-database.js';
import { ConfigError } from '../config/config-error.js';
import type { LessorConfig } from '../config/config-schema.js';
import { secureDataDir } from './data-dir.js';
import { readKeyFile, writeKeyFile } from './key-file.js';
import { configuredKeys, keyFilePath, lateSecretFields, loadConfigHasher } from './server-secrets.js';

export interface RotateKeyOptions {
  /** A file in the key file's format holding the new key (its first key). */
  readonly newKeyFile?: string;
  /** Finish an interrupted rotation: re-seal under the key file's current key, make no new one. */
  readonly resume?: boolean;
  readonly batchSize?: number;
}

export interface RotationOutcome {
  readonly keyId: string;
  readonly report: ResealReport;
  /** The key file and the ids of the keys it holds afterwards, current first (key-file mode). */
  readonly keyFile?: { readonly path: string; readonly keyIds: readonly string[] };
}

interface Plan {
  readonly ring: SecretKeyRing;
  readonly keyFile?: { readonly path: string; readonly keys: readonly Buffer[]; readonly before: Buffer };
}

export async function rotateSecretsKey(
  config: LessorConfig,
  logger: Logger,
  options: RotateKeyOptions = {},
): Promise<RotationOutcome> {
  secureDataDir(config.dataDir, logger);
  const plan =
    config.secrets.key === undefined ? planKeyFile(config, options) : planConfigured(config, options);
  const report = await reseal(config, logger, plan.ring, options.batchSize);
  const keyId = plan.ring.currentKeyId;
  if (!plan.keyFile) return { keyId, report };
  const { path, keys, before } = plan.keyFile;
  const kept = report.remaining === 0 ? unique([keys[0]!, before]) : keys;
  if (kept.length < keys.length) writeKeyFile(path, kept);
  return { keyId, report, keyFile: { path, keyIds: kept.map(secretKeyId) } };
}

function planConfigured(config: LessorConfig, options: RotateKeyOptions): Plan {
  if (options.newKeyFile !== undefined || options.resume) {
    throw new ConfigError([
      {
        path: 'secrets.key',
        message:
          'is set, so the new key goes there: set secrets.key to the new key and secrets.previousKeys to the old one, restart every server, then run rotate-key without --new-key-file/--resume',
      },
    ]);
  }
  const keys = configuredKeys([config.secrets.key!, ...config.secrets.previousKeys]);
  return { ring: new SecretKeyRing(keys) };
}

function planKeyFile(config: LessorConfig, options: RotateKeyOptions): Plan {
  const path = keyFilePath(config);
  const existing = readKeyFile(path);
  if (!existing) {
    throw new ConfigError([
      {
        path: 'secrets.keyFile',
        message: `no key file at ${path}: nothing is sealed yet (Lessor makes it on first start)`,
      },
    ]);
  }
  const next = options.resume
    ? existing[0]!
    : options.newKeyFile
      ? newKeyFrom(options.newKeyFile)
      : newSecretKey();
  const keys = unique([next, ...existing]);
  // Written before any value is sealed under `next`: whatever happens next, the file opens it.
  writeKeyFile(path, keys);
  // The key servers ran with before this rotation began (resumed: the one behind the new key).
  const before = options.resume ? (existing[1] ?? existing[0]!) : existing[0]!;
  const previous = configuredKeys(config.secrets.previousKeys);
  return { ring: new SecretKeyRing([...keys, ...previous]), keyFile: { path, keys, before } };
}

function newKeyFrom(file: string): Buffer {
  const keys = readKeyFile(file);
  if (!keys) throw new ConfigError([{ path: '--new-key-file', message: `no such file: ${file}` }]);
  return keys[0]!;
}

async function reseal(
  config: LessorConfig,
  logger: Logger,
  ring: SecretKeyRing,
  batchSize: number | undefined,
): Promise<ResealReport> {
  const fields = lateSecretFields();
  const store = await openDatabase(config, logger, { secrets: { ring, fields } });
  try {
    const providers = await buildProviders(config, logger, await loadConfigHasher(store));
    try {
      fields.bind(providers);
      return await store.resealSecrets(batchSize === undefined ? {} : { batchSize });
    } finally {
      await providers.close();
    }
  } finally {
    await store.close();
  }
}

function unique(keys: readonly Buffer[]): Buffer[] {
  const seen = new Set<string>();
  return keys.filter((key) => {
    const id = secretKeyId(key);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
