/**
 * SQLite's folded writes (folded-writes-sqlite.ts): one insert into a view whose trigger writes
 * every row of the change, or none of them. Checked on a real database file, read back through a
 * connection of its own: the rows a fold wrote, and that a guard that fails — a moved version, a
 * taken execution id, a missing tenant, a run no longer held — leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { NotFoundError, PreconditionFailedError } from '../../domain/errors.js';
import { finishedStep, leasedTenantRun, newExecution, specOf, unique } from '../conformance/harness.js';
import { heldJournalDouble } from '../conformance/held-journal.js';
import { sqliteBackend, type TestDatabase } from '../testing/test-databases.js';

let db: TestDatabase | undefined;
let reader: Database.Database | undefined;

before(async () => {
  db = await sqliteBackend.create();
  reader = new Database(db.url.slice('sqlite:'.length), { readonly: true });
});

after(async () => {
  reader?.close();
  await db?.cleanup();
});

const count = (table: string, where: string, ...args: unknown[]): number =>
  (reader!.prepare(`select count(*) as n from ${table} where ${where}`).get(...args) as { n: number }).n;

test('a creation writes the tenant, its labels, its first revision and its event together', async () => {
  const labels = { team: 'payments', tier: 'gold' };
  const tenant = await db!.store.tenants.create({
    name: unique('fold'),
    spec: specOf({ labels }),
    actor: 'alice',
  });
  assert.deepEqual(
    reader!.prepare('select key, value from tenant_labels where tenant_id = ? order by key').all(tenant.id),
    [
      { key: 'team', value: 'payments' },
      { key: 'tier', value: 'gold' },
    ],
  );
  assert.deepEqual(
    reader!.prepare('select generation, actor from tenant_revisions where tenant_id = ?').all(tenant.id),
    [{ generation: 1, actor: 'alice' }],
  );
  const events = await db!.store.events.listByTenant(tenant.id, { limit: 10 });
  assert.deepEqual(
    events.map((e) => [e.type, e.actor, e.at]),
    [['Created', 'alice', tenant.createdAt]],
  );
});

test('a status change at a moved version writes nothing and fails as stale', async () => {
  const store = db!.store;
  const tenant = await store.tenants.create({ name: unique('fold'), spec: specOf(), actor: 'test' });
  const moved = await store.tenants.changeFrom(tenant, {
    actor: 'test',
    phase: { to: 'provisioning', reason: 'ProvisionStarted' },
  });
  const eventsBefore = count('tenant_events', 'tenant_id = ?', tenant.id);
  await assert.rejects(
    store.tenants.changeFrom(tenant, { actor: 'test', phase: { to: 'failed', reason: 'ProvisionFailed' } }),
    PreconditionFailedError,
  );
  assert.equal(count('tenant_events', 'tenant_id = ?', tenant.id), eventsBefore);
  const stored = await store.tenants.get(tenant.id);
  assert.equal(stored?.version, moved.tenant.version);
  assert.equal(stored?.status.phase, 'provisioning');
});

test('events of one change keep their order in the stream', async () => {
  const store = db!.store;
  const tenant = await store.tenants.create({ name: unique('fold'), spec: specOf(), actor: 'test' });
  const execution = newExecution(tenant.id);
  await store.executions.insertIfAbsent(execution, {
    from: ['pending'],
    to: 'running',
    at: new Date().toISOString(),
  });
  const events = (await store.events.listByTenant(tenant.id, { limit: 10 })).filter(
    (e) => e.type === 'ExecutionStatusChanged',
  );
  assert.deepEqual(
    events.map((e) => e.data?.['status']),
    ['pending', 'running'],
  );
  assert.ok(events[0]!.seq < events[1]!.seq);
});

test('an execution inserted running twice is written once: its history, callback and events', async () => {
  const store = db!.store;
  const tenant = await store.tenants.create({ name: unique('fold'), spec: specOf(), actor: 'test' });
  const execution = newExecution(tenant.id);
  const at = new Date().toISOString();
  const running = {
    from: ['pending' as const],
    to: 'running' as const,
    at,
    callback: {
      executionId: execution.executionId,
      tenantId: tenant.id,
      workflowRunId: execution.workflowRunId,
      operation: execution.operation,
      status: 'running' as const,
      resources: {},
      error: null,
      attempt: 1,
      at,
    },
  };
  const first = await store.executions.insertIfAbsent(execution, running);
  assert.equal(first.created, true);
  assert.equal(first.execution.status, 'running');
  assert.deepEqual(first.execution, await store.executions.get(execution.executionId));
  const again = await store.executions.insertIfAbsent(execution, running);
  assert.equal(again.created, false);
  assert.deepEqual(
    (await store.executions.history(execution.executionId)).map((h) => [h.seq, h.status, h.at]),
    [
      [1, 'pending', execution.createdAt],
      [2, 'running', at],
    ],
  );
  assert.equal(count('callbacks', 'execution_id = ?', execution.executionId), 1);
  assert.equal(count('tenant_events', 'execution_id = ?', execution.executionId), 2);
});

test('an execution of a missing tenant writes nothing at all', async () => {
  const execution = newExecution('tenant-that-does-not-exist');
  await assert.rejects(db!.store.executions.insertIfAbsent(execution), NotFoundError);
  assert.equal(count('compute_executions', 'execution_id = ?', execution.executionId), 0);
  assert.equal(count('compute_execution_history', 'execution_id = ?', execution.executionId), 0);
  assert.equal(count('tenant_events', 'execution_id = ?', execution.executionId), 0);
});

test('a taken name fails the creation with a conflict and writes nothing', async () => {
  const store = db!.store;
  const name = unique('fold');
  await store.tenants.create({ name, spec: specOf(), actor: 'test' });
  const before = count('tenant_events', '1 = 1');
  await assert.rejects(store.tenants.create({ name, spec: specOf(), actor: 'test' }), /already exists/);
  assert.equal(count('tenant_events', '1 = 1'), before);
  assert.equal(count('tenants', 'name = ?', name), 1);
});

test('held entries the guard refuses are undone with their write alone, in a batch with writes that carry theirs', async () => {
  const store = db!.store;
  const runs = await Promise.all([leasedTenantRun(store), leasedTenantRun(store), leasedTenantRun(store)]);
  const tenants = await Promise.all(runs.map(({ tenantId }) => store.tenants.get(tenantId)));
  // The first run is no longer held by `you`; the others are held by `me`.
  const journals = runs.map(({ run }, i) =>
    heldJournalDouble(run.runId, i === 0 ? 'you' : 'me', [
      finishedStep(run.runId, 1),
      finishedStep(run.runId, 2),
    ]),
  );
  const change = { actor: 'test', phase: { to: 'provisioning', reason: 'ProvisionStarted' } } as const;
  const execution = newExecution(runs[2].tenantId, { workflowRunId: runs[2].run.runId });
  await Promise.all([
    store.tenants.changeFrom(tenants[0]!, change, undefined, journals[0]!.journal),
    store.tenants.changeFrom(tenants[1]!, change, undefined, journals[1]!.journal),
    store.executions.insertIfAbsent(execution, undefined, journals[2]!.journal),
  ]);
  assert.deepEqual(
    journals.map((j) => j.calls),
    [['flush'], ['carried'], ['carried']],
  );
  const steps = runs.map(({ run }) => count('workflow_steps', 'run_id = ?', run.runId));
  assert.deepEqual(steps, [0, 2, 2]);
  // The refused write was made again without the entries; the others with theirs.
  for (const { tenantId } of runs.slice(0, 2))
    assert.equal((await store.tenants.get(tenantId))?.status.phase, 'provisioning');
  assert.equal(count('compute_executions', 'execution_id = ?', execution.executionId), 1);
});

test('held entries of which one is stored already write nothing, the write included', async () => {
  const store = db!.store;
  const { tenantId, run } = await leasedTenantRun(store);
  await store.steps.record(finishedStep(run.runId, 2, 'another owner'));
  const execution = newExecution(tenantId, { workflowRunId: run.runId });
  const { journal, calls } = heldJournalDouble(run.runId, 'me', [
    finishedStep(run.runId, 1),
    finishedStep(run.runId, 2),
  ]);
  await store.executions.insertIfAbsent(execution, undefined, journal);
  // Flushed (which, in the engine, stops the execution on finding another owner's entry), then inserted without.
  assert.deepEqual(calls, ['flush']);
  assert.deepEqual(
    reader!
      .prepare('select seq, started_at from workflow_steps where run_id = ? order by seq')
      .all(run.runId),
    [{ seq: 2, started_at: 'another owner' }],
  );
  assert.equal(count('compute_executions', 'execution_id = ?', execution.executionId), 1);
});
