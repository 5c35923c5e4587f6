/**
 * The controller's passes stay cheap at 100 000 tenants only if SQLite, which keeps no statistics
 * here, picks their partial indexes: resync reads `tenants_unsettled`, drift reads the covering
 * `tenants_live_unpaused_phase` without touching a tenant row. The plans are taken from the SQL
 * the repository actually prepares.
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
