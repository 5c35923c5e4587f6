/**
 * End to end on real containers: a real `lessor serve` process with the docker provider against
 * Podman. A tenant made from a plan reaches ready running the plan's image, command and env with
 * its own overrides merged on top — read from the real container through the engine's API, never
 * from Lessor — then a PATCH changes its env (generation 2), and a rollback to generation 1 makes
 * generation 3 whose running container has generation 1's env again; a plan change in between
 * moves nothing.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LessorClient } from '../../src/api/client.js';
import { matrix } from '../support/deployment.js';
import { containerEnv, modeServerConfig } from '../support/docker-runtimes.js';
import { assertStoreInvariants } from '../support/invariants.js';
import { endpointText, podmanSuite } from '../support/podman-suite.js';
import { waitForPhase } from '../support/wait.js';

const READY_MS = 120_000;

for (const { backend, engine, label } of matrix()) {
  describe(`plans on docker ${label}`, () => {
    const suite = podmanSuite({ backend, engine }, { tag: 'pl' });
    const { prefix, containersOf } = suite;

    /** The one running container of the tenant and its environment, as the engine reports them. */
    const runningEnv = async (tenantId: string) => {
      const containers = await containersOf(tenantId);
      assert.equal(containers.length, 1, `exactly one container: ${JSON.stringify(containers)}`);
      return containerEnv(containers[0]!.id);
    };
    const ready = (client: LessorClient, id: string, generation: number) =>
      waitForPhase(client, id, 'ready', { generation, timeoutMs: READY_MS, failOn: ['failed'] });

    test(`${label} a tenant from a plan runs the merged config; rollback restores generation 1's env`, () =>
      suite.run(async ({ client, store }) => {
        const planName = `${prefix}-pro`;
        const base = modeServerConfig('plan');
        await client.createPlan({
          name: planName,
          spec: { provider: 'docker', config: { ...base, env: { MODE: 'plan', TIER: 'pro' } } },
          allowedOverrides: ['/env'],
        });
        const created = await client.createTenant({
          name: `${prefix}-acme`,
          spec: { plan: { name: planName }, config: { env: { MODE: 'one' } } },
        });
        assert.deepEqual(created.spec.plan, { name: planName, revision: 1 });
        const first = await ready(client, created.id, 1);
        assert.equal(
          await endpointText(first.status.endpoints[0]!.url),
          'one',
          "the plan's command with the override",
        );
        const env1 = await runningEnv(created.id);
        assert.deepEqual([env1.MODE, env1.TIER], ['one', 'pro'], 'override merged onto the plan env');

        // A new plan revision changes no running tenant by itself.
        await client.replacePlan(planName, {
          spec: { provider: 'docker', config: { ...base, env: { MODE: 'plan', TIER: 'max' } } },
          allowedOverrides: ['/env'],
        });
        const patched = await client.patchTenant(created.id, { spec: { config: { env: { MODE: 'two' } } } });
        assert.equal(patched.generation, 2);
        assert.deepEqual(patched.spec.plan, { name: planName, revision: 1 }, 'still pinned to revision 1');
        const second = await ready(client, created.id, 2);
        assert.equal(await endpointText(second.status.endpoints[0]!.url), 'two');
        const env2 = await runningEnv(created.id);
        assert.deepEqual([env2.MODE, env2.TIER], ['two', 'pro']);

        const rolledBack = await client.rollbackTenant(created.id, 1);
        assert.equal(rolledBack.generation, 3);
        assert.deepEqual(rolledBack.spec.config, { env: { MODE: 'one' } });
        const third = await ready(client, created.id, 3);
        assert.equal(await endpointText(third.status.endpoints[0]!.url), 'one');
        const env3 = await runningEnv(created.id);
        assert.deepEqual([env3.MODE, env3.TIER], ['one', 'pro'], "generation 1's env runs again");

        const revisions = await client.tenantRevisions(created.id);
        assert.deepEqual(
          revisions.items.map((r) => [r.generation, r.spec.plan?.revision, r.spec.config]),
          [
            [3, 1, { env: { MODE: 'one' } }],
            [2, 1, { env: { MODE: 'two' } }],
            [1, 1, { env: { MODE: 'one' } }],
          ],
        );
        const diff = await client.diffTenantRevisions(created.id, 3, 1);
        assert.deepEqual(diff.patch, [], 'generation 3 is generation 1 again');
        await assertStoreInvariants(store, [created.id]);
      }));
  });
}
