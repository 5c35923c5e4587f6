/**
 * The controller's passes stay cheap at 100 000 tenants only if SQLite, which keeps no statistics
 * here, picks their partial indexes: resync reads `tenants_unsettled`, drift reads the covering
 * `tenants_live_unpaused_phase` without touching a tenant row. The plans are taken from the SQL
 * the repository actually prepares.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { sqliteBackend } from '../testing/test-databases.js';

const database = await sqliteBackend.create();
after(() => database.cleanup());

/** The SQL texts better-sqlite3 is asked to prepare while `work` runs. */
async function preparedDuring(work: () => Promise<unknown>): Promise<string[]> {
  const proto = BetterSqlite3.prototype as unknown as { prepare(sql: string): unknown };
  const prepare = proto.prepare;
  const seen: string[] = [];
  proto.prepare = function (this: unknown, sql: string) {
    seen.push(sql);
    return prepare.call(this, sql);
  };
  try {
    await work();
  } finally {
    proto.prepare = prepare;
  }
  return seen;
}

function planOf(sql: string): string {
  const db = new BetterSqlite3(database.url.slice('sqlite:'.length), { readonly: true });
  try {
    const params = Array.from(sql.matchAll(/\?/g), () => null);
    const rows = db.prepare(`explain query plan ${sql}`).all(...params) as { detail: string }[];
    return rows.map((row) => row.detail).join(' | ');
  } finally {
    db.close();
  }
}

async function planDuring(work: () => Promise<unknown>): Promise<string> {
  const sql = await preparedDuring(work);
  const query = sql.find((text) => text.includes('from "tenants"'));
  assert.ok(query, `no tenants query was prepared: ${sql.join('; ')}`);
  return planOf(query);
}

test('a resync pass reads the unsettled-tenants partial index', async () => {
  const plan = await planDuring(() => database.store.tenants.listSummaries('tenant-x', 1000, 'unsettled'));
  assert.match(plan, /USING (COVERING )?INDEX tenants_unsettled\b/);
});

test('a drift pass reads only the covering index of live, unpaused tenants', async () => {
  const plan = await planDuring(() => database.store.tenants.listReady('tenant-x', 1000));
  assert.match(plan, /USING COVERING INDEX tenants_live_unpaused_phase \(phase=\? AND id>\?\)/);
});
