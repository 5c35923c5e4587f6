/**
 * The store's SQLite connection keeps statement journals in memory (`temp_store = MEMORY`,
 * sqlite-binding.ts): a folded write's trigger or a savepoint in a group commit's batch that
 * changes more than 64 KiB of pages would otherwise spill its journal to a temporary file, created
 * and unlinked for every such statement.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openSqliteDatabase } from './sqlite-binding.js';

const root = mkdtempSync(join(tmpdir(), 'lessor-statement-journal-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('temporary storage, statement journals included, is kept in memory', () => {
  const database = openSqliteDatabase({ filename: join(root, 'lessor.db') });
  try {
    assert.equal(database.pragma('temp_store', { simple: true }), 2);
  } finally {
    database.close();
  }
});
