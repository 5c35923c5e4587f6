/**
 * The event feed on real databases: fan-out to many subscribers from one read per wake-up, the
 * catch-up hand-over under concurrent writes, tenant filters, other replicas' writes, overflow.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../domain/logger.js';
import type { TenantEvent } from '../domain/tenant-event.js';
import { specOf, unique } from '../store/conformance/harness.js';
import type { Store, TenantEventRepository } from '../store/store.js';
import { backends, type TestDatabase } from '../store/testing/test-databases.js';
import { EventFeed, type EventFeedOptions } from './event-feed.js';
import type { EventSubscription } from './event-subscription.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The events repository, counting the log reads the feed makes. */
function counted(events: TenantEventRepository) {
  const calls = { listSince: 0 };
  const repository: TenantEventRepository = {
    listByTenant: (tenantId, options) => events.listByTenant(tenantId, options),
    listSince: (afterSeq, limit) => {
      calls.listSince += 1;
      return events.listSince(afterSeq, limit);
    },
    latestSeq: () => events.latestSeq(),
  };
  return { repository, calls };
}

async function append(store: Store, tenantId: string, n: number): Promise<void> {
  await store.appendEvent(tenantId, {
    type: 'Audit',
    actor: 'test',
    reason: 'Test',
    message: `event ${n}`,
    fromPhase: null,
    toPhase: null,
    generation: 1,
    runId: null,
    executionId: null,
    data: { n },
  });
}

/** Reads from `subscription` until `count` events arrived or `ms` passed. */
async function collect(subscription: EventSubscription, count: number, ms = 10_000): Promise<TenantEvent[]> {
  const got: TenantEvent[] = [];
  const deadline = Date.now() + ms;
  while (got.length < count && Date.now() < deadline) {
    const events = await Promise.race([subscription.next(), sleep(deadline - Date.now()).then(() => [])]);
    if (events === null) break;
    got.push(...events);
  }
  return got;
}

const seqs = (events: readonly TenantEvent[]) => events.map((e) => e.seq);

for (const backend of backends()) {
  describe(`[${backend.name}] event feed`, () => {
    let db: TestDatabase;
    const feeds: EventFeed[] = [];
    const newFeed = (options: Partial<EventFeedOptions> = {}) => {
      const feed = new EventFeed({
        events: db.store.events,
        pollIntervalMs: 60_000,
        maxQueuedEvents: 10_000,
        logger: silentLogger,
        ...options,
      });
      feed.start();
      feeds.push(feed);
      return feed;
    };
    const newTenant = async () =>
      (await db.store.tenants.create({ name: unique('feed'), spec: specOf(), actor: 'test' })).id;

    before(async () => {
      db = await backend.create();
    });
    after(async () => {
      await Promise.all(feeds.map((feed) => feed.stop()));
      await db.cleanup();
    });

    test(`[${backend.name}] N subscribers get every event once, in order, from one log read per wake-up`, async () => {
      const { repository, calls } = counted(db.store.events);
      const feed = newFeed({ events: repository });
      const tenant = await newTenant();
      const start = await db.store.events.latestSeq();
      const subscriptions = await Promise.all(Array.from({ length: 25 }, () => feed.subscribe({})));
      await sleep(50);
      const readsBefore = calls.listSince;
      for (let n = 0; n < 5; n++) await append(db.store, tenant, n);
      feed.changed();
      feed.changed();
      const expected = seqs(await db.store.events.listSince(start, 100));
      assert.equal(expected.length, 5);
      const received = await Promise.all(subscriptions.map((s) => collect(s, 5)));
      for (const events of received) assert.deepEqual(seqs(events), expected);
      assert.equal(calls.listSince - readsBefore, 1, 'one read for the wake-up, not one per subscriber');
      for (const subscription of subscriptions) subscription.close();
    });

    test(`[${backend.name}] resuming from behind the head hands over to the live feed without gaps or duplicates under concurrent writes`, async () => {
      const feed = newFeed();
      const [a, b] = [await newTenant(), await newTenant()];
      const start = await db.store.events.latestSeq();
      const live = await feed.subscribe({});
      let half!: () => void;
      const halfWritten = new Promise<void>((resolve) => (half = resolve));
      const writing = (async () => {
        for (let n = 0; n < 160; n += 2) {
          // Two writers at a time: on PostgreSQL their seqs may commit out of order.
          await Promise.all([append(db.store, a, n), append(db.store, b, n + 1)]);
          feed.changed();
          if (n === 80) half();
          if (n % 16 === 0) await sleep(1);
        }
      })();
      await halfWritten;
      // Late subscribers resume from the start while the writes go on: part store, part feed.
      const resumed = await feed.subscribe({ afterSeq: start });
      const resumedA = await feed.subscribe({ afterSeq: start, tenantId: a });
      await sleep(5);
      const resumedLater = await feed.subscribe({ afterSeq: start });
      await writing;
      const all = seqs(await db.store.events.listSince(start, 1000));
      const ofA = seqs(await db.store.events.listByTenant(a, { afterSeq: start, limit: 1000 }));
      assert.equal(all.length, 160);
      assert.deepEqual(seqs(await collect(resumed, all.length)), all);
      assert.deepEqual(seqs(await collect(resumedA, ofA.length)), ofA);
      assert.deepEqual(seqs(await collect(resumedLater, all.length)), all);
      assert.deepEqual(seqs(await collect(live, all.length)), all);
      for (const s of [live, resumed, resumedA, resumedLater]) s.close();
    });

    test(`[${backend.name}] a subscriber without a cursor starts at the end of the log; the tenant filter applies live`, async () => {
      const feed = newFeed();
      const [a, b] = [await newTenant(), await newTenant()];
      await append(db.store, a, 0);
      const fromNow = await feed.subscribe({});
      const onlyB = await feed.subscribe({ tenantId: b });
      await append(db.store, a, 1);
      await append(db.store, b, 2);
      feed.changed();
      const got = await collect(fromNow, 2);
      assert.deepEqual(
        got.map((e) => e.data?.n),
        [1, 2],
      );
      assert.deepEqual(
        (await collect(onlyB, 1)).map((e) => [e.tenantId, e.data?.n]),
        [[b, 2]],
      );
      fromNow.close();
      onlyB.close();
    });

    test(`[${backend.name}] writes nobody announced (another replica's) arrive with the slow poll`, async () => {
      const feed = newFeed({ pollIntervalMs: 100 });
      const tenant = await newTenant();
      const subscription = await feed.subscribe({});
      await sleep(20);
      await append(db.store, tenant, 7);
      const [event] = await collect(subscription, 1, 3000);
      assert.equal(event?.data?.n, 7);
      subscription.close();
    });

    test(`[${backend.name}] a subscriber that falls too far behind is ended with overflow, the others go on`, async () => {
      const feed = newFeed({ maxQueuedEvents: 3 });
      const tenant = await newTenant();
      const slow = await feed.subscribe({});
      const reader = await feed.subscribe({});
      const reading = collect(reader, 6);
      for (let n = 0; n < 6; n++) {
        await append(db.store, tenant, n);
        feed.changed();
        await sleep(5);
      }
      assert.equal((await reading).length, 6);
      assert.deepEqual(await slow.ended, { reason: 'overflow' });
      assert.equal(await slow.next(), null);
      reader.close();
    });

    test(`[${backend.name}] stop ends every subscription; a pending next() returns null`, async () => {
      const feed = newFeed();
      const subscription = await feed.subscribe({ tenantId: await newTenant() });
      const waiting = subscription.next();
      await feed.stop();
      assert.equal(await waiting, null);
      assert.deepEqual(await subscription.ended, { reason: 'closed' });
      await assert.rejects(feed.subscribe({}), /stopped/);
    });
  });
}
