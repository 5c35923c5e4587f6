/**
 * The controller's passes stay cheap at 100 000 tenants only if SQLite, which keeps no statistics
 * here, picks their partial indexes: resync reads `tenants_unsettled`, drift reads the covering
 * `tenants_live_unpaused_phase` without touching a tenant row. The plans are taken from the SQL
 * the repository actually prepares. A GET by name must use the live-names partial index, decided
 * once per statement (`archived = 0` as a literal).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { sqliteBackend } from '../testing/test-databases.js';
import { planOf, preparedDuring } from './testing/query-plan.js';

const database = await sqliteBackend.create();
after(() => database.cleanup());

async function planDuring(work: () => Promise<unknown>): Promise<string> {
  const sql = await preparedDuring(work);
  const query = sql.find((text) => text.includes('from "tenants"'));
  assert.ok(query, `no tenants query was prepared: ${sql.join('; ')}`);
  return planOf(database.url.slice('sqlite:'.length), query);
}

test('a resync pass reads the unsettled-tenants partial index', async () => {
  const plan = await planDuring(() => database.store.tenants.listSummaries('tenant-x', 1000, 'unsettled'));
  assert.match(plan, /USING (COVERING )?INDEX tenants_unsettled\b/);
});

test('a drift pass reads only the covering index of live, unpaused tenants', async () => {
  const plan = await planDuring(() => database.store.tenants.listReady('tenant-x', 1000));
  assert.match(plan, /USING COVERING INDEX tenants_live_unpaused_phase \(phase=\? AND id>\?\)/);
});

test('a lookup by name reads the live-names partial index with archived = 0 as a literal', async () => {
  const sql = await preparedDuring(() => database.store.tenants.get('no-such-tenant'));
  const query = sql.find((text) => text.includes('from "tenants"'));
  assert.ok(query, `no tenants query was prepared: ${sql.join('; ')}`);
  // A bound `archived = ?` makes SQLite re-prepare the statement on every run to decide whether
  // the partial index applies; the literal lets it decide once.
  assert.match(query, /"archived" = 0/);
  const plan = planOf(database.url.slice('sqlite:'.length), query);
  assert.match(plan, /USING INDEX tenants_active_name_unique \(name=\?\)/);
});
