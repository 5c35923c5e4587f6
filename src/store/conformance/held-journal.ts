/**
 * Conformance: a workflow step's held journal entries given to its first write
 * (src/domain/held-journal.ts). Both databases carry them in the write's statement (PostgreSQL:
 * folded-journal.ts; SQLite: migrations 0018-sqlite-held-journal and 0019-sqlite-shown-and-run-end). Once the write returns they are
 * stored, and a write whose entries met another owner's writes nothing.
 */
import assert from 'node:assert/strict';
import type { HeldJournal } from '../../domain/held-journal.js';
import { statusWriteOf } from '../../domain/tenant-change.js';
import type { WorkflowStep } from '../../domain/workflow-run.js';
import type { Store } from '../store.js';
import { finishedStep, leasedTenantRun, newExecution, type Conformance } from './harness.js';

/**
 * A held journal as the embedded engine keeps one; `calls` records how its entries were written.
 * `flush` writes the entries left to it; the default writes nothing, so that only the entries a
 * write carried end up stored.
 */
export function heldJournalDouble(
  runId: string,
  leaseOwner: string,
  steps: readonly WorkflowStep[],
  flush: (entries: readonly WorkflowStep[]) => Promise<void> = () => Promise.resolve(),
): { journal: HeldJournal; calls: string[] } {
  let entries = [...steps];
  const calls: string[] = [];
  const journal: HeldJournal = {
    runId,
    leaseOwner,
    get entries() {
      return entries;
    },
    carried() {
      calls.push('carried');
      entries = [];
    },
    async flush() {
      calls.push('flush');
      await flush(entries);
      entries = [];
    },
  };
  return { journal, calls };
}

/** The double whose flush stores the entries, refusing when another owner journaled first. */
function held(store: Store, runId: string, leaseOwner: string, steps: readonly WorkflowStep[]) {
  return heldJournalDouble(runId, leaseOwner, steps, async (entries) => {
    const stored = await store.steps.recordAll(entries);
    if (stored.some((s, i) => s.startedAt !== entries[i]!.startedAt))
      throw new Error('another owner journaled first');
  });
}

const PROVISIONING = { phase: { to: 'provisioning', reason: 'ProvisionStarted' } } as const;

export function heldJournals(c: Conformance): void {
  // A guard of the write that fails (a stale version, an execution id taken) undoes SQLite's whole
  // statement, entries too: they are flushed on their own then.
  const carriedBesideFailedGuard = (c.backend.name as string) === 'postgres' ? ['carried'] : ['flush'];

  c.test('a status change with held entries stores them and the change', async () => {
    const store = c.store();
    const { tenantId, run } = await leasedTenantRun(store);
    const tenant = (await store.tenants.get(tenantId))!;
    const { journal, calls } = held(store, run.runId, 'me', [
      finishedStep(run.runId, 1),
      finishedStep(run.runId, 2),
    ]);
    const applied = await store.tenants.changeFrom(
      tenant,
      { actor: 'test', ...PROVISIONING },
      undefined,
      journal,
    );
    assert.equal(applied.tenant.status.phase, 'provisioning');
    assert.deepEqual(calls, ['carried']);
    assert.deepEqual(journal.entries, []);
    assert.deepEqual(
      (await store.steps.list(run.runId)).map((s) => s.seq),
      [1, 2],
    );
    assert.equal((await store.tenants.get(tenantId))?.status.phase, 'provisioning');
  });

  c.test("held entries that meet another owner's entry write nothing", async () => {
    const store = c.store();
    const { tenantId, run } = await leasedTenantRun(store);
    const tenant = (await store.tenants.get(tenantId))!;
    await store.steps.record(finishedStep(run.runId, 1, 'another owner'));
    const { journal } = held(store, run.runId, 'me', [
      finishedStep(run.runId, 1),
      finishedStep(run.runId, 2),
    ]);
    await assert.rejects(
      store.tenants.changeFrom(tenant, { actor: 'test', ...PROVISIONING }, undefined, journal),
      /another owner journaled first/,
    );
    assert.equal((await store.tenants.get(tenantId))?.status.phase, 'requested');
    assert.deepEqual(
      (await store.steps.list(run.runId)).map((s) => s.startedAt),
      ['another owner', finishedStep(run.runId, 2).startedAt],
    );
    const events = await store.events.listByTenant(tenantId, { limit: 10 });
    assert.deepEqual(
      events.map((e) => e.type),
      ['Created'],
    );
  });

  c.test('held entries of a run the owner no longer holds are flushed, then the change is made', async () => {
    const store = c.store();
    const { tenantId, run } = await leasedTenantRun(store);
    const tenant = (await store.tenants.get(tenantId))!;
    const { journal, calls } = held(store, run.runId, 'you', [finishedStep(run.runId, 1)]);
    await store.tenants.changeFrom(tenant, { actor: 'test', ...PROVISIONING }, undefined, journal);
    assert.deepEqual(calls, ['flush']);
    assert.deepEqual(
      (await store.steps.list(run.runId)).map((s) => s.seq),
      [1],
    );
    assert.equal((await store.tenants.get(tenantId))?.status.phase, 'provisioning');
  });

  c.test('a stale status change with held entries stores them and changes nothing', async () => {
    const store = c.store();
    const { tenantId, run } = await leasedTenantRun(store);
    const tenant = (await store.tenants.get(tenantId))!;
    const { journal, calls } = held(store, run.runId, 'me', [finishedStep(run.runId, 1)]);
    await assert.rejects(
      store.tenants.changeFrom(
        { ...tenant, version: tenant.version - 1 },
        { actor: 'test', ...PROVISIONING },
        undefined,
        journal,
      ),
      (error: unknown) => (error as { code?: unknown }).code === 'PRECONDITION_FAILED',
    );
    assert.deepEqual(calls, carriedBesideFailedGuard);
    assert.deepEqual(journal.entries, []);
    assert.deepEqual(
      (await store.steps.list(run.runId)).map((s) => s.seq),
      [1],
    );
    assert.equal((await store.tenants.get(tenantId))?.status.phase, 'requested');
  });

  c.test(
    'held entries of a run the owner no longer holds are flushed, then the execution is inserted',
    async () => {
      const store = c.store();
      const { tenantId, run } = await leasedTenantRun(store);
      const execution = newExecution(tenantId, { workflowRunId: run.runId });
      const { journal, calls } = held(store, run.runId, 'you', [finishedStep(run.runId, 1)]);
      const inserted = await store.executions.insertIfAbsent(execution, undefined, journal);
      assert.equal(inserted.created, true);
      assert.deepEqual(calls, ['flush']);
      assert.deepEqual(
        (await store.steps.list(run.runId)).map((s) => s.seq),
        [1],
      );
      assert.equal((await store.executions.history(execution.executionId)).length, 1);
    },
  );

  c.test('a new execution with held entries stores them, whether or not it is inserted', async () => {
    const store = c.store();
    const { tenantId, run } = await leasedTenantRun(store);
    const execution = newExecution(tenantId, { workflowRunId: run.runId });
    const first = held(store, run.runId, 'me', [finishedStep(run.runId, 1)]);
    const inserted = await store.executions.insertIfAbsent(execution, undefined, first.journal);
    assert.equal(inserted.created, true);
    assert.deepEqual(first.calls, ['carried']);
    assert.equal((await store.executions.history(execution.executionId)).length, 1);
    // Again, as a re-run step would: the execution exists, the next entry is stored all the same.
    const second = held(store, run.runId, 'me', [finishedStep(run.runId, 2)]);
    const again = await store.executions.insertIfAbsent(execution, undefined, second.journal);
    assert.equal(again.created, false);
    assert.deepEqual(second.calls, carriedBesideFailedGuard);
    assert.deepEqual(
      (await store.steps.list(run.runId)).map((s) => s.seq),
      [1, 2],
    );
    assert.equal((await store.executions.history(execution.executionId)).length, 1);
  });

  c.test(
    'a new execution with held entries and a stale show stores them and the execution, not the show',
    async () => {
      const store = c.store();
      const { tenantId, run } = await leasedTenantRun(store);
      const read = (await store.tenants.get(tenantId))!;
      const moved = (
        await store.tenants.changeFrom(read, { actor: 'test', status: { message: 'meanwhile' } })
      ).tenant;
      const execution = newExecution(tenantId, { workflowRunId: run.runId });
      const compute = {
        executionId: execution.executionId,
        operation: execution.operation,
        status: 'running' as const,
      };
      const show = statusWriteOf(read, { actor: 'test', status: { compute } }, new Date().toISOString())!;
      const { journal, calls } = held(store, run.runId, 'me', [finishedStep(run.runId, 1)]);
      const running = { from: ['pending' as const], to: 'running' as const, at: new Date().toISOString() };
      const inserted = await store.executions.insertIfAbsent(execution, running, journal, show);
      assert.deepEqual([inserted.created, inserted.shown], [true, 'stale']);
      assert.deepEqual(calls, ['carried']);
      assert.deepEqual(
        (await store.steps.list(run.runId)).map((s) => s.seq),
        [1],
      );
      const after = await store.tenants.get(tenantId);
      assert.deepEqual([after?.version, after?.status], [moved.version, moved.status]);
    },
  );

  c.test("a new execution whose held entries meet another owner's is not inserted", async () => {
    const store = c.store();
    const { tenantId, run } = await leasedTenantRun(store);
    await store.steps.record(finishedStep(run.runId, 1, 'another owner'));
    const execution = newExecution(tenantId, { workflowRunId: run.runId });
    const { journal } = held(store, run.runId, 'me', [finishedStep(run.runId, 1)]);
    await assert.rejects(
      store.executions.insertIfAbsent(execution, undefined, journal),
      /another owner journaled first/,
    );
    assert.equal(await store.executions.get(execution.executionId), undefined);
  });
}
