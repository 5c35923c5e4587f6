/**
 * Retention stays cheap at fleet scale on PostgreSQL. Over 10 000 settled tenants (seeded by SQL,
 * then ANALYZEd as autovacuum would): a pass with nothing past the window runs one select per kind,
 * each an index scan of its retention index that returns no row; a full pass with everything past
 * the window keeps the rows that define current state, and the next (incremental) pass reads none
 * of them; no statement of a pass scans a whole table. Plans are taken, with their parameters, from
 * the statements the store really sent.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { silentLogger } from '../../domain/logger.js';
import { RetentionSweeper, type RetentionPass } from '../retention-sweeper.js';
import { retentionCounts, retentionOptions } from '../testing/retention-settings.js';
import { settledFleetSql } from '../testing/settled-fleet.js';
import { postgresBackend, type TestDatabase } from '../testing/test-databases.js';

const TENANTS = 10_000;
const ROLLOUTS = 2 * TENANTS;
const DAY = 86_400_000;
const OPTIONS = retentionOptions({
  // A batch's share of a table as at 100 000 tenants (1000 of 200 000 callbacks), where the planner
  // weighs key lookups against a scan as it will in production: 1000 of these 20 000 would not.
  batchSize: 100,
});
const RETENTION_INDEXES = [
  'callbacks_delivered_id',
  'compute_executions_finished_execution',
  'workflow_runs_finished_run',
  'tenant_events_at_seq',
  'webhook_deliveries_finished',
  'rollouts_finished_id',
];

interface Statement {
  readonly text: string;
  readonly values: readonly unknown[];
}

interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Relation Name'?: string;
  readonly 'Index Name'?: string;
  readonly 'Actual Rows'?: number;
  readonly Plans?: readonly PlanNode[];
}

let db: TestDatabase;
let client: pg.Client;
let settledAt: number;
before(async () => {
  db = await postgresBackend.create();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  settledAt = Date.now() - DAY;
  await client.query('begin');
  for (const statement of settledFleetSql(TENANTS, new Date(settledAt).toISOString()))
    await client.query(statement);
  const when = new Date(settledAt).toISOString();
  await client.query(
    `insert into webhooks (id, url, description, events, event_filter, enabled, secret, created_at, updated_at)
     values ('wh-fleet', 'https://hooks.example.com/', '', '["*"]', '|*|', 1, 'whsec_eA==', $1, $1)`,
    [when],
  );
  await client.query(
    `insert into webhook_deliveries (webhook_id, message_id, event_type, payload, status, attempts,
       next_attempt_at, window_start, created_at, delivered_at, finished_at)
     select 'wh-fleet', 'msg_' || lpad(i::text, 8, '0'), 'tenant.ready', '{}', 'delivered', 1, 0, 0, $1, $1, $1
     from generate_series(1, ${TENANTS}) as i`,
    [when],
  );
  // Rollouts that ended a day ago, one member each with its previous spec, as wide as a real one (the
  // sweep deletes members by rollout id; a batch is 100 of 20 000 rollouts).
  await client.query(
    `insert into rollouts (id, description, selector, change, strategy, failure_policy, phase, control,
       wave_times, total, created_by, created_by_role, version, created_at, updated_at, finished_at)
     select 'ro-' || lpad(i::text, 8, '0'), '', '{}', '{}', '{}', '{}', 'succeeded', '{}', '[]', 1, 'test',
       'operator', 2, $1, $1, $1
     from generate_series(1, ${ROLLOUTS}) as i`,
    [when],
  );
  await client.query(
    `insert into rollout_members (rollout_id, ordinal, tenant_id, tenant_name, wave, state, snapshot_generation,
       from_generation, to_generation, previous_spec, finished_at)
     select 'ro-' || lpad(i::text, 8, '0'), 0, 't-' || i, 'tenant-' || i, 0, 'succeeded', 1, 1, 2,
       repeat('s', 600), $1
     from generate_series(1, ${ROLLOUTS}) as i`,
    [when],
  );
  await client.query('commit');
  await client.query('analyze');
});
after(async () => {
  await client.end();
  await db.cleanup();
});

/** Every statement the store's pool sends while `work` runs (transaction control left out). */
async function sentDuring(work: () => Promise<unknown>): Promise<Statement[]> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const query = proto.query;
  const seen: Statement[] = [];
  proto.query = function (this: pg.Client, ...args: unknown[]) {
    // A prepared query's text comes as a named statement: `{ name, text, values }`.
    const [config, plain] = args;
    const named = typeof config === 'object' && config !== null ? (config as Partial<Statement>) : undefined;
    const text = named ? named.text : config;
    const values = named ? named.values : plain;
    if (this !== client && typeof text === 'string' && !/^(begin|commit|rollback)/i.test(text)) {
      seen.push({ text, values: Array.isArray(values) ? values : [] });
    }
    return query.apply(this, args);
  };
  try {
    await work();
  } finally {
    proto.query = query;
  }
  return seen;
}

async function planOf(statement: Statement, analyze: boolean): Promise<PlanNode> {
  const options = analyze ? 'analyze, buffers, format json' : 'format json';
  const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
    `explain (${options}) ${statement.text}`,
    [...statement.values],
  );
  return rows[0]!['QUERY PLAN'][0].Plan;
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

const seqScans = (plan: PlanNode) => nodes(plan).filter((node) => node['Node Type'] === 'Seq Scan');

/** `Node Type on relation (index)`, node by node. */
const describe = (plan: PlanNode): string =>
  nodes(plan)
    .map(
      (n) =>
        `${n['Node Type']}${n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}${n['Index Name'] ? ` (${n['Index Name']})` : ''}`,
    )
    .join(' | ');

function sweeperAt(now: () => number): RetentionSweeper {
  return new RetentionSweeper({ retention: db.store.retention, logger: silentLogger, now }, OPTIONS);
}

test('nothing past the window: one select per kind, an index scan of its retention index returning no row', async () => {
  let pass: RetentionPass | undefined;
  const statements = (await sentDuring(async () => (pass = await sweeperAt(Date.now).pass()))).filter(
    (s) => !s.text.includes('pg_advisory_xact_lock'),
  );
  assert.deepEqual(pass?.examined, retentionCounts());
  assert.equal(statements.length, 6, statements.map((s) => s.text).join('\n'));
  const indexes: string[] = [];
  for (const statement of statements) {
    const plan = await planOf(statement, true);
    assert.deepEqual(seqScans(plan).map(describe), [], `${statement.text.slice(0, 200)}: ${describe(plan)}`);
    assert.equal(plan['Actual Rows'], 0);
    indexes.push(...nodes(plan).flatMap((node) => node['Index Name'] ?? []));
  }
  assert.deepEqual(indexes.sort(), [...RETENTION_INDEXES].sort());
});

test('everything past the window: the full pass keeps what defines current state, scans no table; the next pass reads nothing', async () => {
  const clock = { now: settledAt + 31 * DAY };
  const sweeper = sweeperAt(() => clock.now);
  let full: RetentionPass | undefined;
  const statements = await sentDuring(async () => (full = await sweeper.pass()));
  assert.deepEqual(
    full?.examined,
    retentionCounts({
      webhookDeliveries: TENANTS,
      rollouts: ROLLOUTS,
      callbacks: 2 * TENANTS,
      executions: TENANTS,
      runs: TENANTS,
      events: 3 * TENANTS,
    }),
  );
  assert.deepEqual(
    full?.deleted,
    retentionCounts({
      webhookDeliveries: TENANTS,
      rollouts: ROLLOUTS,
      callbacks: 2 * TENANTS,
      executions: 0,
      runs: 0,
      events: 3 * TENANTS - 1,
    }),
  );

  const distinct = new Map(statements.map((s) => [s.text, s]));
  for (const statement of distinct.values()) {
    if (statement.text.includes('pg_advisory_xact_lock')) continue;
    const plan = await planOf(statement, false);
    assert.deepEqual(seqScans(plan).map(describe), [], `${statement.text.slice(0, 200)}: ${describe(plan)}`);
  }

  clock.now += 3_600_000;
  const incremental = await sweeper.pass();
  assert.equal(incremental.full, false);
  assert.deepEqual(incremental.examined, retentionCounts());
});
