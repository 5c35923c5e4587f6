import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tenant } from './tenant.js';
import { TenantHandoff } from './tenant-handoff.js';

const tenant = (id: string) => ({ id }) as unknown as Tenant;

test('TenantHandoff: an offer is taken once, by its run only', () => {
  const handoff = new TenantHandoff();
  handoff.offer('run-a', tenant('a'));
  assert.equal(handoff.take('run-b'), undefined);
  assert.equal(handoff.take('run-a')?.id, 'a');
  assert.equal(handoff.take('run-a'), undefined);
  handoff.offer('run-a', tenant('a'));
  handoff.withdraw('run-a');
  assert.equal(handoff.take('run-a'), undefined);
  assert.equal(handoff.size, 0);
});

test('TenantHandoff: an offer too old is not handed over, and old ones are dropped by later offers', () => {
  let now = 0;
  const handoff = new TenantHandoff(100, 10, () => now);
  handoff.offer('run-a', tenant('a'));
  handoff.offer('run-b', tenant('b'));
  now = 101;
  assert.equal(handoff.take('run-a'), undefined);
  handoff.offer('run-c', tenant('c'));
  assert.equal(handoff.size, 1, 'the lapsed offer to run-b is gone');
  assert.equal(handoff.take('run-c')?.id, 'c');
});

test('TenantHandoff: at capacity the oldest offer goes first', () => {
  const handoff = new TenantHandoff(60_000, 2, () => 0);
  handoff.offer('run-a', tenant('a'));
  handoff.offer('run-b', tenant('b'));
  handoff.offer('run-c', tenant('c'));
  assert.equal(handoff.size, 2);
  assert.equal(handoff.take('run-a'), undefined);
  assert.equal(handoff.take('run-b')?.id, 'b');
  assert.equal(handoff.take('run-c')?.id, 'c');
});
