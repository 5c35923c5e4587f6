/** Conformance: `tenants.countByPhase` — every phase present, per provider and in total. */
import assert from 'node:assert/strict';
import { PHASES, type Phase } from '../../domain/tenant.js';
import { archive } from './tenant-basics.js';
import { specOf, unique, type Conformance } from './harness.js';

function zeros(): Record<Phase, number> {
  return Object.fromEntries(PHASES.map((phase) => [phase, 0])) as Record<Phase, number>;
}

export function tenantCounts(c: Conformance): void {
  c.test('counts by phase for one provider: every phase listed, archived counted apart', async () => {
    const store = c.store();
    const provider = unique('counts');
    assert.deepEqual(await store.tenants.countByPhase({ provider }), zeros(), 'no tenant yet: all zero');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const tenant = await store.tenants.create({
        name: unique('cnt'),
        spec: specOf({ provider }),
        actor: 'test',
      });
      ids.push(tenant.id);
    }
    await store.tenants.change(ids[0]!, { actor: 'test', phase: { to: 'provisioning', reason: 'r' } });
    await store.tenants.change(ids[1]!, { actor: 'test', phase: { to: 'provisioning', reason: 'r' } });
    await store.tenants.change(ids[1]!, { actor: 'test', phase: { to: 'ready', reason: 'r' } });
    await archive(store, ids[2]!);
    assert.deepEqual(await store.tenants.countByPhase({ provider }), {
      ...zeros(),
      requested: 2,
      provisioning: 1,
      ready: 1,
      archived: 1,
    });
    assert.deepEqual(await store.tenants.countByPhase({ provider: unique('none') }), zeros());
  });

  c.test('counts without a filter cover every provider and agree with the list', async () => {
    const store = c.store();
    const before = await store.tenants.countByPhase();
    await store.tenants.create({
      name: unique('cnt'),
      spec: specOf({ provider: unique('p') }),
      actor: 'test',
    });
    await store.tenants.create({
      name: unique('cnt'),
      spec: specOf({ provider: unique('p') }),
      actor: 'test',
    });
    const after = await store.tenants.countByPhase();
    assert.equal(after.requested, before.requested + 2);
    const live = PHASES.filter((phase) => phase !== 'archived').reduce((sum, phase) => sum + after[phase], 0);
    let listed = 0;
    let cursor: string | undefined;
    do {
      const page = await store.tenants.list({ limit: 500, cursor });
      listed += page.items.length;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    assert.equal(live, listed, 'the tenants not archived, as the list shows them');
  });
}
