/**
 * PostgreSQL: an execution's move to running or succeeded is one statement that numbers its
 * history row in its own snapshot (folded-writes.ts). When another transaction numbers the same
 * row first, the primary key refuses the statement — nothing of it is written — and the move runs
 * again as the transaction, which numbers the row after the other one: one move, one callback row,
 * one event, and the history stays numbered without a gap.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { newExecution, specOf } from '../conformance/harness.js';
import { postgresBackend, type TestDatabase } from '../testing/test-databases.js';

let db: TestDatabase | undefined;
let other: pg.Client | undefined;

before(async () => {
  db = await postgresBackend.create();
  other = new pg.Client({ connectionString: db.url });
  await other.connect();
});

after(async () => {
  await other?.end();
  await db?.cleanup();
});

/** Until a backend of this database waits for a lock (the move behind the other transaction's row). */
async function untilBlocked(client: pg.Client): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const { rows } = await client.query<{ n: string }>(
      `select count(*) as n from pg_stat_activity
       where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`,
    );
    if (Number(rows[0]!.n) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the move never waited for the other transaction');
}

test('a history row numbered concurrently sends the move to the transaction, which numbers it after', async () => {
  const store = db!.store;
  const tenant = await store.tenants.create({ name: 'folded-race', spec: specOf(), actor: 'test' });
  const { execution } = await store.executions.insertIfAbsent(newExecution(tenant.id));
  const watcher = new pg.Client({ connectionString: db!.url });
  await watcher.connect();
  try {
    // Another writer numbers history row 2 and holds it uncommitted.
    await other!.query('begin');
    await other!.query(
      `insert into compute_execution_history (execution_id, seq, status, attempt, at, details)
       values ($1, 2, 'pending', 1, 'other', '{}')`,
      [execution.executionId],
    );
    const moving = store.executions.transition(execution.executionId, {
      from: ['pending'],
      to: 'running',
      at: 'moved',
      callback: {
        executionId: execution.executionId,
        tenantId: execution.tenantId,
        workflowRunId: execution.workflowRunId,
        operation: execution.operation,
        status: 'running',
        resources: {},
        error: null,
        attempt: 1,
        at: 'moved',
      },
    });
    await untilBlocked(watcher);
    await other!.query('commit');
    const moved = await moving;
    assert.equal(moved?.status, 'running');
  } finally {
    await watcher.end();
  }
  assert.deepEqual(
    (await store.executions.history(execution.executionId)).map((h) => [h.seq, h.status, h.at]),
    [
      [1, 'pending', execution.createdAt],
      [2, 'pending', 'other'],
      [3, 'running', 'moved'],
    ],
  );
  const callbacks = (await store.callbacks.list({ limit: 50 })).items.filter(
    (cb) => cb.executionId === execution.executionId,
  );
  assert.deepEqual(
    callbacks.map((cb) => cb.payload.status),
    ['running'],
  );
  const events = (await store.events.listByTenant(tenant.id, { limit: 20 })).filter(
    (e) => e.type === 'ExecutionStatusChanged',
  );
  assert.deepEqual(
    events.map((e) => e.data?.['status']),
    ['pending', 'running'],
  );
});
