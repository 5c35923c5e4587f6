/**
 * The retention service on a real SQLite store: windows per kind, incremental passes that do not
 * re-read what they kept, full passes that catch what stopped defining current state, stopping
 * between batches, and a failing pass that does not stop the timer. What a sweep may delete is the
 * store conformance suite's business (conformance/retention.ts), on both databases.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger, type Logger } from '../domain/logger.js';
import { tenantSubject } from '../domain/tenant-run.js';
import { executionOf, newTenant, runOf } from './conformance/retention-fixtures.js';
import { RetentionSweeper, type RetentionOptions, type RetentionPass } from './retention-sweeper.js';
import type { RetentionRepository } from './store.js';
import { retentionCounts, retentionOptions } from './testing/retention-settings.js';
import { sqliteBackend, type TestDatabase } from './testing/test-databases.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

let db: TestDatabase;
beforeEach(async () => {
  db = await sqliteBackend.create();
});
afterEach(() => db.cleanup());

/** A sweeper whose clock the test moves; `clock.now` starts `daysAhead` days from now. */
function sweeperAt(
  daysAhead: number,
  opts: RetentionOptions = retentionOptions(),
  logger: Logger = silentLogger,
) {
  const clock = { now: Date.now() + daysAhead * DAY };
  const sweeper = new RetentionSweeper({ retention: db.store.retention, logger, now: () => clock.now }, opts);
  return { sweeper, clock };
}

const counts = (pass: RetentionPass) => ({ full: pass.full, examined: pass.examined, deleted: pass.deleted });

test('a pass deletes what each kind kept past its window; a window of 0 days keeps that kind', async () => {
  const store = db.store;
  const t = await newTenant(store);
  const first = await runOf(store, t.id, { state: 'succeeded', finishedAt: new Date().toISOString() });
  await executionOf(store, t.id, { runId: first, status: 'succeeded', finishedAt: new Date().toISOString() });
  await runOf(store, t.id, { retry: 1, state: 'succeeded', finishedAt: new Date().toISOString() });

  const inside = sweeperAt(29);
  assert.deepEqual(counts(await inside.sweeper.pass()), {
    full: true,
    examined: retentionCounts(),
    deleted: retentionCounts(),
  });

  const events = (await store.events.listByTenant(t.id, { limit: 100 })).length;
  const past = sweeperAt(31, retentionOptions({ events: { days: 0 } }));
  assert.deepEqual(counts(await past.sweeper.pass()), {
    full: true,
    // The execution's `running` callback is written delivered and goes; its `succeeded` one was
    // never delivered, and pending callbacks are not swept.
    examined: retentionCounts({ callbacks: 1, executions: 1, runs: 2 }),
    deleted: retentionCounts({ callbacks: 1, executions: 1, runs: 1 }),
  });
  assert.equal(
    (await store.events.listByTenant(t.id, { limit: 100 })).length,
    events,
    'events kept: window 0',
  );
});

test('passes resume where the last one stopped; a full pass re-reads the kept rows and deletes the superseded', async () => {
  const store = db.store;
  const t = await newTenant(store);
  const older = await runOf(store, t.id, { state: 'succeeded', finishedAt: new Date().toISOString() });
  const { sweeper, clock } = sweeperAt(31, retentionOptions({ events: { days: 0 } }));

  const runsOf = (pass: RetentionPass) => [pass.full, pass.examined.runs, pass.deleted.runs];
  assert.deepEqual(runsOf(await sweeper.pass()), [true, 1, 0], 'the newest run is kept');
  clock.now += HOUR;
  assert.deepEqual(runsOf(await sweeper.pass()), [false, 0, 0], 'and not read again');

  await sleep(2);
  await runOf(store, t.id, { retry: 1, state: 'succeeded', finishedAt: new Date().toISOString() });
  clock.now += HOUR;
  assert.deepEqual(runsOf(await sweeper.pass()), [false, 1, 0], 'only the new run is read');
  assert.ok(await store.runs.get(older), 'a superseded run below the resume point waits for a full pass');

  clock.now += DAY;
  assert.deepEqual(runsOf(await sweeper.pass()), [true, 2, 1]);
  assert.equal(await store.runs.get(older), undefined);
});

test('stop() ends a pass after its current batch and waits for it', async () => {
  const store = db.store;
  const t = await newTenant(store);
  for (let i = 0; i < 5; i++) await runOf(store, t.id, { retry: i, state: 'failed' });
  const { sweeper } = sweeperAt(
    0,
    retentionOptions({ batchSize: 1, callbacks: { days: 0 }, executions: { days: 0 } }),
  );
  const pass = sweeper.pass();
  await sweeper.stop();
  const done = await pass;
  assert.deepEqual([done.examined.runs, done.deleted.runs], [1, 1]);
  assert.equal((await store.runs.listBySubject(tenantSubject(t.id), 10)).length, 4);
});

test('a failed pass is logged and the next one still runs on the interval', async () => {
  let calls = 0;
  const failingOnce: RetentionRepository = {
    sweep: (kind, batch) => {
      calls += 1;
      if (calls === 1) return Promise.reject(new Error('database unavailable'));
      return db.store.retention.sweep(kind, batch);
    },
  };
  const warnings: string[] = [];
  const logger: Logger = {
    ...silentLogger,
    warn: (_obj: object | string, msg?: string) => void warnings.push(msg ?? ''),
  };
  const sweeper = new RetentionSweeper(
    { retention: failingOnce, logger },
    retentionOptions({ sweepIntervalMs: 5 }),
  );
  sweeper.start();
  try {
    for (let waited = 0; calls < 5 && waited < 5_000; waited += 5) await sleep(5);
  } finally {
    await sweeper.stop();
  }
  assert.ok(calls >= 5, `passes went on after the failure (${calls} sweep calls)`);
  assert.deepEqual(warnings.slice(0, 1), ['retention pass failed; the next one retries']);
});
