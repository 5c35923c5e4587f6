/**
 * Conformance: rollouts and their members. Overlap is refused at create (nothing stored), a member
 * is changed at most once (its tenant change and its own row in one transaction), rolled back at
 * most once, the control state is a compare-and-set, and a final phase releases the tenants.
 */
import assert from 'node:assert/strict';
import { ConflictError, PreconditionFailedError } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import type { FailurePolicy, RolloutStrategy } from '../../domain/rollout.js';
import type { Tenant } from '../../domain/tenant.js';
import type { MemberDecision, NewRollout, Store } from '../store.js';
import { specOf, unique, type Conformance } from './harness.js';

const strategy: RolloutStrategy = {
  waves: [1, '100%'],
  maxParallel: 2,
  minHealthyMs: 0,
  progressDeadlineMs: 60_000,
  pauseAfterWaves: [],
};
const failurePolicy: FailurePolicy = { maxFailedPercent: 50, maxFailed: null, onHalt: 'pause' };

async function tenants(store: Store, count: number): Promise<Tenant[]> {
  const prefix = unique('ro');
  const made: Tenant[] = [];
  for (let i = 0; i < count; i++) {
    made.push(
      await store.tenants.create({
        name: `${prefix}-${i}`,
        spec: specOf({ config: { image: 'app:1', secretEnv: { TOKEN: `secret-${i}` } } }),
        actor: 'test',
      }),
    );
  }
  return made;
}

function newRollout(members: readonly Tenant[]): NewRollout {
  return {
    id: newId(),
    description: 'image 2',
    selector: { labels: null, names: members.map((t) => t.name), phases: null },
    change: { patch: { config: { image: 'app:2' } } },
    strategy,
    failurePolicy,
    createdBy: 'api:ci',
    createdByRole: 'operator',
    members: members.map((t, i) => ({
      tenantId: t.id,
      tenantName: t.name,
      wave: i === 0 ? 0 : 1,
      generation: t.generation,
    })),
  };
}

const toImage =
  (image: string) =>
  (tenant: Tenant | undefined): MemberDecision =>
    tenant
      ? {
          kind: 'change',
          change: {
            actor: 'rollout:test',
            spec: { ...tenant.spec, config: { ...tenant.spec.config, image } },
          },
          merged: false,
        }
      : { kind: 'skip', reason: 'gone' };

export function rollouts(c: Conformance): void {
  c.test('create stores the members in order; an overlapping rollout is 409 and stores nothing', async () => {
    const store = c.store();
    const fleet = await tenants(store, 3);
    const first = await store.rollouts.create(newRollout(fleet.slice(0, 2)));
    assert.equal(first.total, 2);
    assert.equal(first.control.phase, 'running');
    const page = await store.rollouts.members(first.id, { limit: 10 });
    assert.deepEqual(
      page.items.map((m) => [m.ordinal, m.tenantName, m.wave, m.state]),
      [
        [0, fleet[0]!.name, 0, 'pending'],
        [1, fleet[1]!.name, 1, 'pending'],
      ],
    );
    const overlapping = newRollout(fleet.slice(1));
    const refused = await store.rollouts.create(overlapping).catch((e: unknown) => e);
    assert.ok(refused instanceof ConflictError, 'overlap is a conflict');
    assert.deepEqual(refused.details, { held: [{ tenantId: fleet[1]!.id, rolloutId: first.id }] });
    assert.equal(await store.rollouts.get(overlapping.id), undefined, 'nothing stored');
    const holders = await store.rollouts.holders(fleet.map((t) => t.id));
    assert.deepEqual([...holders.keys()].sort(), [fleet[0]!.id, fleet[1]!.id].sort());
  });

  c.test('a member is changed once: the tenant bump and the member row commit together', async () => {
    const store = c.store();
    const fleet = await tenants(store, 2);
    const rollout = await store.rollouts.create(newRollout(fleet));
    const member = await store.rollouts.applyChange(rollout.id, 0, toImage('app:2'));
    assert.equal(member.state, 'inProgress');
    assert.equal(member.fromGeneration, 1);
    assert.equal(member.toGeneration, 2);
    const again = await store.rollouts.applyChange(rollout.id, 0, toImage('app:3'));
    assert.equal(again.toGeneration, 2, 'a second apply changes nothing');
    const tenant = await store.tenants.get(fleet[0]!.id);
    assert.equal(tenant?.generation, 2);
    assert.equal(tenant?.spec.config.image, 'app:2');
    const previous = await store.rollouts.previousSpec(rollout.id, 0);
    assert.deepEqual(previous?.config, fleet[0]!.spec.config, 'the previous spec, secrets included, is kept');
    const events = await store.events.listByTenant(fleet[0]!.id, { limit: 10 });
    assert.equal(events.filter((e) => e.type === 'SpecChanged' && e.actor === 'rollout:test').length, 1);
  });

  c.test('a decision that throws rolls the whole member transaction back', async () => {
    const store = c.store();
    const fleet = await tenants(store, 1);
    const rollout = await store.rollouts.create(newRollout(fleet));
    await assert.rejects(
      store.rollouts.applyChange(rollout.id, 0, () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    const [member] = (await store.rollouts.members(rollout.id, { limit: 1 })).items;
    assert.equal(member?.state, 'pending');
    assert.equal((await store.tenants.get(fleet[0]!.id))?.generation, 1);
  });

  c.test(
    'skip and fail settle a member without touching its tenant; tallies count by wave and state',
    async () => {
      const store = c.store();
      const fleet = await tenants(store, 3);
      const rollout = await store.rollouts.create(newRollout(fleet));
      await store.rollouts.applyChange(rollout.id, 0, toImage('app:2'));
      await store.rollouts.applyChange(rollout.id, 1, () => ({ kind: 'skip', reason: 'archived' }));
      await store.rollouts.applyChange(rollout.id, 2, () => ({
        kind: 'fail',
        error: { code: 'VALIDATION_FAILED', message: 'bad' },
      }));
      const tallies = await store.rollouts.tallies(rollout.id);
      const key = (t: { wave: number; state: string; count: number; changed: number }) =>
        `${t.wave}:${t.state}:${t.count}:${t.changed}`;
      assert.deepEqual(tallies.map(key).sort(), ['0:inProgress:1:1', '1:failed:1:0', '1:skipped:1:0']);
      assert.equal((await store.tenants.get(fleet[2]!.id))?.generation, 1);
      const failed = await store.rollouts.members(rollout.id, { limit: 10, state: 'failed' });
      assert.deepEqual(failed.items[0]?.error, { code: 'VALIDATION_FAILED', message: 'bad' });
    },
  );

  c.test('rollback re-applies the previous spec once, only for changed members', async () => {
    const store = c.store();
    const fleet = await tenants(store, 2);
    const rollout = await store.rollouts.create(newRollout(fleet));
    await store.rollouts.applyChange(rollout.id, 0, toImage('app:2'));
    assert.ok(await store.rollouts.updateMember(rollout.id, 0, 'inProgress', { state: 'succeeded' }));
    assert.equal(await store.rollouts.updateMember(rollout.id, 0, 'inProgress', { state: 'failed' }), false);
    assert.deepEqual(
      (await store.rollouts.rollbackable(rollout.id, 10)).map((m) => m.ordinal),
      [0],
    );
    const restore = (tenant: Tenant | undefined, previous: Tenant['spec']): MemberDecision =>
      tenant
        ? { kind: 'change', change: { actor: 'rollout:test', spec: previous }, merged: false }
        : { kind: 'skip', reason: '' };
    const back = await store.rollouts.rollback(rollout.id, 0, restore);
    assert.equal(back.state, 'rollingBack');
    assert.equal(back.rollbackGeneration, 3);
    const untouched = await store.rollouts.rollback(rollout.id, 1, restore);
    assert.equal(untouched.state, 'pending', 'a pending member has nothing to roll back');
    const twice = await store.rollouts.rollback(rollout.id, 0, restore);
    assert.equal(twice.rollbackGeneration, 3);
    const tenant = await store.tenants.get(fleet[0]!.id);
    assert.equal(tenant?.generation, 3);
    assert.deepEqual(tenant?.spec.config, fleet[0]!.spec.config);
  });

  c.test(
    'watchedMembers reads members with their tenant status; updateMembers is a compare-and-set per member, its events in the same transaction',
    async () => {
      const store = c.store();
      const fleet = await tenants(store, 3);
      const rollout = await store.rollouts.create(newRollout(fleet));
      const eventOf = (member: { state: string }) => ({
        type: 'rollout.tenant_changed' as const,
        actor: 'rollout:test',
        reason: `Rollout:${member.state}`,
        message: member.state,
        fromPhase: null,
        toPhase: null,
        generation: 0,
        runId: null,
        executionId: null,
      });
      for (const ordinal of [0, 1, 2]) {
        const started = await store.rollouts.applyChange(rollout.id, ordinal, toImage('app:2'), eventOf);
        assert.equal(started.state, 'inProgress');
      }
      const watched = await store.rollouts.watchedMembers(rollout.id, { state: 'inProgress', limit: 2 });
      assert.deepEqual(
        watched.items.map((w) => [w.member.ordinal, w.tenant?.status.phase]),
        [
          [0, fleet[0]!.status.phase],
          [1, fleet[1]!.status.phase],
        ],
      );
      const rest = await store.rollouts.watchedMembers(rollout.id, {
        state: 'inProgress',
        limit: 2,
        cursor: watched.nextCursor ?? undefined,
      });
      assert.deepEqual(
        rest.items.map((w) => w.member.ordinal),
        [2],
      );
      assert.equal(rest.nextCursor, null);
      assert.ok(await store.rollouts.updateMember(rollout.id, 2, 'inProgress', { state: 'failed' }));
      const at = new Date().toISOString();
      const update = (ordinal: number) => ({
        ordinal,
        tenantId: fleet[ordinal]!.id,
        from: 'inProgress' as const,
        patch: { state: 'succeeded' as const, finishedAt: at },
        event: eventOf({ state: 'succeeded' }),
      });
      const updated = await store.rollouts.updateMembers(rollout.id, [update(0), update(1), update(2)]);
      assert.deepEqual([...updated].sort(), [0, 1], 'a member no longer in its `from` state is left alone');
      const succeeded = await store.rollouts.members(rollout.id, { limit: 10, state: 'succeeded' });
      assert.deepEqual(
        succeeded.items.map((m) => [m.ordinal, m.finishedAt]),
        [
          [0, at],
          [1, at],
        ],
      );
      for (const [ordinal, reasons] of [
        [0, ['Rollout:inProgress', 'Rollout:succeeded']],
        [2, ['Rollout:inProgress']],
      ] as const) {
        const events = await store.events.listByTenant(fleet[ordinal]!.id, { limit: 100 });
        assert.deepEqual(
          events.filter((e) => e.type === 'rollout.tenant_changed').map((e) => e.reason),
          reasons,
        );
      }
      assert.equal((await store.rollouts.updateMembers(rollout.id, [])).size, 0);
    },
  );

  c.test('saveControl is a compare-and-set; a final phase releases the tenants', async () => {
    const store = c.store();
    const fleet = await tenants(store, 2);
    const rollout = await store.rollouts.create(newRollout(fleet));
    const paused = await store.rollouts.saveControl(
      rollout.id,
      { control: { ...rollout.control, phase: 'paused' }, waveTimes: rollout.waveTimes },
      rollout.version,
    );
    assert.equal(paused.control.phase, 'paused');
    await assert.rejects(
      store.rollouts.saveControl(
        rollout.id,
        { control: rollout.control, waveTimes: rollout.waveTimes },
        rollout.version,
      ),
      PreconditionFailedError,
    );
    assert.equal(
      (await store.rollouts.list({ limit: 5, phase: 'paused' })).items.some((r) => r.id === rollout.id),
      true,
    );
    await store.rollouts.saveControl(
      rollout.id,
      { control: { ...paused.control, phase: 'aborted' }, waveTimes: paused.waveTimes },
      paused.version,
    );
    assert.equal((await store.rollouts.holders(fleet.map((t) => t.id))).size, 0);
    const next = await store.rollouts.create(newRollout(fleet));
    assert.equal(next.total, 2, 'released tenants may join another rollout');
  });

  c.test('list pages newest first', async () => {
    const store = c.store();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await store.rollouts.create(newRollout(await tenants(store, 1)))).id);
    const first = await store.rollouts.list({ limit: 2 });
    assert.ok(first.nextCursor);
    const second = await store.rollouts.list({ limit: 100, cursor: first.nextCursor });
    const all = [...first.items, ...second.items].map((r) => r.id);
    const mine = all.filter((id) => ids.includes(id));
    assert.deepEqual(mine, [...ids].reverse());
  });
}
