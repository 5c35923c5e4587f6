/**
 * End to end on real containers: a real `lessor serve` process with the docker provider
 * against Podman, on each database × engine. A tenant's whole life through the HTTP API — create →
 * ready with the container answering on its endpoint, PATCH env → generation 2 with exactly one
 * container running the new env, DELETE → archived with no container left — and drift repair: a
 * container removed behind Lessor's back is recreated and the tenant is ready again.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isValidExecutionPath } from '../../src/domain/compute-execution.js';
import { matrix } from '../support/deployment.js';
import { containerEnv, modeServerConfig, removeContainer } from '../support/docker-runtimes.js';
import { assertStoreInvariants } from '../support/invariants.js';
import { endpointText, podmanSuite } from '../support/podman-suite.js';
import { waitFor, waitForPhase } from '../support/wait.js';

const READY_MS = 120_000;

for (const { backend, engine, label } of matrix()) {
  describe(`docker lifecycle ${label}`, () => {
    const suite = podmanSuite(
      { backend, engine },
      { tag: 'dk', env: { LESSOR_CONTROLLER__DRIFT_INTERVAL_MS: '500' } },
    );
    const { prefix, containersOf } = suite;

    test(`${label} create → ready, PATCH env → generation 2, DELETE → archived`, () =>
      suite.run(async ({ client, store }) => {
        const created = await client.createTenant({
          name: `${prefix}-life`,
          spec: { config: modeServerConfig('one') },
        });
        assert.equal(created.status.phase, 'requested');
        const ready = await waitForPhase(client, created.id, 'ready', {
          timeoutMs: READY_MS,
          failOn: ['failed'],
        });
        const endpoint = ready.status.endpoints[0]?.url;
        assert.ok(endpoint, 'a ready tenant reports its endpoint');
        assert.equal(await endpointText(endpoint), 'one');
        const [first] = await containersOf(created.id);
        assert.equal((await containersOf(created.id)).length, 1);
        assert.equal((await containerEnv(first!.id)).MODE, 'one');

        const patched = await client.patchTenant(created.id, { spec: { config: { env: { MODE: 'two' } } } });
        assert.equal(patched.generation, 2);
        const updated = await waitForPhase(client, created.id, 'ready', {
          generation: 2,
          timeoutMs: READY_MS,
          failOn: ['failed'],
        });
        assert.equal(updated.status.observedGeneration, 2);
        assert.equal(await endpointText(updated.status.endpoints[0]!.url), 'two');
        const afterUpdate = await containersOf(created.id);
        assert.equal(
          afterUpdate.length,
          1,
          `exactly one container after the update: ${JSON.stringify(afterUpdate)}`,
        );
        assert.equal((await containerEnv(afterUpdate[0]!.id)).MODE, 'two');

        await client.deleteTenant(created.id);
        await waitForPhase(client, created.id, 'archived', { timeoutMs: READY_MS });
        await waitFor('the container to be gone', async () => (await containersOf(created.id)).length === 0, {
          timeoutMs: 30_000,
        });

        const executions = (await client.tenantExecutions(created.id)).items;
        assert.deepEqual(executions.map((e) => `${e.operation}:${e.status}`).sort(), [
          'delete:succeeded',
          'provision:succeeded',
          'update:succeeded',
        ]);
        for (const execution of executions) {
          const detail = await client.getExecution(execution.executionId);
          assert.ok(
            isValidExecutionPath(detail.history.map((h) => h.status)),
            JSON.stringify(detail.history),
          );
          // The tenant's last phase change is the run's last step; the run row settles just after it
          // (on Restate, when the invocation's result is recorded), so wait for it to settle.
          const run = await waitFor(
            `run ${execution.workflowRunId} to settle`,
            async () => {
              const current = await client.getRun(execution.workflowRunId);
              return ['pending', 'running', 'waiting', 'backing-off'].includes(current.state)
                ? undefined
                : current;
            },
            { timeoutMs: 10_000 },
          );
          assert.equal(run.state, 'succeeded');
          assert.ok(
            run.steps.some((s) => s.name.startsWith(`compute:${execution.operation}`)),
            `run ${run.runId} journal shows its compute step`,
          );
        }
        await assertStoreInvariants(store, [created.id]);
      }));

    test(`${label} drift: a container removed out of band is recreated`, () =>
      suite.run(async ({ client, store }) => {
        const created = await client.createTenant({
          name: `${prefix}-drift`,
          spec: { config: modeServerConfig('drift') },
        });
        await waitForPhase(client, created.id, 'ready', { timeoutMs: READY_MS, failOn: ['failed'] });
        const [original] = await containersOf(created.id);
        await removeContainer(original!.id);

        const repaired = await waitFor(
          'drift repair: an update run and a new container',
          async () => {
            const tenant = await client.getTenant(created.id);
            const containers = await containersOf(created.id);
            const byRepair = tenant.status.workflow?.runId.includes(':update:') === true;
            return byRepair &&
              tenant.status.phase === 'ready' &&
              containers.length === 1 &&
              containers[0]!.state === 'running'
              ? { tenant, containers }
              : undefined;
          },
          { timeoutMs: READY_MS, intervalMs: 100 },
        );
        assert.notEqual(repaired.containers[0]!.id, original!.id);
        assert.equal(await endpointText(repaired.tenant.status.endpoints[0]!.url), 'drift');
        await assertStoreInvariants(store, [created.id]);
      }));
  });
}
