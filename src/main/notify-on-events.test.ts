/** The store as writers see it: every committed event write tells the change signal; nothing else does. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newExecution, specOf } from '../store/conformance/harness.js';
import type { TenantEventDraft } from '../domain/tenant-event.js';
import { sqliteBackend, type TestDatabase } from '../store/testing/test-databases.js';
import { notifyOnEvents } from './notify-on-events.js';

const spec = specOf();
const audit: TenantEventDraft = {
  type: 'Audit',
  actor: 'test',
  reason: 'test',
  message: 'a write',
  fromPhase: null,
  toPhase: null,
  generation: 1,
  runId: null,
  executionId: null,
  data: {},
};

describe('notifyOnEvents', () => {
  let db: TestDatabase | undefined;
  before(async () => {
    db = await sqliteBackend.create();
  });
  after(() => db?.cleanup());

  test('each committed event write signals once, after the commit; reads and refused writes do not', async () => {
    const raw = db!.store;
    const seen: number[] = [];
    let pending: Promise<number>[] = [];
    const store = notifyOnEvents(raw, { changed: () => void pending.push(raw.events.latestSeq()) });
    const signalled = async () => {
      seen.push(...(await Promise.all(pending)));
      const count = pending.length;
      pending = [];
      return count;
    };
    const writes: [string, () => Promise<unknown>][] = [];
    const tenant = await store.tenants.create({ name: 'notify-a', spec, actor: 'test' });
    assert.equal(await signalled(), 1, 'tenants.create');
    assert.equal(seen.at(-1), await raw.events.latestSeq(), 'the signalled reader sees the new event');
    const execution = newExecution(tenant.id);
    writes.push(
      [
        'tenants.change',
        () => store.tenants.change(tenant.id, { actor: 'test', spec: { ...spec, paused: true } }),
      ],
      ['executions.insertIfAbsent', () => store.executions.insertIfAbsent(execution)],
      [
        'executions.transition',
        () =>
          store.executions.transition(execution.executionId, { from: ['pending'], to: 'running', at: 'now' }),
      ],
      ['appendEvent', () => store.appendEvent(tenant.id, audit)],
    );
    for (const [what, write] of writes) {
      await write();
      assert.equal(await signalled(), 1, what);
      assert.equal(seen.at(-1), await raw.events.latestSeq(), `${what}: signalled after the commit`);
    }

    await store.tenants.get(tenant.id);
    await store.events.listByTenant(tenant.id, { limit: 10 });
    await store.executions.get(execution.executionId);
    await assert.rejects(store.tenants.create({ name: 'notify-a', spec, actor: 'test' }));
    assert.equal(await signalled(), 0, 'a read or a refused write signals nothing');
  });

  test('everything else reaches the store unchanged', async () => {
    const store = notifyOnEvents(db!.store, { changed: () => undefined });
    await store.ping();
    assert.equal(store.dialect, 'sqlite');
    assert.deepEqual(
      await store.tenants.listSummaries(null, 5),
      await db!.store.tenants.listSummaries(null, 5),
    );
    assert.equal(await store.executions.releaseLeases('nobody', Date.now()), 0);
    const made = await store.serverSecrets.getOrCreate('notify-test', () => 'v1');
    assert.equal(await db!.store.serverSecrets.getOrCreate('notify-test', () => 'v2'), made);
    await assert.rejects(store.resealSecrets(), /no secrets key/);
  });
});
