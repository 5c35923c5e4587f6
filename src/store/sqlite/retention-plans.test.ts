/**
 * Retention stays cheap at fleet scale on SQLite. Over 10 000 settled tenants (seeded by SQL):
 * a pass with nothing past the window runs one select per kind, each an empty range of its
 * retention index, and nothing else; a full pass with everything past the window reads the rows
 * that define current state once, keeps them, and the next (incremental) pass reads none of them;
 * every delete finds its rows by key and checks each condition through an index.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { silentLogger } from '../../domain/logger.js';
import { RetentionSweeper, type RetentionPass } from '../retention-sweeper.js';
import { retentionCounts, retentionOptions } from '../testing/retention-settings.js';
import { settledFleetSql } from '../testing/settled-fleet.js';
import { sqliteBackend, type TestDatabase } from '../testing/test-databases.js';
import { executedDuring, planOf } from './testing/query-plan.js';

const TENANTS = 10_000;
const DAY = 86_400_000;
const OPTIONS = retentionOptions({ batchSize: 1000 });
const RETENTION_INDEX: Readonly<Record<string, RegExp>> = {
  callbacks: /SEARCH callbacks USING COVERING INDEX callbacks_delivered_id \(delivered_at<\?\)/,
  compute_executions:
    /SEARCH compute_executions USING COVERING INDEX compute_executions_finished_execution \(finished_at<\?\)/,
  workflow_runs: /SEARCH workflow_runs USING COVERING INDEX workflow_runs_finished_run \(finished_at<\?\)/,
  tenant_events: /SEARCH tenant_events USING COVERING INDEX tenant_events_at_seq \(at<\?\)/,
  webhook_deliveries:
    /SEARCH webhook_deliveries USING COVERING INDEX webhook_deliveries_finished \(finished_at<\?\)/,
  rollouts: /SEARCH rollouts USING COVERING INDEX rollouts_finished_id \(finished_at<\?\)/,
};

let db: TestDatabase;
let file: string;
let settledAt: number;
before(async () => {
  db = await sqliteBackend.create();
  file = db.url.slice('sqlite:'.length);
  settledAt = Date.now() - DAY;
  const raw = new BetterSqlite3(file);
  try {
    raw.transaction(() => {
      for (const statement of settledFleetSql(TENANTS, new Date(settledAt).toISOString()))
        raw.exec(statement);
    })();
  } finally {
    raw.close();
  }
});
after(() => db.cleanup());

function sweeperAt(now: () => number): RetentionSweeper {
  return new RetentionSweeper({ retention: db.store.retention, logger: silentLogger, now }, OPTIONS);
}

const TRANSACTION_CONTROL = /^(begin|commit|rollback|savepoint|release)\b/i;
const queries = (statements: readonly string[]) => statements.filter((sql) => !TRANSACTION_CONTROL.test(sql));

test('nothing past the window: one select per kind, each an empty range of its retention index', async () => {
  let pass: RetentionPass | undefined;
  const statements = queries(await executedDuring(async () => (pass = await sweeperAt(Date.now).pass())));
  assert.deepEqual(pass?.examined, retentionCounts());
  assert.deepEqual(pass?.deleted, retentionCounts());
  assert.equal(statements.length, 6, statements.join('\n'));
  for (const [table, index] of Object.entries(RETENTION_INDEX)) {
    const select = statements.find((sql) => sql.includes(`from "${table}"`));
    assert.ok(select, `no select of ${table}`);
    assert.match(planOf(file, select), index);
  }
});

test('everything past the window: a full pass reads the rows that define current state once, the next pass none', async () => {
  const clock = { now: settledAt + 31 * DAY };
  const sweeper = sweeperAt(() => clock.now);
  let full: RetentionPass | undefined;
  const statements = queries(await executedDuring(async () => (full = await sweeper.pass())));
  assert.deepEqual(
    full?.examined,
    retentionCounts({ callbacks: 2 * TENANTS, executions: TENANTS, runs: TENANTS, events: 3 * TENANTS }),
  );
  assert.deepEqual(
    full?.deleted,
    retentionCounts({ callbacks: 2 * TENANTS, executions: 0, runs: 0, events: 3 * TENANTS - 1 }),
  );

  const plans = statements.filter((sql) => /^delete /i.test(sql)).map((sql) => planOf(file, sql));
  assert.equal(new Set(plans).size >= 4, true, 'a delete of each kind');
  for (const plan of plans) {
    assert.doesNotMatch(
      plan,
      /\bSCAN (tenants|tenant_events|workflow_runs|compute_executions|callbacks)\b/,
      plan,
    );
  }
  const resumed = statements.find((sql) => sql.includes('("finished_at", "run_id") > (?, ?)'));
  assert.ok(resumed, 'a batch that resumed after a cursor');
  assert.match(
    planOf(file, resumed),
    /SEARCH workflow_runs USING COVERING INDEX workflow_runs_finished_run \(\(finished_at,run_id\)>\(\?,\?\) AND finished_at<\?\)/,
  );

  clock.now += 3_600_000;
  const incremental = await sweeper.pass();
  assert.equal(incremental.full, false);
  assert.deepEqual(incremental.examined, retentionCounts());
});
