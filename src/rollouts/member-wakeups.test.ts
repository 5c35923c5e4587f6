import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemberWakeups } from './member-wakeups.js';

/** A wait that has not resolved after a turn of the event loop is still waiting. */
async function settled(promise: Promise<void>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('MemberWakeups', () => {
  it('hands each subscription the tenants whose runs ended since its last take, once', () => {
    const wakeups = new MemberWakeups();
    const first = wakeups.subscribe();
    const second = wakeups.subscribe();
    wakeups.runEnded('t1');
    wakeups.runEnded('t2');
    wakeups.runEnded('t1');
    assert.deepEqual(first.take(), { kind: 'tenants', tenantIds: ['t1', 't2'] });
    assert.deepEqual(first.take(), { kind: 'tenants', tenantIds: [] });
    second.close();
    wakeups.runEnded('t3');
    assert.deepEqual(second.take(), { kind: 'tenants', tenantIds: ['t1', 't2'] }, 'closed: told no more');
    assert.deepEqual(first.take(), { kind: 'tenants', tenantIds: ['t3'] });
  });

  it('a wait ends at the first news, at once when news is waiting, and when stopped', async () => {
    const wakeups = new MemberWakeups();
    const subscription = wakeups.subscribe();
    const waiting = subscription.wait(60_000);
    assert.equal(await settled(waiting), false);
    wakeups.runEnded('t1');
    assert.equal(await settled(waiting), true);
    assert.equal(await settled(subscription.wait(60_000)), true, 'the news is still untaken');
    subscription.take();
    const stopped = subscription.wait(60_000);
    wakeups.stop();
    assert.equal(await settled(stopped), true);
    assert.equal(wakeups.isStopped, true);
  });

  it('too many tenants to name ask for a full read', () => {
    const wakeups = new MemberWakeups();
    const subscription = wakeups.subscribe();
    for (let i = 0; i <= 5_000; i++) wakeups.runEnded(`t${i}`);
    assert.deepEqual(subscription.take(), { kind: 'all' });
    assert.deepEqual(subscription.take(), { kind: 'tenants', tenantIds: [] });
  });
});
