/** The store decorator that wakes event streams: after committed event writes, once per turn of the event loop. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sqliteBackend, type TestDatabase } from '../store/testing/test-databases.js';
import { specOf } from '../store/conformance/harness.js';
import type { Store } from '../store/store.js';
import { notifyOnEvents } from './notify-on-events.js';

const spec = specOf();
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('notifyOnEvents', () => {
  let db: TestDatabase | undefined;
  before(async () => {
    db = await sqliteBackend.create();
  });
  after(() => db?.cleanup());

  test('wakes after the write committed; reads and refused writes do not wake', async () => {
    let wakes = 0;
    let seenAtWake: Promise<number> | undefined;
    const store = notifyOnEvents(db!.store, () => {
      wakes++;
      seenAtWake = db!.store.events.latestSeq();
    });
    const tenant = await store.tenants.create({ name: 'notify-a', spec, actor: 'test' });
    assert.equal(wakes, 0, 'coalesced into the next turn of the event loop');
    await turn();
    assert.equal(wakes, 1);
    assert.equal(await seenAtWake, await db!.store.events.latestSeq(), 'the woken reader sees the new event');

    await store.appendEvent(tenant.id, {
      type: 'Audit',
      actor: 'test',
      reason: 'test',
      message: 'a second write',
      fromPhase: null,
      toPhase: null,
      generation: 1,
      runId: null,
      executionId: null,
      data: {},
    });
    await turn();
    assert.equal(wakes, 2);

    await store.tenants.get(tenant.id);
    await assert.rejects(store.tenants.create({ name: 'notify-a', spec, actor: 'test' }));
    await turn();
    assert.equal(wakes, 2, 'a read or a refused write wakes nobody');
  });

  test('writes that complete in the same turn wake once', async () => {
    let wakes = 0;
    const written = () => Promise.resolve();
    const stub = { ...db!.store, appendEvent: written } as Store;
    const store = notifyOnEvents(stub, () => wakes++);
    const event = {} as Parameters<Store['appendEvent']>[1];
    await Promise.all([
      store.appendEvent('t', event),
      store.appendEvent('t', event),
      store.appendEvent('t', event),
    ]);
    await turn();
    assert.equal(wakes, 1);
  });
});
