/** The store decorator that wakes event streams: after committed event writes, once per burst. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sqliteBackend, type TestDatabase } from '../store/testing/test-databases.js';
import type { TenantSpec } from '../domain/tenant.js';
import { notifyOnEvents } from './notify-on-events.js';

const spec: TenantSpec = {
  provider: 'fake',
  config: {},
  labels: {},
  annotations: {},
  retryPolicy: null,
  paused: false,
};
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('notifyOnEvents', () => {
  let db: TestDatabase | undefined;
  before(async () => {
    db = await sqliteBackend.create();
  });
  after(() => db?.cleanup());

  test('wakes after the write committed, once per burst; reads and failed writes do not wake', async () => {
    let wakes = 0;
    let seenAtWake = -1;
    const store = notifyOnEvents(db!.store, () => {
      wakes++;
      void db!.store.events.latestSeq().then((seq) => (seenAtWake = seq));
    });
    const tenant = await store.tenants.create({ name: 'notify-a', spec, actor: 'test' });
    assert.equal(wakes, 0, 'coalesced into the next turn of the event loop');
    await turn();
    assert.equal(wakes, 1);
    await turn();
    assert.equal(seenAtWake, await db!.store.events.latestSeq(), 'the woken reader sees the new event');

    await Promise.all([
      store.tenants.change(tenant.id, {
        actor: 'test',
        phase: { to: 'provisioning', reason: 'ProvisionStarted' },
      }),
      store.appendEvent(tenant.id, {
        type: 'Audit',
        actor: 'test',
        reason: 'test',
        message: 'a burst of two writes',
        fromPhase: null,
        toPhase: null,
        generation: 1,
        runId: null,
        executionId: null,
        data: {},
      }),
    ]);
    await turn();
    assert.equal(wakes, 2, 'two writes in one burst wake once');

    await store.tenants.get(tenant.id);
    await assert.rejects(store.tenants.create({ name: 'notify-a', spec, actor: 'test' }));
    await turn();
    assert.equal(wakes, 2, 'a read or a refused write wakes nobody');
  });
});
