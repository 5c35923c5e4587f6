/** Conformance: migrations, foreign keys, readiness, and the global event stream. */
import assert from 'node:assert/strict';
import { StoreUnavailableError, UnavailableError } from '../../domain/errors.js';
import { createStore } from '../create-store.js';
import { setDatabaseReadOnly, terminateConnections } from '../postgres/database-admin.js';
import { DEFAULT_TEST_PG_URL } from '../testing/test-databases.js';
import { specOf, unique, type Conformance } from './harness.js';
import { liveTenantCount } from '../testing/tenant-count.js';

export function schemaAndStream(c: Conformance): void {
  c.test('migrations are idempotent (again, and from a second store)', async () => {
    await c.store().migrate();
    await c.store().migrate();
    const other = await createStore({ url: c.database().url });
    await Promise.all([other.migrate(), c.store().migrate()]);
    await other.close();
    await c.store().ping();
  });

  c.test('two stores racing to migrate a fresh database both succeed', async () => {
    const fresh = await c.backend.create({ migrate: false });
    const other = await createStore({ url: fresh.url });
    try {
      await Promise.all([fresh.store.migrate(), other.migrate()]);
      assert.equal(await liveTenantCount(other), 0);
    } finally {
      await other.close();
      await fresh.cleanup();
    }
  });

  c.test('foreign keys are enforced: events need their tenant, journal entries their run', async () => {
    const ghost = '01900000-0000-7000-8000-000000000bad';
    const at = new Date().toISOString();
    await assert.rejects(
      c.store().steps.record({
        runId: unique('r'),
        seq: 1,
        name: 'orphan',
        kind: 'step',
        status: 'completed',
        result: null,
        error: null,
        startedAt: at,
        finishedAt: at,
        durationMs: 0,
      }),
    );
    await assert.rejects(c.store().steps.resolvePromise(unique('r'), 'k', null, at));
    await assert.rejects(
      c.store().appendEvent(ghost, {
        type: 'Audit',
        actor: 'x',
        reason: 'r',
        message: '',
        fromPhase: null,
        toPhase: null,
        generation: 1,
        runId: null,
        executionId: null,
      }),
    );
  });

  c.test('events: appendEvent, per-tenant pages and the global stream share one sequence', async () => {
    const store = c.store();
    const start = await store.events.latestSeq();
    const a = await store.tenants.create({ name: unique('ev'), spec: specOf(), actor: 'test' });
    const b = await store.tenants.create({ name: unique('ev'), spec: specOf(), actor: 'test' });
    await store.appendEvent(a.id, {
      type: 'RunStateChanged',
      actor: 'engine',
      reason: 'RunRunning',
      message: 'm',
      fromPhase: null,
      toPhase: null,
      generation: 1,
      runId: 'r',
      executionId: null,
      data: { state: 'running' },
    });
    const stream = await store.events.listSince(start, 100);
    assert.deepEqual(
      stream.map((e) => [e.tenantId, e.type]),
      [
        [a.id, 'Created'],
        [b.id, 'Created'],
        [a.id, 'RunStateChanged'],
      ],
    );
    assert.ok(stream.every((e, i) => i === 0 || e.seq > stream[i - 1]!.seq));
    assert.equal(await store.events.latestSeq(), stream[2]!.seq);
    assert.deepEqual(stream[2]!.data, { state: 'running' });
    const page = await store.events.listByTenant(a.id, { afterSeq: stream[0]!.seq, limit: 10 });
    assert.deepEqual(
      page.map((e) => e.type),
      ['RunStateChanged'],
    );
    assert.deepEqual(await store.events.listSince(stream[2]!.seq, 10), []);
  });

  c.test('a reader tailing the stream during concurrent writes misses no event', async () => {
    const store = c.store();
    const tenants = await Promise.all(
      Array.from({ length: 8 }, () =>
        store.tenants.create({ name: unique('tail'), spec: specOf(), actor: 'test' }),
      ),
    );
    const start = await store.events.latestSeq();
    let writing = true;
    const seen: number[] = [];
    const tail = (async () => {
      let cursor = start;
      for (let idle = 0; writing || idle < 2;) {
        const batch = await store.events.listSince(cursor, 50);
        seen.push(...batch.map((e) => e.seq));
        cursor = batch.at(-1)?.seq ?? cursor;
        idle = batch.length === 0 && !writing ? idle + 1 : 0;
      }
    })();
    const audit = (id: string, i: number) =>
      store.tenants.change(id, { actor: 'test', audit: [{ type: 'Audit', reason: `a${i}`, message: '' }] });
    for (let round = 0; round < 10; round++)
      await Promise.all(tenants.map((t, i) => audit(t.id, round * 10 + i)));
    writing = false;
    await tail;
    const written = (await store.events.listSince(start, 1000)).map((e) => e.seq);
    assert.equal(written.length, 80);
    assert.deepEqual(seen, written);
  });

  c.test('ping answers; a closed store is unavailable; close is idempotent', async () => {
    const other = await createStore({ url: c.database().url });
    await other.ping();
    await other.close();
    await other.close();
    await assert.rejects(other.ping());
  });

  c.test(
    'connections killed by the server (as in a restart) are replaced; the process survives',
    async () => {
      const store = await createStore({ url: c.database().url });
      try {
        await Promise.all([store.ping(), store.ping(), store.ping()]);
        const name = new URL(c.database().url).pathname.slice(1);
        await terminateConnections(process.env.LESSOR_TEST_PG_URL ?? DEFAULT_TEST_PG_URL, name);
        await new Promise((resolve) => setTimeout(resolve, 100));
        await store.ping();
        assert.equal(typeof (await liveTenantCount(store)), 'number');
      } finally {
        await store.close();
      }
    },
    { onlyOn: 'postgres' },
  );

  c.test(
    'an unreachable server is UnavailableError from ping, queries and migrate',
    async () => {
      const store = await createStore({ url: 'postgres://postgres@127.0.0.1:1/nowhere' });
      try {
        await assert.rejects(store.ping(), UnavailableError);
        await assert.rejects(store.tenants.get('acme'), UnavailableError);
        await assert.rejects(store.migrate(), /ECONNREFUSED 127\.0\.0\.1:1/);
        await assert.rejects(store.migrate(), UnavailableError);
      } finally {
        await store.close();
      }
    },
    { onlyOn: 'postgres' },
  );

  c.test('the write probe commits a write, again and again, concurrently', async () => {
    await Promise.all([c.store().probeWrite(), c.store().probeWrite()]);
    await c.store().probeWrite();
  });

  c.test(
    'a read-only database: the write probe and writes fail as StoreUnavailableError, reads work, then writes do again',
    async () => {
      const adminUrl = process.env.LESSOR_TEST_PG_URL ?? DEFAULT_TEST_PG_URL;
      const name = new URL(c.database().url).pathname.slice(1);
      const store = await createStore({ url: c.database().url });
      try {
        const kept = await store.tenants.create({ name: unique('ro'), spec: specOf(), actor: 'test' });
        await setDatabaseReadOnly(adminUrl, name, true);
        await assert.rejects(store.probeWrite(), StoreUnavailableError);
        await assert.rejects(
          store.tenants.create({ name: unique('ro'), spec: specOf(), actor: 'test' }),
          (error: unknown) => error instanceof StoreUnavailableError && error.code === 'STORE_UNAVAILABLE',
        );
        assert.equal((await store.tenants.get(kept.id))?.id, kept.id);
        await setDatabaseReadOnly(adminUrl, name, false);
        await store.tenants.create({ name: unique('ro'), spec: specOf(), actor: 'test' });
        await assert.rejects(
          store.probeWrite(),
          /storage incident is open/,
          'not ready until writes stay quiet',
        );
      } finally {
        await setDatabaseReadOnly(adminUrl, name, false);
        await store.close();
      }
    },
    { onlyOn: 'postgres' },
  );
}
