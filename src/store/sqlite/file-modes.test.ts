/** The SQLite file and its companions are Lessor's user's alone (0600), however they were made. */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openSqliteStore } from './sqlite-binding.js';
import { secureDatabaseFile } from './file-modes.js';

const root = mkdtempSync(join(tmpdir(), 'lessor-file-modes-'));
after(() => rmSync(root, { recursive: true, force: true }));
const modeOf = (path: string): number => statSync(path).mode & 0o777;

test('a new database file, its WAL and its directory are private from the first write', async () => {
  const filename = join(root, 'new', 'lessor.db');
  const store = openSqliteStore({ filename });
  try {
    await store.migrate();
    assert.equal(modeOf(join(root, 'new')), 0o700);
    for (const path of [filename, `${filename}-wal`, `${filename}-shm`]) {
      assert.ok(existsSync(path), path);
      assert.equal(modeOf(path), 0o600, path);
    }
  } finally {
    await store.close();
  }
});

test('existing files readable by others are tightened and reported', () => {
  const filename = join(root, 'old.db');
  for (const path of [filename, `${filename}-wal`]) {
    writeFileSync(path, '');
    chmodSync(path, 0o644);
  }
  assert.deepEqual(secureDatabaseFile(filename), [filename, `${filename}-wal`]);
  assert.equal(modeOf(filename), 0o600);
  assert.equal(modeOf(`${filename}-wal`), 0o600);
  assert.deepEqual(secureDatabaseFile(filename), []);
});
