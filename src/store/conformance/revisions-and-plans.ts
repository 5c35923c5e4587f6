/**
 * Conformance: tenant revisions (every generation's spec, kept with the generation, gone with a
 * purge) and plans (immutable numbered revisions, compare-and-set, deletion refused while used,
 * tenant writes checked against the plan revision they name).
 */
import assert from 'node:assert/strict';
import {
  ConflictError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
} from '../../domain/errors.js';
import type { PlanContent } from '../../domain/plan.js';
import { specOf, unique, type Conformance } from './harness.js';
import { archive } from './tenant-basics.js';

function planContent(image: string, overrides: readonly string[] = ['/env']): PlanContent {
  return {
    description: `runs ${image}`,
    spec: { provider: 'fake', config: { image, env: { TIER: 'x' } }, retryPolicy: null },
    allowedOverrides: overrides,
  };
}

export function tenantRevisions(c: Conformance): void {
  c.test('every generation keeps its spec and actor; a status change makes no revision', async () => {
    const store = c.store();
    const tenant = await store.tenants.create({ name: unique('rev'), spec: specOf(), actor: 'api:alice' });
    const first = await store.revisions.get(tenant.id, 1);
    assert.deepEqual(first && { spec: first.spec, actor: first.actor, generation: first.generation }, {
      spec: tenant.spec,
      actor: 'api:alice',
      generation: 1,
    });
    await store.tenants.change(tenant.id, { actor: 'controller', status: { message: 'working' } });
    const v2 = specOf({ config: { image: 'busybox:2' } });
    await store.tenants.change(tenant.id, { actor: 'api:bob', spec: v2 });
    const v3 = specOf({ config: { image: 'busybox:3' }, labels: { tier: 'pro' } });
    await store.tenants.change(tenant.id, { actor: 'api:carol', spec: v3 });
    await store.tenants.change(tenant.id, { actor: 'api:carol', spec: v3 });

    const page = await store.revisions.list(tenant.id, { limit: 10 });
    assert.deepEqual(
      page.items.map((r) => [r.generation, r.actor, r.spec.config.image]),
      [
        [3, 'api:carol', 'busybox:3'],
        [2, 'api:bob', 'busybox:2'],
        [1, 'api:alice', 'busybox'],
      ],
    );
    assert.equal(page.nextCursor, null);
    assert.deepEqual((await store.revisions.get(tenant.id, 3))!.spec, v3);
    assert.equal(await store.revisions.get(tenant.id, 4), undefined);
    assert.equal(await store.revisions.get(tenant.id, 0), undefined);
  });

  c.test('revisions page newest first by cursor; a forged cursor is a validation error', async () => {
    const store = c.store();
    const tenant = await store.tenants.create({ name: unique('page'), spec: specOf(), actor: 't' });
    for (let i = 2; i <= 5; i++) {
      await store.tenants.change(tenant.id, { actor: 't', spec: specOf({ config: { image: `b:${i}` } }) });
    }
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.revisions.list(tenant.id, { limit: 2, cursor });
      seen.push(...page.items.map((r) => r.generation));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    assert.deepEqual(seen, [5, 4, 3, 2, 1]);
    await assert.rejects(store.revisions.list(tenant.id, { limit: 2, cursor: 'bm9wZQ' }), ValidationError);
  });

  c.test("a purge removes the tenant's revisions", async () => {
    const store = c.store();
    const tenant = await store.tenants.create({ name: unique('gone'), spec: specOf(), actor: 't' });
    await store.tenants.change(tenant.id, { actor: 't', spec: specOf({ config: { image: 'b:2' } }) });
    await archive(store, tenant.id);
    assert.equal((await store.revisions.list(tenant.id, { limit: 10 })).items.length, 2);
    await store.tenants.purge(tenant.id, { actor: 'api:admin' });
    assert.deepEqual((await store.revisions.list(tenant.id, { limit: 10 })).items, []);
  });
}

export function plans(c: Conformance): void {
  c.test('a plan starts at revision 1; a changed PUT makes N+1, an unchanged one nothing', async () => {
    const store = c.store();
    const name = unique('pro');
    const created = await store.plans.create({ name, actor: 'api:admin', ...planContent('app:1') });
    assert.equal(created.revision, 1);
    await assert.rejects(store.plans.create({ name, actor: 'a', ...planContent('app:1') }), ConflictError);
    const same = await store.plans.update({ name, actor: 'a', ...planContent('app:1') });
    assert.deepEqual([same.changed, same.plan.revision], [false, 1]);
    const next = await store.plans.update({ name, actor: 'api:bob', ...planContent('app:2') });
    assert.deepEqual([next.changed, next.plan.revision], [true, 2]);
    assert.equal(next.plan.createdAt, created.createdAt);
    const latest = await store.plans.get(name);
    assert.deepEqual([latest?.revision, latest?.spec.config.image], [2, 'app:2']);
    const first = await store.plans.revision(name, 1);
    assert.deepEqual([first?.spec.config.image, first?.actor], ['app:1', 'api:admin']);
    assert.equal(await store.plans.revision(name, 3), undefined);
    const revisions = await store.plans.revisions(name, { limit: 1 });
    assert.deepEqual(
      revisions.items.map((r) => r.revision),
      [2],
    );
    const older = await store.plans.revisions(name, { limit: 1, cursor: revisions.nextCursor! });
    assert.deepEqual(
      older.items.map((r) => [r.revision, r.actor]),
      [[1, 'api:admin']],
    );
    assert.equal(older.nextCursor, null);
  });

  c.test('an update with a stale expected revision is 412; an unknown plan is not found', async () => {
    const store = c.store();
    const name = unique('cas');
    await store.plans.create({ name, actor: 'a', ...planContent('app:1') });
    await store.plans.update({ name, actor: 'a', ...planContent('app:2') }, { expectedRevision: 1 });
    await assert.rejects(
      store.plans.update({ name, actor: 'a', ...planContent('app:3') }, { expectedRevision: 1 }),
      PreconditionFailedError,
    );
    await assert.rejects(
      store.plans.update({ name: unique('none'), actor: 'a', ...planContent('x') }),
      NotFoundError,
    );
    await assert.rejects(store.plans.delete(unique('none')), NotFoundError);
  });

  c.test('concurrent updates of one revision make exactly one N+1', async () => {
    const store = c.store();
    const name = unique('race');
    await store.plans.create({ name, actor: 'a', ...planContent('app:1') });
    const results = await Promise.allSettled(
      [2, 3, 4].map((i) =>
        store.plans.update({ name, actor: 'a', ...planContent(`app:${i}`) }, { expectedRevision: 1 }),
      ),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.equal((await store.plans.get(name))?.revision, 2);
  });

  c.test('upsert creates, then adds a revision only when the content changed', async () => {
    const store = c.store();
    const name = unique('git');
    assert.equal(
      (await store.plans.upsert({ name, actor: 'config', ...planContent('a:1') })).plan.revision,
      1,
    );
    assert.equal((await store.plans.upsert({ name, actor: 'config', ...planContent('a:1') })).changed, false);
    assert.equal(
      (await store.plans.upsert({ name, actor: 'config', ...planContent('a:2') })).plan.revision,
      2,
    );
  });

  c.test('lists plans by name at their latest revision', async () => {
    const store = c.store();
    const prefix = unique('ls');
    for (const suffix of ['b', 'a', 'c']) {
      await store.plans.create({ name: `${prefix}-${suffix}`, actor: 'a', ...planContent(suffix) });
    }
    await store.plans.update({ name: `${prefix}-a`, actor: 'a', ...planContent('a2') });
    const names: [string, number][] = [];
    let cursor: string | undefined;
    do {
      const page = await store.plans.list({ limit: 2, cursor });
      names.push(
        ...page.items
          .filter((p) => p.name.startsWith(prefix))
          .map((p): [string, number] => [p.name, p.revision]),
      );
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    assert.deepEqual(names, [
      [`${prefix}-a`, 2],
      [`${prefix}-b`, 1],
      [`${prefix}-c`, 1],
    ]);
  });

  c.test(
    'a tenant names an existing plan revision; a used plan cannot be deleted until archived',
    async () => {
      const store = c.store();
      const name = unique('used');
      await store.plans.create({ name, actor: 'a', ...planContent('app:1') });
      await assert.rejects(
        store.tenants.create({
          name: unique('t'),
          spec: specOf({ plan: { name, revision: 2 } }),
          actor: 't',
        }),
        ValidationError,
      );
      await assert.rejects(
        store.tenants.create({
          name: unique('t'),
          spec: specOf({ plan: { name: unique('nope'), revision: 1 } }),
          actor: 't',
        }),
        ValidationError,
      );
      const tenant = await store.tenants.create({
        name: unique('t'),
        spec: specOf({ plan: { name, revision: 1 }, config: {} }),
        actor: 't',
      });
      assert.deepEqual((await store.tenants.get(tenant.id))?.spec.plan, { name, revision: 1 });
      await assert.rejects(
        store.tenants.change(tenant.id, { actor: 't', spec: specOf({ plan: { name, revision: 5 } }) }),
        ValidationError,
      );
      await assert.rejects(store.plans.delete(name), (error: unknown) => {
        assert.ok(error instanceof ConflictError);
        assert.match(error.message, new RegExp(tenant.name));
        return true;
      });
      await archive(store, tenant.id);
      await store.plans.delete(name);
      assert.equal(await store.plans.get(name), undefined);
      assert.equal(await store.plans.revision(name, 1), undefined);
    },
  );

  c.test('a tenant moving off a plan frees it', async () => {
    const store = c.store();
    const name = unique('free');
    await store.plans.create({ name, actor: 'a', ...planContent('app:1') });
    const tenant = await store.tenants.create({
      name: unique('t'),
      spec: specOf({ plan: { name, revision: 1 }, config: {} }),
      actor: 't',
    });
    await assert.rejects(store.plans.delete(name), ConflictError);
    await store.tenants.change(tenant.id, { actor: 't', spec: specOf() });
    await store.plans.delete(name);
  });
}
