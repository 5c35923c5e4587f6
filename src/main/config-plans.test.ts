import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { fakeRegistry } from '../api/testing/api-harness.js';
import { backends } from '../store/testing/test-databases.js';
import type { TestDatabase } from '../store/testing/test-databases.js';
import { ConfigError } from './config/config-error.js';
import { upsertConfigPlans } from './config-plans.js';

const logger = pino({ level: 'silent' });
const plan = (image: string) => ({
  name: 'pro',
  description: 'Pro tier',
  spec: { config: { image }, retryPolicy: null },
  allowedOverrides: ['/env'],
});

const backend = backends()[0];
if (backend) {
  describe(`[${backend.name}] plans from the configuration`, () => {
    let db: TestDatabase | undefined;
    before(async () => {
      db = await backend.create();
    });
    after(async () => {
      await db?.cleanup();
    });
    const deps = () => ({ store: db!.store, providers: fakeRegistry(), logger });

    test('created at start, unchanged on a restart, a new revision when changed', async () => {
      await upsertConfigPlans([plan('app:1')], deps());
      await upsertConfigPlans([plan('app:1')], deps());
      assert.equal((await db!.store.plans.get('pro'))?.revision, 1);
      await upsertConfigPlans([plan('app:2')], deps());
      const stored = await db!.store.plans.get('pro');
      assert.deepEqual(
        [stored?.revision, stored?.spec.provider, stored?.spec.config.image],
        [2, 'fake', 'app:2'],
      );
      assert.equal((await db!.store.plans.revision('pro', 2))?.actor, 'config');
    });

    test('a plan the provider refuses stops the start, naming it; nothing is stored', async () => {
      const bad = { ...plan('x'), name: 'bad', spec: { config: { image: 7 }, retryPolicy: null } };
      await assert.rejects(upsertConfigPlans([plan('app:3'), bad], deps()), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /plans\.1\.spec\.config\.image/);
        return true;
      });
      assert.equal((await db!.store.plans.get('pro'))?.revision, 2);
      assert.equal(await db!.store.plans.get('bad'), undefined);
    });
  });
}
