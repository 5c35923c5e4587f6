/**
 * The store's SQLite connection checkpoints its WAL every `WAL_AUTOCHECKPOINT_PAGES` pages, not at
 * SQLite's default 1 000 (sqlite-binding.ts): a checkpoint copies every page the WAL holds back into
 * the database file, so a rarer one copies a hot page once where the default copied it many times.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openSqliteDatabase, WAL_AUTOCHECKPOINT_PAGES } from './sqlite-binding.js';

const root = mkdtempSync(join(tmpdir(), 'lessor-wal-checkpoint-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('a WAL past SQLite’s default 1 000 pages is not checkpointed by the commits that grow it', () => {
  assert.ok(WAL_AUTOCHECKPOINT_PAGES > 2_000);
  const database = openSqliteDatabase({ filename: join(root, 'lessor.db') });
  try {
    assert.equal(database.pragma('wal_autocheckpoint', { simple: true }), WAL_AUTOCHECKPOINT_PAGES);
    database.exec('create table filler (id integer primary key, body blob not null)');
    const insert = database.prepare('insert into filler (body) values (zeroblob(3000))');
    // About 1 500 pages in commits of 50 rows: each commit past 1 000 would have checkpointed and
    // the next one restarted the WAL from its first frame.
    for (let commit = 0; commit < 30; commit++) {
      database.transaction(() => {
        for (let row = 0; row < 50; row++) insert.run();
      })();
    }
    const [state] = database.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
    assert.ok(state!.log > 1_000, `the WAL holds ${state!.log} frames`);
  } finally {
    database.close();
  }
});
