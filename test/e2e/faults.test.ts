/**
 * Provider faults end to end: a real `lessor serve` with the `fake` provider, on each database × engine. Each
 * fault of fake-schema.ts (fail N times, non-retriable, hang past the timeout, ambiguous success, partial
 * failure with rollback, rate limited, manual intervention, the `pause` action) produces the declared
 * behaviour (docs/architecture.md, retry policy and errors), seen only through the HTTP API. Tests run one
 * after the other: the ambiguous-success check reads the fake engine's id counter.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { LessorClient } from '../../src/api/client.js';
import type { Tenant } from '../../src/api/types.js';
import type { JsonObject } from '../../src/domain/tenant.js';
import { deploy, matrix, withLogs, type Deployment } from '../support/deployment.js';
import { assertStoreInvariants } from '../support/invariants.js';
import {
  condition,
  executionsOf,
  expectedPath,
  fakeId,
  fakeIdProbe,
  historyPath,
  onlyExecution,
  phaseChanges,
} from '../support/tenant-views.js';
import { waitForPhase } from '../support/wait.js';

/** Retries in milliseconds, not seconds: the suite tests decisions, not patience. */
const FAST = { initialBackoffMs: 20, maxBackoffMs: 50, maxAttempts: 5 } as const;
const SETTLE_MS = 60_000;

for (const { backend, engine, label } of matrix()) {
  describe(`provider faults ${label}`, () => {
    const prefix = `e2e-ft${randomBytes(3).toString('hex')}`;
    const tenantIds: string[] = [];
    let d: Deployment | undefined;
    let client: LessorClient;

    before(async () => {
      d = await deploy({ backend, engine, providers: { fake: {} } });
      client = d.client;
    });
    after(() => d?.close());

    const create = async (
      name: string,
      config: JsonObject,
      retryPolicy: Record<string, unknown> = FAST,
    ): Promise<Tenant> => {
      const tenant = await client.createTenant({ name: `${prefix}-${name}`, spec: { config, retryPolicy } });
      tenantIds.push(tenant.id);
      return tenant;
    };
    const it = (name: string, body: () => Promise<void>): void => {
      test(`${label} ${name}`, () => withLogs(d, body));
    };

    it('fail N times, then succeed: retried under ONE execution id', async () => {
      const tenant = await create('fail2', { faults: { failTimes: 2 } });
      const ready = await waitForPhase(client, tenant.id, 'ready', {
        timeoutMs: SETTLE_MS,
        failOn: ['failed'],
      });
      const execution = await onlyExecution(client, tenant.id, 'provision');
      assert.equal(historyPath(execution), expectedPath(2, 'succeeded'));
      assert.equal(execution.attempt, 3);
      assert.equal(ready.status.compute?.executionId, execution.executionId);
      assert.equal(ready.status.lastError, null);
    });

    it('non-retriable: failed with its code and condition, no further attempt', async () => {
      const tenant = await create('nonretry', { image: 'ghost:1', faults: { nonRetriable: true } });
      const failed = await waitForPhase(client, tenant.id, 'failed', { timeoutMs: SETTLE_MS });
      assert.equal(failed.status.lastError?.code, 'IMAGE_UNAVAILABLE');
      assert.equal(failed.status.lastError?.classification, 'non_retriable');
      assert.equal(condition(failed, 'Ready')?.status, 'False');
      assert.equal(condition(failed, 'Ready')?.reason, 'IMAGE_UNAVAILABLE');
      assert.equal(condition(failed, 'Degraded')?.status, 'True');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const execution = await onlyExecution(client, tenant.id, 'provision');
      assert.equal(historyPath(execution), expectedPath(1, 'failed'), 'no second attempt');
      assert.equal((await client.getRun(failed.status.workflow!.runId)).state, 'failed');
    });

    for (const ignoreAbort of [false, true]) {
      it(`hang${ignoreAbort ? ' (ignoring abort)' : ''} → PROVIDER_TIMEOUT after timeoutMs → retried, then failed`, async () => {
        const faults = { hang: true, ...(ignoreAbort && { ignoreAbort }) };
        const started = Date.now();
        const tenant = await create(
          `hang${ignoreAbort ? 'x' : ''}`,
          { faults },
          { ...FAST, timeoutMs: 300, maxAttempts: 2 },
        );
        const failed = await waitForPhase(client, tenant.id, 'failed', { timeoutMs: SETTLE_MS });
        assert.equal(failed.status.lastError?.code, 'PROVIDER_TIMEOUT');
        const execution = await onlyExecution(client, tenant.id, 'provision');
        assert.equal(historyPath(execution), expectedPath(2, 'failed'));
        assert.ok(
          execution.history
            .filter((h) => h.status === 'failed')
            .every((h) => h.details.code === 'PROVIDER_TIMEOUT'),
        );
        assert.ok(Date.now() - started >= 600, 'two attempts of 300 ms each');
      });
    }

    it('ambiguous success: the retry finds the runtime, no duplicate is created', async () => {
      const before = await fakeIdProbe(client, `${prefix}-probe1`);
      const tenant = await create('ambiguous', { faults: { ambiguous: true } });
      const ready = await waitForPhase(client, tenant.id, 'ready', {
        timeoutMs: SETTLE_MS,
        failOn: ['failed'],
      });
      const afterward = await fakeIdProbe(client, `${prefix}-probe2`);
      const execution = await onlyExecution(client, tenant.id, 'provision');
      assert.equal(historyPath(execution), expectedPath(1, 'succeeded'));
      assert.equal(execution.history[2]?.details.code, 'PROVIDER_TIMEOUT');
      assert.equal(fakeId(ready.status.resources.volumeId), before + 2, 'the first attempt made the volume');
      assert.equal(fakeId(ready.status.resources.runtimeId), before + 3, 'and the runtime, once');
      assert.equal(afterward, before + 4, 'the retry created nothing');
    });

    it('partial failure with onError rollback: partial resources removed, tenant failed RolledBack', async () => {
      const policy = { ...FAST, onError: { PARTIAL_FAILURE: 'rollback' } };
      const tenant = await create('partial', { faults: { partial: true } }, policy);
      const failed = await waitForPhase(client, tenant.id, 'failed', { timeoutMs: SETTLE_MS });
      assert.equal(failed.status.lastError?.code, 'PARTIAL_FAILURE');
      assert.ok((await phaseChanges(client, tenant.id)).includes('failed:RolledBack:PARTIAL_FAILURE'));
      const provision = await onlyExecution(client, tenant.id, 'provision');
      const removal = await onlyExecution(client, tenant.id, 'delete');
      assert.deepEqual((provision.partial as { succeeded?: string[] } | null)?.succeeded, ['volume']);
      assert.equal(provision.workflowRunId, removal.workflowRunId, 'the rollback belongs to the failed run');
      assert.equal(removal.status, 'succeeded');
      const partialVolume = provision.resources.volumeId;
      assert.ok(partialVolume);
      // Proof from the engine: a fixed spec provisions a NEW volume (the partial one is gone).
      await client.patchTenant(tenant.id, { spec: { config: { faults: null } } });
      const ready = await waitForPhase(client, tenant.id, 'ready', {
        generation: 2,
        timeoutMs: SETTLE_MS,
        failOn: [],
      });
      assert.notEqual(ready.status.resources.volumeId, partialVolume);
    });

    it('rate limited: the retry waits at least retryAfterMs', async () => {
      const tenant = await create('ratelimit', { faults: { rateLimitedMs: 800 } });
      await waitForPhase(client, tenant.id, 'ready', { timeoutMs: SETTLE_MS, failOn: ['failed'] });
      const execution = await onlyExecution(client, tenant.id, 'provision');
      assert.equal(historyPath(execution), expectedPath(1, 'succeeded'));
      const failedAt = Date.parse(execution.history[2]!.at);
      const retriedAt = Date.parse(execution.history[3]!.at);
      assert.equal(execution.history[2]!.details.code, 'RATE_LIMITED');
      assert.ok(retriedAt - failedAt >= 800, `retried after ${retriedAt - failedAt} ms, expected ≥ 800`);
    });

    it('manual intervention (PERMISSION_DENIED): failed, Degraded/ManualInterventionRequired', async () => {
      const tenant = await create('denied', { faults: { failTimes: 5, failCode: 'PERMISSION_DENIED' } });
      const failed = await waitForPhase(client, tenant.id, 'failed', { timeoutMs: SETTLE_MS });
      assert.equal(failed.status.lastError?.classification, 'manual_intervention');
      assert.deepEqual(
        { status: condition(failed, 'Degraded')?.status, reason: condition(failed, 'Degraded')?.reason },
        { status: 'True', reason: 'ManualInterventionRequired' },
      );
      assert.equal((await onlyExecution(client, tenant.id, 'provision')).attempt, 1);
    });

    it('onError pause: failed with Paused/PausedOnError, no retry', async () => {
      const policy = { ...FAST, onError: { CONFLICT: 'pause' } };
      const tenant = await create('pause', { faults: { failTimes: 5, failCode: 'CONFLICT' } }, policy);
      const failed = await waitForPhase(client, tenant.id, 'failed', { timeoutMs: SETTLE_MS });
      assert.deepEqual(
        { status: condition(failed, 'Paused')?.status, reason: condition(failed, 'Paused')?.reason },
        { status: 'True', reason: 'PausedOnError' },
      );
      assert.equal(condition(failed, 'Degraded')?.reason, 'ManualInterventionRequired');
      assert.equal((await executionsOf(client, tenant.id)).length, 1);
      assert.equal((await onlyExecution(client, tenant.id, 'provision')).attempt, 1);
    });

    it('store invariants hold for every tenant of the suite', async () => {
      await assertStoreInvariants(d!.store, tenantIds);
    });
  });
}
