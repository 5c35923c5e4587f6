/**
 * How intent changes steer runs end to end (docs/architecture.md, "Tenants and their phases" and
 * "The controller"; docs/decisions.md), through a real
 * `lessor serve` on each database × engine:
 * - a spec fixed while its run backs off starts a new run at once (the old one is cancelled);
 * - `spec.paused: true` starts nothing; unpausing provisions;
 * - `POST /retry` from failed starts a new run `…:r1`. The `fake` provider cannot show this one: its
 *   fault counters are per execution and a retry is a new execution, so it fails the same way again.
 *   The `process` provider can: the tenant's process needs a file; a human creates it and retries.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LessorClient } from '../../src/api/client.js';
import { deploy, matrix, withLogs, type Deployment } from '../support/deployment.js';
import { assertRuntimes, assertStoreInvariants } from '../support/invariants.js';
import { processWorld, type ProcessWorld } from '../support/process-runtimes.js';
import { condition, executionsOf } from '../support/tenant-views.js';
import { sleep, waitFor, waitForPhase, waitForTenant } from '../support/wait.js';

const SETTLE_MS = 60_000;

for (const { backend, engine, label } of matrix()) {
  describe(`spec changes ${label}`, () => {
    const prefix = `e2e-sc${randomBytes(3).toString('hex')}`;
    const tenantIds: string[] = [];
    let d: Deployment | undefined;
    let world: ProcessWorld | undefined;
    let client: LessorClient;

    before(async () => {
      world = await processWorld();
      d = await deploy({ backend, engine, providers: { fake: {}, process: { stopGraceMs: 500 } } });
      client = d.client;
    });
    after(async () => {
      await d?.close();
      await world?.cleanup();
    });
    const it = (name: string, body: () => Promise<void>): void => {
      test(`${label} ${name}`, () => withLogs(d, body));
    };

    it('a spec fixed while the run backs off starts a new run at once', async () => {
      const retryPolicy = { initialBackoffMs: 60_000, maxBackoffMs: 60_000, jitter: false, maxAttempts: 10 };
      const tenant = await client.createTenant({
        name: `${prefix}-fix`,
        spec: { config: { faults: { failTimes: 1000 } }, retryPolicy },
      });
      tenantIds.push(tenant.id);
      const stuck = await waitFor('the first run to back off', async () => {
        const runId = (await client.getTenant(tenant.id)).status.workflow?.runId;
        const run = runId ? await client.getRun(runId) : undefined;
        return run?.state === 'backing-off' ? run : undefined;
      });
      const fixedAt = Date.now();
      await client.patchTenant(tenant.id, { spec: { config: { faults: null } } });
      const ready = await waitForPhase(client, tenant.id, 'ready', { generation: 2, timeoutMs: 30_000 });
      assert.ok(Date.now() - fixedAt < 30_000, 'did not wait out the 60 s backoff');
      assert.equal(ready.status.observedGeneration, 2);
      assert.equal(ready.status.workflow?.runId, `${tenant.id}:provision:g2`);
      assert.equal((await client.getRun(stuck.runId)).state, 'cancelled');
    });

    it('spec.paused: no run starts (Paused condition); unpausing provisions', async () => {
      const tenant = await client.createTenant({
        name: `${prefix}-paused`,
        spec: { config: {}, paused: true },
      });
      tenantIds.push(tenant.id);
      await waitForTenant(client, tenant.id, 'Paused=True', (t) => condition(t, 'Paused')?.status === 'True');
      await sleep(1_500);
      const idle = await client.getTenant(tenant.id);
      assert.equal(idle.status.phase, 'requested');
      assert.equal(idle.status.workflow, null);
      assert.equal(condition(idle, 'Paused')?.reason, 'SpecPaused');
      assert.deepEqual(await executionsOf(client, tenant.id), []);

      // Unpausing is an API write: it wakes the controller at once (docs/architecture.md, "The controller"),
      // no resync needed.
      await client.patchTenant(tenant.id, { spec: { paused: false } });
      const ready = await waitForPhase(client, tenant.id, 'ready', {
        timeoutMs: 10_000,
        failOn: ['failed'],
      }).catch((error: unknown) => {
        const why = 'not ready 10 s after unpausing (the controller waits for its periodic resync)';
        throw new Error(`${why}: ${(error as Error).message}`, { cause: error });
      });
      assert.equal(condition(ready, 'Paused')?.status, 'False');
    });

    it('POST /retry from failed: a new run …:r1 reaches ready', async () => {
      const flag = join(world!.root, `ready-${randomBytes(3).toString('hex')}`);
      const tenant = await client.createTenant({
        name: `${prefix}-retry`,
        spec: {
          provider: 'process',
          config: world!.config({ requireFile: flag }),
          retryPolicy: { maxAttempts: 1 },
        },
      });
      tenantIds.push(tenant.id);
      const failed = await waitForPhase(client, tenant.id, 'failed', { timeoutMs: SETTLE_MS });
      assert.equal(failed.status.lastError?.code, 'HEALTH_CHECK_FAILED');
      assert.equal(failed.status.workflow?.runId, `${tenant.id}:provision:g1`);
      const firstExecution = failed.status.compute!.executionId;

      // Retried as soon as the tenant shows failed (test/integration/retry-race.test.ts: the race).
      await writeFile(flag, 'fixed by a human\n');
      await client.retryTenant(tenant.id);
      const ready = await waitForPhase(client, tenant.id, 'ready', {
        timeoutMs: SETTLE_MS,
        failOn: ['failed'],
      });
      assert.equal(ready.status.workflow?.runId, `${tenant.id}:provision:g1:r1`);
      assert.notEqual(ready.status.compute?.executionId, firstExecution, 'the retry is a new execution');
      assert.equal(ready.generation, 1, 'a retry does not change the spec');
      assertRuntimes(await world!.runtimes(), new Map([[tenant.id, 1]]));
    });

    it('store invariants hold for every tenant of the suite', async () => {
      await assertStoreInvariants(d!.store, tenantIds);
    });
  });
}
