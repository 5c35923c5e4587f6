/**
 * Suspend and resume through a real in-process Lessor (the CLI tests' harness, the fake provider) on
 * every database × engine of the matrix (test/support/deployment.ts): the phase path and
 * conditions, one runtime kept across suspend and resume, a spec changed while suspended applied on
 * resume, delete of a suspended tenant, drift leaving a suspended tenant alone, the retry policy on
 * a failing suspend.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiError, LessorClient } from '../../src/api/client.js';
import type { Tenant } from '../../src/api/types.js';
import { startTestLessor, type TestLessor } from '../../src/cli/testing/test-lessor.js';
import { sharedFakeEngine } from '../../src/compute/providers/fake/index.js';
import type { TestDatabase } from '../../src/store/testing/test-databases.js';
import { matrix } from '../support/deployment.js';
import type { EngineSetup } from '../support/engines.js';
import { sleep, waitForPhase } from '../support/wait.js';

const FAST_RETRY = { initialBackoffMs: 1, maxBackoffMs: 5, jitter: false };

const condition = (tenant: Tenant, type: string) => tenant.status.conditions.find((c) => c.type === type);

for (const { backend, engine, label } of matrix()) {
  describe(`suspend and resume (in-process, fake provider) ${label}`, () => {
    let db: TestDatabase | undefined;
    let engineSetup: EngineSetup | undefined;
    let lessor: TestLessor | undefined;
    let client: LessorClient;

    before(async () => {
      db = await backend.create();
      engineSetup = await engine.setup();
      lessor = await startTestLessor({
        env: {
          LESSOR_DATABASE__URL: db.url,
          LESSOR_ENGINE__EMBEDDED__POLL_INTERVAL_MS: '100',
          ...engineSetup.env,
        },
      });
      client = new LessorClient({ baseUrl: lessor.url });
    });
    after(async () => {
      await lessor?.close();
      await engineSetup?.cleanup();
      await db?.cleanup();
    });

    async function readyTenant(
      name: string,
      config: Record<string, unknown> = { image: 'app:1' },
    ): Promise<Tenant> {
      const created = await client.createTenant({ name, spec: { config, retryPolicy: FAST_RETRY } });
      return waitForPhase(client, created.id, 'ready', { failOn: ['failed'] });
    }

    test('ready → suspended → ready keeps the one runtime; runs, executions and conditions say so', async () => {
      const ready = await readyTenant('sus-basic');
      const runtimeId = ready.status.resources.runtimeId;
      assert.ok(runtimeId);

      const asked = await client.patchTenant(ready.id, { spec: { suspended: true } });
      assert.equal(asked.spec.suspended, true);
      assert.equal(asked.generation, 2);
      const suspended = await waitForPhase(client, ready.id, 'suspended', { failOn: ['failed'] });
      assert.equal(suspended.status.workflow?.runId, `${ready.id}:suspend:g2`);
      assert.equal(suspended.status.compute?.operation, 'suspend');
      assert.equal(suspended.status.observedGeneration, 2, 'nothing left to apply');
      assert.deepEqual(suspended.status.endpoints, []);
      assert.equal(suspended.status.resources.runtimeId, runtimeId);
      assert.equal(condition(suspended, 'Ready')?.status, 'False');
      assert.equal(condition(suspended, 'Ready')?.reason, 'Suspended');
      assert.equal(condition(suspended, 'Reconciling')?.status, 'False');
      const kept = sharedFakeEngine.get(ready.id);
      assert.equal(kept?.running, false);
      assert.equal(kept?.runtimeId, runtimeId);

      assert.equal(await lessor!.app.controller.checkDrift(), 0, 'drift leaves a suspended tenant alone');
      assert.equal(sharedFakeEngine.get(ready.id)?.running, false);

      await client.patchTenant(ready.id, { spec: { suspended: false } });
      const resumed = await waitForPhase(client, ready.id, 'ready', { generation: 3, failOn: ['failed'] });
      assert.equal(resumed.status.workflow?.runId, `${ready.id}:resume:g3`);
      assert.equal(resumed.status.observedGeneration, 3);
      assert.equal(resumed.status.resources.runtimeId, runtimeId, 'the same runtime runs again');
      assert.equal(resumed.status.endpoints.length, 1);
      assert.equal(condition(resumed, 'Ready')?.status, 'True');
      assert.equal(sharedFakeEngine.createCount(ready.id), 1, 'never re-created');
      assert.equal(sharedFakeEngine.callCount('update', ready.id), 0, 'no update was needed');

      const ops = (await client.tenantExecutions(ready.id)).items.map((e) => e.operation).sort();
      assert.deepEqual(ops, ['provision', 'resume', 'suspend']);
      const phases = (await client.tenantEvents(ready.id)).items
        .filter((e) => e.type === 'PhaseChanged')
        .map((e) => `${String(e.fromPhase)}→${String(e.toPhase)}`);
      assert.deepEqual(phases.slice(-4), [
        'ready→updating',
        'updating→suspended',
        'suspended→updating',
        'updating→ready',
      ]);
    });

    test('a spec change while suspended is stored, not applied, and applied on resume', async () => {
      const ready = await readyTenant('sus-change', { image: 'app:1', env: { MODE: 'a' } });
      await client.patchTenant(ready.id, { spec: { suspended: true } });
      await waitForPhase(client, ready.id, 'suspended', { failOn: ['failed'] });

      const changed = await client.patchTenant(ready.id, { spec: { config: { env: { MODE: 'b' } } } });
      assert.equal(changed.generation, 3);
      await sleep(1_000); // the controller was woken by the write; it must leave the runtime alone
      const still = await client.getTenant(ready.id);
      assert.equal(still.status.phase, 'suspended');
      assert.equal(still.status.observedGeneration, 2);
      assert.equal(sharedFakeEngine.get(ready.id)?.running, false);
      assert.deepEqual(sharedFakeEngine.get(ready.id)?.config.env, { MODE: 'a' });

      await client.patchTenant(ready.id, { spec: { suspended: false } });
      const applied = await waitForPhase(client, ready.id, 'ready', { generation: 4, failOn: ['failed'] });
      assert.equal(applied.status.observedGeneration, 4);
      assert.equal(applied.status.workflow?.action, 'update', 'the resume was followed by an update');
      assert.deepEqual(sharedFakeEngine.get(ready.id)?.config.env, { MODE: 'b' });
      assert.equal(sharedFakeEngine.runtimeCount(ready.id), 1);
    });

    test('a spec changed together with suspended: suspends now, applies on resume', async () => {
      const ready = await readyTenant('sus-both', { image: 'app:1' });
      await client.patchTenant(ready.id, { spec: { suspended: true, config: { image: 'app:2' } } });
      const suspended = await waitForPhase(client, ready.id, 'suspended', { failOn: ['failed'] });
      assert.equal(suspended.status.observedGeneration, 1, 'the new image is not applied yet');
      assert.equal(sharedFakeEngine.get(ready.id)?.config.image, 'app:1');
      await client.patchTenant(ready.id, { spec: { suspended: false } });
      await waitForPhase(client, ready.id, 'ready', { generation: 3, failOn: ['failed'] });
      assert.equal(sharedFakeEngine.get(ready.id)?.config.image, 'app:2');
    });

    test('a suspended tenant can be deleted', async () => {
      const ready = await readyTenant('sus-delete');
      await client.patchTenant(ready.id, { spec: { suspended: true } });
      await waitForPhase(client, ready.id, 'suspended', { failOn: ['failed'] });
      await client.deleteTenant(ready.id);
      await waitForPhase(client, ready.id, 'archived', { failOn: ['failed'] });
      assert.equal(sharedFakeEngine.get(ready.id), undefined);
    });

    test('a failing suspend is retried under the policy, then settles suspended', async () => {
      const faults = { failTimes: 2, failOperations: ['suspend'] };
      const ready = await readyTenant('sus-faults', { image: 'app:1', faults });
      await client.patchTenant(ready.id, { spec: { suspended: true } });
      const suspended = await waitForPhase(client, ready.id, 'suspended', { failOn: ['failed'] });
      const execution = await client.getExecution(suspended.status.compute!.executionId);
      assert.equal(execution.attempt, 3);
      assert.deepEqual(
        execution.history.map((h) => h.status),
        ['pending', 'running', 'failed', 'running', 'failed', 'running', 'succeeded'],
      );
    });

    test('a non-retriable resume failure fails the tenant; suspending again from failed works', async () => {
      const ready = await readyTenant('sus-gone');
      await client.patchTenant(ready.id, { spec: { suspended: true } });
      await waitForPhase(client, ready.id, 'suspended', { failOn: ['failed'] });
      sharedFakeEngine.remove(ready.id); // removed behind Lessor's back while suspended
      await client.patchTenant(ready.id, { spec: { suspended: false } });
      const failed = await waitForPhase(client, ready.id, 'failed');
      assert.equal(failed.status.lastError?.code, 'NOT_FOUND');
      assert.equal(failed.status.workflow?.action, 'resume');
      await client.retryTenant(ready.id);
      const back = await waitForPhase(client, ready.id, 'ready', { failOn: ['failed'] });
      assert.equal(sharedFakeEngine.runtimeCount(back.id), 1, 'the retry re-created the runtime');
    });

    test('creating a tenant suspended provisions it, then suspends it', async () => {
      const created = await client.createTenant({
        name: 'sus-born',
        spec: { config: { image: 'app:1' }, suspended: true },
      });
      const suspended = await waitForPhase(client, created.id, 'suspended', { failOn: ['failed'] });
      assert.equal(suspended.status.observedGeneration, 1);
      assert.equal(sharedFakeEngine.get(created.id)?.running, false);
    });

    test('a spec that never set suspended reads false and does not change on a same-spec PUT', async () => {
      const ready = await readyTenant('sus-absent');
      assert.equal(ready.spec.suspended, false);
      const { provider, config, labels, annotations, retryPolicy, paused } = ready.spec;
      const same = await client.replaceSpec(ready.id, {
        provider,
        config,
        labels,
        annotations,
        retryPolicy,
        paused,
      });
      assert.equal(same.generation, 1);
      await assert.rejects(
        client.patchTenant(ready.id, JSON.parse('{"spec":{"suspended":"yes"}}') as never),
        (error: unknown) => error instanceof ApiError && error.status === 400,
      );
    });
  });
}
