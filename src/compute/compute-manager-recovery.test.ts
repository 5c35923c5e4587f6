import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isValidExecutionPath, type ComputeExecution } from '../domain/compute-execution.js';
import type { ExecutionView } from './compute-api.js';
import type { ExecutionLedger } from './execution-ledger.js';
import { ledgerBackends, type LedgerHarness } from './testing/ledger-backends.js';
import {
  fakeManager,
  fakeSpec,
  startRequest,
  uniqueName,
  waitForStatus,
} from './testing/manager-fixtures.js';

const LEASE_MS = 300;
const statuses = (view: ExecutionView) => view.history.map((h) => h.status);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A ledger whose process "dies" right after the pending row is written, before its move to
 * `running` (on PostgreSQL the two are separate writes; on SQLite one transaction).
 */
function crashingAfterInsert(ledger: ExecutionLedger): ExecutionLedger {
  return new Proxy(ledger, {
    get(target, property) {
      if (property === 'insertIfAbsent')
        return async (execution: ComputeExecution) => {
          await target.insertIfAbsent(execution);
          throw new Error('process killed');
        };
      if (property === 'transition') return async () => Promise.reject(new Error('process killed'));
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A ledger whose process is killed rather than stopped: it never gets to release its leases. */
function killedAtClose(ledger: ExecutionLedger): ExecutionLedger {
  return new Proxy(ledger, {
    get(target, property) {
      if (property === 'releaseLeases') return async () => 0;
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

for (const backend of ledgerBackends()) {
  describe(`[${backend.name}] compute manager: orphaned executions`, () => {
    let h: LedgerHarness;
    before(async () => {
      h = await backend.create();
    });
    after(() => h.cleanup());

    test(`[${backend.name}] a running execution whose owner stopped is re-driven by a new instance and completes`, async () => {
      const a = fakeManager(h.ledger, {
        latencyMs: 60_000,
        leaseMs: LEASE_MS,
        instanceId: 'old',
        tenants: h.tenants,
      });
      const tenant = await h.createTenant(uniqueName(), fakeSpec());
      const started = await a.manager.start(startRequest(tenant));
      await sleep(20);
      await a.manager.close();
      assert.equal((await a.manager.get(started.executionId))?.status, 'running', 'close does not settle');
      const b = fakeManager(await h.secondLedger(), {
        engine: a.engine,
        leaseMs: LEASE_MS,
        recoveryIntervalMs: 50,
        instanceId: 'new',
        tenants: h.tenants,
      });
      b.manager.open();
      const view = await waitForStatus(b.manager, started.executionId, ['succeeded']);
      assert.deepEqual(statuses(view), ['pending', 'running', 'succeeded']);
      assert.ok(isValidExecutionPath(statuses(view)));
      assert.equal(b.engine.callCount('provision', tenant.id), 2, 'the hung call and the re-drive');
      assert.equal(b.engine.createCount(tenant.id), 1);
      await b.manager.close();
    });

    test(`[${backend.name}] a pending execution left by a crash right after the insert is re-driven`, async () => {
      const a = fakeManager(crashingAfterInsert(h.ledger), {
        leaseMs: LEASE_MS,
        instanceId: 'crashed',
        tenants: h.tenants,
      });
      const tenant = await h.createTenant(uniqueName(), fakeSpec());
      await assert.rejects(a.manager.start(startRequest(tenant)), /process killed/);
      const [row] = (await h.ledger.list({ tenantId: tenant.id, limit: 5 })).items;
      assert.equal(row?.status, 'pending');
      const b = fakeManager(h.ledger, {
        engine: a.engine,
        leaseMs: LEASE_MS,
        recoveryIntervalMs: 50,
        tenants: h.tenants,
      });
      b.manager.open();
      const view = await waitForStatus(b.manager, row.executionId, ['succeeded']);
      assert.deepEqual(statuses(view), ['pending', 'running', 'succeeded']);
      assert.deepEqual(
        (await h.callbacks(row.executionId)).map((c) => c.status),
        ['running', 'succeeded'],
      );
      await b.manager.close();
    });

    test(`[${backend.name}] an orphan whose request cannot be rebuilt fails retriably, and the workflow's retry completes it`, async () => {
      const a = fakeManager(h.ledger, { latencyMs: 60_000, leaseMs: LEASE_MS, instanceId: 'old' });
      const tenant = await h.createTenant(uniqueName(), fakeSpec());
      const request = startRequest({ ...tenant, spec: fakeSpec({ image: 'app:in-flight' }) });
      const started = await a.manager.start(request);
      await a.manager.close();
      const b = fakeManager(h.ledger, {
        engine: a.engine,
        leaseMs: LEASE_MS,
        recoveryIntervalMs: 50,
        tenants: h.tenants,
      });
      b.manager.open();
      const failed = await waitForStatus(b.manager, started.executionId, ['failed']);
      assert.equal(failed.error?.code, 'PROVIDER_TIMEOUT');
      assert.equal(failed.error?.classification, 'retriable');
      assert.equal(failed.history.at(-1)?.details.reason, 'owner lost');
      const retry = await b.manager.start(request);
      assert.equal(retry.attempt, 2);
      const view = await waitForStatus(b.manager, started.executionId, ['succeeded']);
      assert.deepEqual(statuses(view), ['pending', 'running', 'failed', 'running', 'succeeded']);
      await b.manager.close();
    });

    test(`[${backend.name}] start on an orphaned execution takes it over with the caller's request`, async () => {
      const a = fakeManager(killedAtClose(h.ledger), {
        latencyMs: 60_000,
        leaseMs: LEASE_MS,
        instanceId: 'old',
      });
      const tenant = await h.createTenant(uniqueName(), fakeSpec());
      const started = await a.manager.start(startRequest(tenant));
      await a.manager.close();
      const b = fakeManager(h.ledger, { engine: a.engine, leaseMs: LEASE_MS, instanceId: 'new' });
      assert.equal(
        (await b.manager.start(startRequest(tenant))).status,
        'running',
        'lease still live: left alone',
      );
      await sleep(LEASE_MS + 50);
      await b.manager.start(startRequest(tenant));
      const view = await waitForStatus(b.manager, started.executionId, ['succeeded']);
      assert.deepEqual(statuses(view), ['pending', 'running', 'succeeded']);
      assert.equal(view.attempt, 1);
      await b.manager.close();
    });

    test(`[${backend.name}] start takes over only the orphan it met; other orphans are left to the recovery loop`, async () => {
      const a = fakeManager(killedAtClose(h.ledger), {
        latencyMs: 60_000,
        leaseMs: LEASE_MS,
        instanceId: 'old-two',
      });
      const met = await h.createTenant(uniqueName(), fakeSpec());
      const other = await h.createTenant(uniqueName(), fakeSpec());
      const metExecution = await a.manager.start(startRequest(met));
      const otherExecution = await a.manager.start(startRequest(other));
      await a.manager.close();
      await sleep(LEASE_MS + 50);
      // No tenant lookup: a recovery pass could not rebuild `other`'s plan and would fail it.
      const b = fakeManager(h.ledger, { engine: a.engine, leaseMs: LEASE_MS, instanceId: 'new-two' });
      await b.manager.start(startRequest(met));
      const view = await waitForStatus(b.manager, metExecution.executionId, ['succeeded']);
      assert.deepEqual(statuses(view), ['pending', 'running', 'succeeded']);
      const untouched = await b.manager.get(otherExecution.executionId);
      assert.equal(untouched?.status, 'running');
      assert.equal(untouched?.leaseOwner, 'old-two', 'the other orphan was not claimed');
      await b.manager.close();
      const loop = fakeManager(h.ledger, {
        engine: a.engine,
        leaseMs: LEASE_MS,
        instanceId: 'loop-two',
        tenants: h.tenants,
      });
      assert.equal(await loop.manager.recoverOrphans(), 1, 'the recovery loop re-drives the other one');
      await waitForStatus(loop.manager, otherExecution.executionId, ['succeeded']);
      await loop.manager.close();
    });

    test(`[${backend.name}] a clean stop releases the leases of unfinished executions: another instance takes over at once`, async () => {
      const lease = 60_000;
      const a = fakeManager(h.ledger, { latencyMs: 60_000, leaseMs: lease, instanceId: 'stopping' });
      const tenant = await h.createTenant(uniqueName(), fakeSpec());
      const started = await a.manager.start(startRequest(tenant));
      await sleep(20);
      await a.manager.close(50);
      const row = await a.manager.get(started.executionId);
      assert.deepEqual([row?.status, row?.leaseOwner], ['running', null], 'released, not settled');
      const b = fakeManager(await h.secondLedger(), {
        engine: a.engine,
        leaseMs: lease,
        instanceId: 'successor',
        tenants: h.tenants,
      });
      assert.equal(
        await b.manager.recoverOrphans(),
        1,
        `taken over long before the ${lease} ms lease ran out`,
      );
      const view = await waitForStatus(b.manager, started.executionId, ['succeeded']);
      assert.deepEqual(statuses(view), ['pending', 'running', 'succeeded']);
      assert.equal(b.engine.createCount(tenant.id), 1);
      await b.manager.close();
    });

    test(`[${backend.name}] close gives provider calls in flight its grace to settle`, async () => {
      const a = fakeManager(h.ledger, { latencyMs: 100, leaseMs: LEASE_MS, instanceId: 'graceful' });
      const tenant = await h.createTenant(uniqueName(), fakeSpec());
      const started = await a.manager.start(startRequest(tenant));
      const closing = Date.now();
      await a.manager.close(5_000);
      assert.ok(
        Date.now() - closing < 2_000,
        'close returns once the call settled, not at the end of the grace',
      );
      const view = await a.manager.get(started.executionId);
      assert.deepEqual(view && statuses(view), ['pending', 'running', 'succeeded']);
      assert.deepEqual(
        (await h.callbacks(started.executionId)).map((c) => c.status),
        ['running', 'succeeded'],
      );
    });

    test(`[${backend.name}] a live owner renews its lease, so nobody else re-drives its execution`, async () => {
      const a = fakeManager(h.ledger, { latencyMs: 4 * LEASE_MS, leaseMs: LEASE_MS, instanceId: 'live' });
      const b = fakeManager(h.ledger, {
        engine: a.engine,
        leaseMs: LEASE_MS,
        recoveryIntervalMs: 50,
        instanceId: 'watcher',
        tenants: h.tenants,
      });
      b.manager.open();
      const tenant = await h.createTenant(uniqueName(), fakeSpec());
      const started = await a.manager.start(startRequest(tenant));
      const view = await waitForStatus(a.manager, started.executionId, ['succeeded']);
      assert.deepEqual(statuses(view), ['pending', 'running', 'succeeded']);
      assert.equal(a.engine.callCount('provision', tenant.id), 1);
      await Promise.all([a.manager.close(), b.manager.close()]);
    });
  });
}
