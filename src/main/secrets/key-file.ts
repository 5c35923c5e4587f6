/**
 * The secrets key file: one key per line (base64), the current key first, then keys kept to open
 * values sealed under them (a rotation leaves the key before it there). It is Lessor's user's
 * alone: a file group or others may read, or one that does not parse, stops the start with a
 * message saying what to do — a key that leaked is no key. Writes are atomic: a new file appears
 * whole or not at all (created by `link`, so two servers starting together agree on one key),
 * and a rewrite replaces the file by `rename`.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { decodeSecretKey, encodeSecretKey, newSecretKey } from '../../domain/secret-key-ring.js';
import { ConfigError } from '../config/config-error.js';

const HEADER = '# Lessor secrets key ring: the first key seals, every key opens. Keep it secret; back it up.';

/** The keys in `path`, current first; undefined when there is no such file. */
export function readKeyFile(path: string): Buffer[] | undefined {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if ((mode & 0o077) !== 0) {
    const shown = (mode & 0o777).toString(8).padStart(4, '0');
    throw keyFileProblem(`${path} is readable by group or others (mode ${shown}): run chmod 600 ${path}`);
  }
  return parseKeys(path, readFileSync(path, 'utf8'));
}

/**
 * The keys in `path`, creating the file with one new random key when it does not exist. When
 * another process creates it first, its keys are read instead.
 */
export function readOrCreateKeyFile(path: string): { keys: Buffer[]; created: boolean } {
  const existing = readKeyFile(path);
  if (existing) return { keys: existing, created: false };
  const keys = [newSecretKey()];
  const temp = writeTemp(path, keys);
  try {
    linkSync(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { keys: readKeyFile(path) ?? keys, created: false };
  } finally {
    unlinkSync(temp);
  }
  return { keys, created: true };
}

/** Replaces the file's keys (current first), atomically. */
export function writeKeyFile(path: string, keys: readonly Uint8Array[]): void {
  renameSync(writeTemp(path, keys), path);
}

function writeTemp(path: string, keys: readonly Uint8Array[]): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = join(dirname(path), `.secrets-key.${randomBytes(6).toString('hex')}.tmp`);
  writeFileSync(temp, `${HEADER}\n${keys.map(encodeSecretKey).join('\n')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(temp, 0o600);
  return temp;
}

function parseKeys(path: string, text: string): Buffer[] {
  const keys: Buffer[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const key = decodeSecretKey(line);
    if (!key) throw keyFileProblem(`${path} line ${index + 1} is not a 32-byte key (base64 or hex)`);
    keys.push(key);
  }
  if (keys.length === 0) throw keyFileProblem(`${path} holds no key`);
  return keys;
}

function keyFileProblem(message: string): ConfigError {
  return new ConfigError([{ path: 'secrets.keyFile', message }]);
}
