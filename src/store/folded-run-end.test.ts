/**
 * A run's end, its last journal entries and its event are one statement, without BEGIN/COMMIT
 * (PostgreSQL: folded-run-end.ts; SQLite: migration 0019-sqlite-shown-and-run-end), and what it
 * writes when something stands in the way: a journal entry another owner wrote (nothing ended), a
 * guard that fails (nothing written at all), an enabled webhook for every event (no difference: a
 * run's state change is no webhook event, and its event was never queued for one).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { asTenantRun } from '../domain/tenant-run.js';
import type { WorkflowRun, WorkflowStep } from '../domain/workflow-run.js';
import { ACTIVE_RUN_STATES } from '../domain/workflow-run.js';
import { runStateEvent } from '../provisioning/tenant-run-events.js';
import { finishedStep as entry, leasedTenantRun } from './conformance/harness.js';
import type { RunEndWrite, Store } from './store.js';
import { countedStore } from './testing/counted-store.js';
import { backends } from './testing/test-databases.js';

/** The end RunRecords writes for an embedded run that succeeded in attempt 2, with its event. */
function endOf(
  run: WorkflowRun,
  tenantId: string,
  leaseOwner: string,
  steps: readonly WorkflowStep[],
): RunEndWrite {
  const ended = { ...run, state: 'succeeded', attempt: 2 } as const;
  return {
    patch: {
      state: 'succeeded',
      output: { ok: 1 },
      finishedAt: '2026-01-01T00:00:02.000Z',
      wakeAt: null,
      leaseOwner: null,
      leaseExpiresAt: null,
      attempt: 2,
    },
    guard: { leaseOwner, expectedStates: ACTIVE_RUN_STATES },
    steps,
    events: { tenantId, drafts: [runStateEvent(asTenantRun(ended)!, 'succeeded')], expected: ended },
  };
}

async function eventTypes(store: Store, tenantId: string): Promise<string[]> {
  return (await store.events.listByTenant(tenantId, { limit: 100 })).map((e) => e.type);
}

for (const backend of backends()) {
  describe(`[${backend.name}] a run's end in one statement`, () => {
    const counted = countedStore(backend);

    /** How many webhook deliveries are queued, read through a connection of its own. */
    async function deliveries(): Promise<number> {
      if (backend.name === 'sqlite') {
        const reader = new Database(counted.url.slice('sqlite:'.length), { readonly: true });
        try {
          return (reader.prepare('select count(*) as n from webhook_deliveries').get() as { n: number }).n;
        } finally {
          reader.close();
        }
      }
      const client = new pg.Client({ connectionString: counted.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: string }>('select count(*) as n from webhook_deliveries');
        return Number(rows[0]!.n);
      } finally {
        await client.end();
      }
    }

    test('the end, two journal entries and the event: one statement, no transaction', async () => {
      const store = counted.store;
      const { tenantId, run } = await leasedTenantRun(store);
      const end = endOf(run, tenantId, 'me', [entry(run.runId, 1), entry(run.runId, 2)]);
      let result: Awaited<ReturnType<Store['runs']['recordEnd']>> | undefined;
      assert.deepEqual(
        await counted.cost(async () => (result = await store.runs.recordEnd(run.runId, end))),
        {
          statements: 1,
          transactions: 0,
        },
      );
      assert.deepEqual(
        [result?.run?.state, result?.journaled, result?.eventsWritten],
        ['succeeded', true, true],
      );
      assert.deepEqual(
        (await store.steps.list(run.runId)).map((s) => [s.seq, s.startedAt, s.result]),
        [
          [1, '2026-01-01T00:00:00.000Z', { seq: 1 }],
          [2, '2026-01-01T00:00:00.000Z', { seq: 2 }],
        ],
      );
      const last = (await store.events.listByTenant(tenantId, { limit: 100 })).at(-1)!;
      const { seq: _seq, tenantId: _tenant, at: _at, ...draft } = last;
      assert.deepEqual(draft, end.events!.drafts[0]);
    });

    test('an enabled webhook for every event changes nothing: one statement, no delivery queued', async () => {
      const store = counted.store;
      await store.webhooks.create({
        url: 'https://hooks.example.com/in',
        description: 'all',
        events: ['*'],
        enabled: true,
        secret: 'whsec_dGVzdA==',
      });
      const { tenantId, run } = await leasedTenantRun(store);
      const queued = await deliveries();
      const end = endOf(run, tenantId, 'me', [entry(run.runId, 1)]);
      assert.deepEqual(await counted.cost(() => store.runs.recordEnd(run.runId, end)), {
        statements: 1,
        transactions: 0,
      });
      assert.deepEqual(await eventTypes(store, tenantId), ['Created', 'RunStateChanged']);
      assert.equal(await deliveries(), queued);
    });

    test('an entry another owner wrote: nothing ended, no event, their entry kept', async () => {
      const store = counted.store;
      const { tenantId, run } = await leasedTenantRun(store);
      await store.steps.record(entry(run.runId, 1, 'another owner'));
      const end = endOf(run, tenantId, 'me', [entry(run.runId, 1), entry(run.runId, 2)]);
      const result = await store.runs.recordEnd(run.runId, end);
      assert.deepEqual(result, { run: undefined, journaled: false, eventsWritten: false });
      assert.equal((await store.runs.get(run.runId))?.state, 'pending');
      assert.deepEqual(await eventTypes(store, tenantId), ['Created']);
      const stored = await store.steps.list(run.runId);
      assert.equal(stored.find((s) => s.seq === 1)?.startedAt, 'another owner');
    });

    test('a guard that fails writes nothing: no entry, no end, no event', async () => {
      const store = counted.store;
      const { tenantId, run } = await leasedTenantRun(store);
      const end = endOf(run, tenantId, 'you', [entry(run.runId, 1)]);
      const result = await store.runs.recordEnd(run.runId, end);
      assert.deepEqual(result, { run: undefined, journaled: true, eventsWritten: false });
      assert.deepEqual(await store.steps.list(run.runId), []);
      assert.equal((await store.runs.get(run.runId))?.leaseOwner, 'me');
      assert.deepEqual(await eventTypes(store, tenantId), ['Created']);
    });

    test('a row that is not the one the events were built from: ended, the events left out', async () => {
      const store = counted.store;
      const { tenantId, run } = await leasedTenantRun(store);
      const end = endOf(run, tenantId, 'me', []);
      const stale = { ...end, events: { ...end.events!, expected: { ...end.events!.expected, attempt: 7 } } };
      const result = await store.runs.recordEnd(run.runId, stale);
      assert.deepEqual(
        [result.run?.state, result.journaled, result.eventsWritten],
        ['succeeded', true, false],
      );
      assert.deepEqual(await eventTypes(store, tenantId), ['Created']);
    });
  });
}
