/**
 * The SQLite binding's prepared-statement cache: a statement is prepared once per SQL text, the
 * cache stays within its size, and the statement dropped for a new one is an old one not run since
 * the eviction walk last passed it (second chance).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { STATEMENT_CACHE_SIZE, withStatementCache } from './sqlite-binding.js';

const text = (i: number) => `select ${i} as n`;

test('a statement is prepared once per SQL text, and an unused old one makes room first', () => {
  const database = new BetterSqlite3(':memory:');
  try {
    const cache = withStatementCache(database);
    const first = cache.prepare(text(0));
    assert.equal(cache.prepare(text(0)), first, 'the same statement for the same text');
    const second = cache.prepare(text(1));
    for (let i = 2; i < STATEMENT_CACHE_SIZE; i++) cache.prepare(text(i));
    // Full: text(0) was run again since it was prepared, text(1) was not.
    cache.prepare(text(STATEMENT_CACHE_SIZE));
    assert.equal(cache.prepare(text(0)), first, 'a statement run again keeps its place');
    assert.notEqual(cache.prepare(text(1)), second, 'the oldest unused statement was dropped');
    const third = cache.prepare(text(2));
    for (let i = 0; i < 3 * STATEMENT_CACHE_SIZE; i++) cache.prepare(text(1000 + i));
    assert.notEqual(cache.prepare(text(2)), third, 'the cache stays within its size');
    assert.deepEqual(cache.prepare(text(2)).get(), { n: 2 });
  } finally {
    database.close();
  }
});
