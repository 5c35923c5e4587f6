/** Conformance: `tenants.change` — generation, phases, events, refusals and optimistic concurrency. */
import assert from 'node:assert/strict';
import { InvalidTransitionError, NotFoundError, PreconditionFailedError } from '../../domain/errors.js';
import { createStore } from '../create-store.js';
import { specOf, unique, type Conformance } from './harness.js';

/** Exactly one fulfilled, the rest rejected with PreconditionFailedError. */
function assertOneWinner(results: readonly PromiseSettledResult<unknown>[]): void {
  const won = results.filter((r) => r.status === 'fulfilled');
  const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.equal(won.length, 1, `winners: ${won.length}`);
  for (const r of lost) assert.ok(r.reason instanceof PreconditionFailedError, String(r.reason));
}

export function tenantChanges(c: Conformance): void {
  c.test('changeFrom writes status and events at the version read, never the spec it was given', async () => {
    const store = c.store();
    const tenant = await store.tenants.create({ name: unique('cas'), spec: specOf(), actor: 'test' });
    const effective = { ...tenant, spec: specOf({ config: { image: 'merged-from-a-plan' } }) };
    const applied = await store.tenants.changeFrom(effective, {
      actor: 'test',
      phase: { to: 'provisioning', reason: 'ProvisionStarted' },
      status: { message: 'working' },
    });
    assert.equal(applied.tenant.version, 2);
    const stored = await store.tenants.get(tenant.id);
    assert.deepEqual(stored?.spec, tenant.spec, 'the stored spec is untouched');
    assert.equal(stored?.status.phase, 'provisioning');
    assert.equal(stored?.status.message, 'working');
    assert.equal(stored?.version, 2);
    const events = await store.events.listByTenant(tenant.id, { limit: 10 });
    assert.deepEqual(
      events.map((e) => e.toPhase),
      ['requested', 'provisioning'],
    );

    // A status change without events is one write, guarded the same way.
    const noEvents = await store.tenants.changeFrom(applied.tenant, {
      actor: 'test',
      status: { message: 'm' },
    });
    assert.equal(noEvents.events.length, 0);
    assert.equal((await store.tenants.get(tenant.id))?.status.message, 'm');

    // Stale: the tenant as first read (version 1, then 2) no longer matches the row.
    for (const stale of [tenant, applied.tenant]) {
      await assert.rejects(
        store.tenants.changeFrom(stale, { actor: 'test', status: { message: 'stale' } }),
        PreconditionFailedError,
      );
    }
    await assert.rejects(
      store.tenants.changeFrom(applied.tenant, {
        actor: 'test',
        phase: { to: 'ready', reason: 'ProvisionSucceeded' },
      }),
      PreconditionFailedError,
    );
    const after = await store.tenants.get(tenant.id);
    assert.equal(after?.status.message, 'm', 'a stale change writes nothing');
    assert.equal(after?.status.phase, 'provisioning');
    assert.equal((await store.events.listByTenant(tenant.id, { limit: 10 })).length, 2);
  });

  c.test('generation moves only on a real spec change; labels follow the spec', async () => {
    const store = c.store();
    const spec = specOf({ labels: { tier: 'free' } });
    const tenant = await store.tenants.create({ name: unique('gen'), spec, actor: 'test' });
    const same = await store.tenants.change(tenant.id, { actor: 'test', spec: { ...spec } });
    assert.equal(same.changed, false);
    assert.equal((await store.tenants.get(tenant.id))?.version, 1);

    const next = specOf({ labels: { tier: 'pro' }, config: { image: 'nginx' } });
    const applied = await store.tenants.change(tenant.id, { actor: 'test', spec: next });
    assert.equal(applied.tenant.generation, 2);
    const stored = await store.tenants.get(tenant.id);
    assert.deepEqual(stored, applied.tenant);
    assert.equal(stored?.version, 2);
    const byLabel = (value: string) =>
      store.tenants.list({ limit: 10, labels: [{ key: 'tier', op: '=', value }], namePrefix: tenant.name });
    assert.deepEqual(
      (await byLabel('pro')).items.map((t) => t.id),
      [tenant.id],
    );
    assert.deepEqual((await byLabel('free')).items, []);
    const events = await store.events.listByTenant(tenant.id, { limit: 10 });
    assert.deepEqual(
      events.map((e) => [e.type, e.generation]),
      [
        ['Created', 1],
        ['SpecChanged', 2],
      ],
    );
  });

  c.test('phase transitions write the tenant and their events together', async () => {
    const store = c.store();
    const tenant = await store.tenants.create({ name: unique('phase'), spec: specOf(), actor: 'test' });
    await store.tenants.change(tenant.id, {
      actor: 'controller',
      phase: { to: 'provisioning', reason: 'ProvisionStarted', runId: 'r1' },
    });
    const ready = await store.tenants.change(tenant.name, {
      actor: 'workflow:r1',
      phase: { to: 'ready', reason: 'Provisioned', runId: 'r1', executionId: 'ex1' },
      status: { observedGeneration: 1 },
      conditions: [{ type: 'Ready', status: 'True', reason: 'Provisioned' }],
    });
    assert.equal(ready.tenant.version, 3);
    assert.deepEqual(await store.tenants.get(tenant.id), ready.tenant);
    const phases = (await store.events.listByTenant(tenant.id, { limit: 10 })).filter(
      (e) => e.type === 'PhaseChanged',
    );
    assert.deepEqual(
      phases.map((e) => [e.fromPhase, e.toPhase, e.actor, e.reason, e.runId, e.executionId]),
      [
        ['requested', 'provisioning', 'controller', 'ProvisionStarted', 'r1', null],
        ['provisioning', 'ready', 'workflow:r1', 'Provisioned', 'r1', 'ex1'],
      ],
    );
    const summaries = await store.tenants.listSummaries(null, 100_000);
    assert.equal(summaries.find((s) => s.id === tenant.id)?.observedGeneration, 1);
  });

  c.test('a refused transition writes nothing, not even the spec that came with it', async () => {
    const store = c.store();
    const tenant = await store.tenants.create({ name: unique('refuse'), spec: specOf(), actor: 'test' });
    const change = {
      actor: 'test',
      spec: specOf({ config: { image: 'other' } }),
      phase: { to: 'ready' as const, reason: 'Nope' },
    };
    await assert.rejects(store.tenants.change(tenant.id, change), InvalidTransitionError);
    assert.deepEqual(await store.tenants.get(tenant.id), tenant);
    assert.equal((await store.events.listByTenant(tenant.id, { limit: 10 })).length, 1);
  });

  c.test('expectedVersion guards the write; unknown tenants are NotFoundError', async () => {
    const store = c.store();
    const tenant = await store.tenants.create({ name: unique('ver'), spec: specOf(), actor: 'test' });
    const change = { actor: 'test', spec: specOf({ config: { image: 'v2' } }) };
    await assert.rejects(
      store.tenants.change(tenant.id, change, { expectedVersion: 7 }),
      PreconditionFailedError,
    );
    const applied = await store.tenants.change(tenant.id, change, { expectedVersion: 1 });
    assert.equal(applied.tenant.version, 2);
    await assert.rejects(store.tenants.change(unique('ghost'), change), NotFoundError);
  });

  c.test('concurrent changes with the same expectedVersion: exactly one wins', async () => {
    const store = c.store();
    const tenant = await store.tenants.create({ name: unique('race'), spec: specOf(), actor: 'test' });
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        store.tenants.change(
          tenant.id,
          { actor: `w${i}`, spec: specOf({ config: { image: `i${i}` } }) },
          { expectedVersion: 1 },
        ),
      ),
    );
    assertOneWinner(results);
    const stored = await store.tenants.get(tenant.id);
    assert.equal(stored?.version, 2);
    assert.equal(stored?.generation, 2);
    const specEvents = (await store.events.listByTenant(tenant.id, { limit: 20 })).filter(
      (e) => e.type === 'SpecChanged',
    );
    assert.equal(specEvents.length, 1);
  });

  c.test('concurrent changeFrom at the same version: one wins, and only its event is written', async () => {
    const store = c.store();
    const tenant = await store.tenants.create({ name: unique('racefrom'), spec: specOf(), actor: 'test' });
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        store.tenants.changeFrom(tenant, {
          actor: `w${i}`,
          phase: { to: 'provisioning', reason: 'ProvisionStarted' },
          status: { message: `w${i}` },
        }),
      ),
    );
    assertOneWinner(results);
    const winner = results.find((r) => r.status === 'fulfilled');
    const stored = await store.tenants.get(tenant.id);
    assert.equal(stored?.version, 2);
    const events = await store.events.listByTenant(tenant.id, { limit: 20 });
    assert.deepEqual(
      events.map((e) => e.toPhase),
      ['requested', 'provisioning'],
    );
    const won = winner?.status === 'fulfilled' ? winner.value.tenant.status.message : undefined;
    assert.equal(stored?.status.message, won);
    assert.equal(events[1]?.actor, won, "the event is the winner's");
  });

  c.test('concurrent changes from two store instances (replicas): exactly one wins', async () => {
    const other = await createStore({ url: c.database().url });
    try {
      const tenant = await c
        .store()
        .tenants.create({ name: unique('replica'), spec: specOf(), actor: 'test' });
      const move = (s: typeof other, reason: string) =>
        s.tenants.change(
          tenant.id,
          { actor: reason, phase: { to: 'provisioning', reason } },
          { expectedVersion: 1 },
        );
      const results = await Promise.allSettled([
        move(c.store(), 'a'),
        move(other, 'b'),
        move(c.store(), 'c'),
        move(other, 'd'),
      ]);
      assertOneWinner(results);
      const phases = (await other.events.listByTenant(tenant.id, { limit: 20 })).filter(
        (e) => e.type === 'PhaseChanged',
      );
      assert.equal(phases.length, 1);
    } finally {
      await other.close();
    }
  });

  c.test('concurrent changes without expectedVersion all apply: no lost update', async () => {
    const store = c.store();
    const tenant = await store.tenants.create({ name: unique('queue'), spec: specOf(), actor: 'test' });
    const audits = Array.from({ length: 8 }, (_, i) =>
      store.tenants.change(tenant.id, {
        actor: 'test',
        audit: [{ type: 'Audit', reason: `n${i}`, message: '' }],
      }),
    );
    const results = await Promise.allSettled(audits);
    assert.deepEqual(
      results.filter((r) => r.status === 'rejected'),
      [],
    );
    assert.equal((await store.tenants.get(tenant.id))?.version, 9);
    const reasons = (await store.events.listByTenant(tenant.id, { limit: 20 }))
      .filter((e) => e.type === 'Audit')
      .map((e) => e.reason);
    assert.deepEqual(
      [...reasons].sort(),
      Array.from({ length: 8 }, (_, i) => `n${i}`),
    );
  });
}
