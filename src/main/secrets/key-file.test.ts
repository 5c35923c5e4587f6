/** The secrets key file: created private, refused when readable by others or malformed, rewritten atomically. */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { encodeSecretKey, newSecretKey } from '../../domain/secret-key-ring.js';
import { ConfigError } from '../config/config-error.js';
import { readKeyFile, readOrCreateKeyFile, writeKeyFile } from './key-file.js';

const root = mkdtempSync(join(tmpdir(), 'lessor-key-file-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(root, `case-${++n}`, 'secrets.key');

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('secrets key file', () => {
  test('is created with one random key, mode 0600, in a 0700 directory, and read back unchanged', () => {
    const path = fresh();
    const { keys, created } = readOrCreateKeyFile(path);
    assert.equal(created, true);
    assert.equal(keys.length, 1);
    assert.equal(modeOf(path), 0o600);
    assert.equal(modeOf(join(path, '..')), 0o700);
    const again = readOrCreateKeyFile(path);
    assert.equal(again.created, false);
    assert.deepEqual(again.keys, keys);
  });

  const refusals = [
    {
      reason: 'group-readable',
      mode: 0o640,
      text: () => encodeSecretKey(newSecretKey()),
      message: /chmod 600/,
    },
    {
      reason: 'world-readable',
      mode: 0o604,
      text: () => encodeSecretKey(newSecretKey()),
      message: /mode 0604/,
    },
    { reason: 'not a key', mode: 0o600, text: () => 'hunter2', message: /line 1 is not a 32-byte key/ },
    { reason: 'empty', mode: 0o600, text: () => '# nothing\n', message: /holds no key/ },
  ];
  for (const { reason, mode, text, message } of refusals) {
    test(`a ${reason} key file stops the start with a configuration error`, () => {
      const path = fresh();
      readOrCreateKeyFile(path);
      writeFileSync(path, `${text()}\n`);
      chmodSync(path, mode);
      assert.throws(
        () => readOrCreateKeyFile(path),
        (error: unknown) => error instanceof ConfigError && message.test(error.message),
      );
    });
  }

  test('a rewrite replaces the keys atomically and stays 0600; hex keys and comments are read', () => {
    const path = fresh();
    const [a, b] = [newSecretKey(), newSecretKey()];
    readOrCreateKeyFile(path);
    writeKeyFile(path, [a, b]);
    assert.equal(modeOf(path), 0o600);
    assert.deepEqual(readKeyFile(path), [a, b]);
    writeFileSync(path, `# ring\n${a.toString('hex')}\n\n${encodeSecretKey(b)}\n`);
    assert.deepEqual(readKeyFile(path), [a, b]);
    assert.doesNotMatch(readFileSync(path, 'utf8'), /tmp/);
  });

  test('a missing file reads as undefined', () => {
    assert.equal(readKeyFile(fresh()), undefined);
  });
});
