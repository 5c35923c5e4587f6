/**
 * Conformance: the audit trail. A purge writes its `tenant.purge` record in the purge's own
 * transaction; records survive the purge's cascade, page newest first, and the database itself
 * refuses to change or delete them (checked with raw SQL, past the repositories).
 */
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { InvalidTransitionError } from '../../domain/errors.js';
import { parseDatabaseUrl } from '../create-store.js';
import { archive } from './tenant-basics.js';
import { specOf, unique, type Conformance } from './harness.js';

/** Runs `statement` on the database behind `url` without Lessor's store in between. */
async function rawExecute(url: string, statement: string): Promise<void> {
  const target = parseDatabaseUrl(url);
  if (target.kind === 'sqlite') {
    const db = new BetterSqlite3(target.filename);
    try {
      db.prepare(statement).run();
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

export function auditRecords(c: Conformance): void {
  c.test('a purge leaves one tenant.purge record that outlives the tenant', async () => {
    const store = c.store();
    const name = unique('audited');
    const tenant = await store.tenants.create({
      name,
      spec: specOf({ labels: { plan: 'pro' }, config: { image: 'x', secretEnv: { K: 'hunter2' } } }),
      actor: 'test',
    });
    await assert.rejects(store.tenants.purge(tenant.id, { actor: 'api:admin' }), InvalidTransitionError);
    const before = await store.audit.list({ limit: 500 });
    assert.ok(!before.items.some((r) => r.targetId === tenant.id), 'a refused purge leaves no record');

    await archive(store, tenant.id);
    const record = await store.tenants.purge(tenant.id, { actor: 'api:admin' });
    assert.equal(await store.tenants.get(tenant.id), undefined);
    const [listed] = (await store.audit.list({ limit: 1 })).items;
    assert.deepEqual(listed, record);
    assert.equal(record.action, 'tenant.purge');
    assert.equal(record.actor, 'api:admin');
    assert.equal(record.targetId, tenant.id);
    assert.equal(record.targetName, name);
    assert.deepEqual(record.details, {
      provider: 'fake',
      labels: { plan: 'pro' },
      generation: 1,
      createdAt: tenant.createdAt,
      archivedAt: record.details.archivedAt,
    });
    assert.ok(!JSON.stringify(record).includes('hunter2'), 'no spec, no secrets');
  });

  c.test('records page newest first with a cursor', async () => {
    const store = c.store();
    const purged: string[] = [];
    for (let i = 0; i < 3; i++) {
      const tenant = await store.tenants.create({ name: unique('paged'), spec: specOf(), actor: 'test' });
      await archive(store, tenant.id);
      purged.push((await store.tenants.purge(tenant.id, { actor: 'test' })).id);
    }
    const first = await store.audit.list({ limit: 2 });
    assert.deepEqual(
      first.items.map((r) => r.id),
      [purged[2], purged[1]],
    );
    assert.ok(first.nextCursor);
    const second = await store.audit.list({ limit: 2, cursor: first.nextCursor });
    assert.equal(second.items[0]?.id, purged[0]);
  });

  c.test('archived tenants are found by name, newest first', async () => {
    const store = c.store();
    const name = unique('reused');
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const tenant = await store.tenants.create({ name, spec: specOf(), actor: 'test' });
      await archive(store, tenant.id);
      ids.push(tenant.id);
    }
    await store.tenants.create({ name, spec: specOf(), actor: 'test' });
    const archived = await store.tenants.listArchivedByName(name, 10);
    assert.deepEqual(
      archived.map((t) => t.id),
      [ids[1], ids[0]],
    );
    assert.equal((await store.tenants.listArchivedByName(name, 1)).length, 1);
    assert.deepEqual(await store.tenants.listArchivedByName(unique('nobody'), 10), []);
  });

  c.test('the database refuses to update or delete an audit record', async () => {
    const store = c.store();
    const tenant = await store.tenants.create({ name: unique('immutable'), spec: specOf(), actor: 'test' });
    await archive(store, tenant.id);
    const record = await store.tenants.purge(tenant.id, { actor: 'api:admin' });
    const url = c.database().url;
    const id = record.id.replace(/'/g, '');
    await assert.rejects(
      rawExecute(url, `update audit_records set actor = 'someone else' where id = '${id}'`),
      /append-only/,
    );
    await assert.rejects(rawExecute(url, `delete from audit_records where id = '${id}'`), /append-only/);
    if (c.backend.name === 'postgres') {
      await assert.rejects(rawExecute(url, 'truncate audit_records'), /append-only/);
    }
    const [still] = (await store.audit.list({ limit: 1 })).items;
    assert.deepEqual(still, record);
  });
}
