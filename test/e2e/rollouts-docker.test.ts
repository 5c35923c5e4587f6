/**
 * Rollouts on real containers: a real `lessor serve` with the docker provider against Podman, on
 * each database (default engine). A rollout changes the env of a handful of tenants wave by wave and
 * every container then runs the new env. A rollout of a new image (plan revision 2) whose image
 * does not exist for one tenant halts inside that tenant's wave and rolls back, after which every
 * container runs the old image again and no tenant started after the failure. What runs is asked
 * of the container engine, never of Lessor.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CreateTenantRequest, Rollout, Tenant } from '../../src/api/types.js';
import { matrix } from '../support/deployment.js';
import {
  containerEnv,
  containersByTenant,
  modeServerConfig,
  tagTestImage,
  TEST_IMAGE,
  untagImage,
} from '../support/docker-runtimes.js';
import { engines } from '../support/engines.js';
import { endpointText, podmanSuite } from '../support/podman-suite.js';
import { waitFor, waitForPhase } from '../support/wait.js';

const READY_MS = 180_000;

/** An image no engine has and no registry serves: its create fails with "no such image". */
const MISSING_IMAGE = 'localhost/lessor-missing:does-not-exist';

for (const { backend, engine, label } of matrix().filter((entry) => entry.engine === engines()[0])) {
  describe(`rollouts on docker ${label}`, () => {
    const suite = podmanSuite({ backend, engine }, { tag: 'ro' });
    const { prefix } = suite;

    /** `count` tenants serving `one`: the mode server by default, or the spec `specOf` gives. */
    async function fleet(
      group: string,
      count: number,
      specOf: (i: number) => CreateTenantRequest['spec'] = () => ({ config: modeServerConfig('one') }),
    ): Promise<Tenant[]> {
      const made: Tenant[] = [];
      for (let i = 0; i < count; i++) {
        made.push(
          await suite.deployment.client.createTenant({
            name: `${prefix}-${group}-${i}`,
            spec: { ...specOf(i), labels: { group } },
          }),
        );
      }
      for (const tenant of made)
        await waitForPhase(suite.deployment.client, tenant.id, 'ready', {
          timeoutMs: READY_MS,
          failOn: ['failed'],
        });
      return made;
    }

    const finished = (id: string) =>
      waitFor(
        `rollout ${id} to finish`,
        async () => {
          const rollout = await suite.deployment.client.getRollout(id);
          return ['succeeded', 'halted', 'rolledBack', 'aborted'].includes(rollout.status.phase) && rollout;
        },
        { timeoutMs: READY_MS * 2, intervalMs: 250 },
      );

    /** Each tenant has exactly one running container, with `MODE=<mode>`, answering `<mode>` (of `image`). */
    async function assertRunning(tenants: readonly Tenant[], mode: string, image?: string): Promise<void> {
      const containers = await containersByTenant(prefix);
      for (const tenant of tenants) {
        const mine = containers.get(tenant.id) ?? [];
        assert.equal(mine.length, 1, `${tenant.name}: ${JSON.stringify(mine)}`);
        assert.equal(mine[0]!.state, 'running', tenant.name);
        if (image !== undefined) assert.equal(mine[0]!.image, image, `${tenant.name} runs ${image}`);
        assert.equal((await containerEnv(mine[0]!.id)).MODE, mode, `${tenant.name} runs MODE=${mode}`);
        const now = await suite.deployment.client.getTenant(tenant.id);
        assert.equal(
          await endpointText(now.status.endpoints[0]!.url),
          mode,
          `${tenant.name} answers ${mode}`,
        );
      }
    }

    function assertWaveOrder(rollout: Rollout): void {
      const { waves } = rollout.status;
      for (let w = 1; w < waves.length; w++) {
        if (waves[w]!.startedAt === null) continue;
        const started = Date.parse(waves[w]!.startedAt!);
        assert.ok(started >= Date.parse(waves[w - 1]!.finishedAt ?? ''), `wave ${w} after wave ${w - 1}`);
      }
    }

    test(`${label} a rollout changes the env of every container, wave by wave`, () =>
      suite.run(async () => {
        const tenants = await fleet('ok', 4);
        await assertRunning(tenants, 'one');
        const created = await suite.deployment.client.createRollout({
          description: 'MODE two',
          selector: { labels: 'group=ok', names: tenants.map((t) => t.name) },
          change: { patch: { config: { env: { MODE: 'two' } } } },
          strategy: { waves: [1, '50%', '100%'], maxParallel: 2, minHealthyMs: 500 },
          failurePolicy: { maxFailed: 0, onHalt: 'rollback' },
        });
        const done = await finished(created.id);
        assert.equal(done.status.phase, 'succeeded', JSON.stringify(done.status));
        assert.equal(done.status.counts.succeeded, 4);
        assertWaveOrder(done);
        await assertRunning(tenants, 'two');
        for (const tenant of tenants)
          assert.equal((await suite.deployment.client.getTenant(tenant.id)).generation, 2);
      }));

    test(`${label} a new image missing for one tenant halts inside its wave; every changed container runs the old image again`, () =>
      suite.run(async ({ client }) => {
        // Revision 2 of both plans moves to a new image; for the plan of tenant 3 that image does
        // not exist (no registry is reachable, and the provider never pulls).
        const newImage = await tagTestImage(`${prefix}-new`);
        try {
          const plan = (image: string) => ({
            spec: { provider: 'docker', config: { ...modeServerConfig('one'), image } },
          });
          const [app, missing] = [`${prefix}-app`, `${prefix}-missing`];
          for (const name of [app, missing]) await client.createPlan({ name, ...plan(TEST_IMAGE) });
          // Wave 0: tenant 0; wave 1: tenants 1-4 (3 has the missing image); wave 2: tenants 5-9.
          const tenants = await fleet('img', 10, (i) => ({ plan: { name: i === 3 ? missing : app } }));
          await assertRunning(tenants, 'one', TEST_IMAGE);
          await client.replacePlan(app, plan(newImage));
          await client.replacePlan(missing, plan(MISSING_IMAGE));
          const created = await client.createRollout({
            description: 'revision 2: a new image',
            selector: { names: tenants.map((t) => t.name) },
            change: { planRevision: 2 },
            strategy: { waves: [1, 5, '100%'], maxParallel: 1, progressDeadlineMs: 60_000 },
            failurePolicy: { maxFailed: 0, onHalt: 'rollback' },
          });
          const done = await finished(created.id);
          assert.equal(done.status.phase, 'rolledBack', JSON.stringify(done.status));
          assert.match(done.status.haltReason ?? '', /fail/i);
          assert.equal(done.status.waves[1]!.pending, 1, 'no tenant of the wave started after the failure');
          assert.equal(done.status.waves[2]!.pending, 5, 'no tenant of the later wave started');
          const members = (await client.rolloutTenants(created.id, { limit: 50 })).items;
          const changed = members.filter((m) => m.toGeneration !== null);
          assert.deepEqual(
            changed.map((m) => m.tenant),
            tenants.slice(0, 4).map((t) => t.name),
          );
          for (const member of changed) {
            assert.equal(member.state, 'rolledBack', `${member.tenant}: ${JSON.stringify(member)}`);
            assert.equal(member.rollbackGeneration, 3);
          }
          const failed = members.find((m) => m.tenant === tenants[3]!.name);
          assert.equal(failed?.error?.code, 'IMAGE_UNAVAILABLE', JSON.stringify(failed));
          for (const tenant of tenants.slice(0, 4)) {
            await waitForPhase(client, tenant.id, 'ready', { generation: 3, timeoutMs: READY_MS });
          }
          await assertRunning(tenants, 'one', TEST_IMAGE);
          for (const tenant of tenants.slice(4))
            assert.equal((await client.getTenant(tenant.id)).generation, 1, `${tenant.name} untouched`);
        } finally {
          await untagImage(newImage);
        }
      }));
  });
}
