/**
 * SQLite only: a step's first write carries the run's held journal entries
 * (src/domain/held-journal.ts), as PostgreSQL's folded writes do (src/store/folded-journal.ts).
 * Recreates two of migration 0017's views — `tenant_status_writes` and `compute_execution_writes`
 * — with three more columns: `held` (a JSON array of journal entry rows, or null),
 * `held_run_id` and `held_lease_owner`. With `held` not null, the trigger first
 *
 * - raises `lessor-fold:held` unless the run is still held by `held_lease_owner` and active;
 * - raises `lessor-fold:journaled` when any of the entries' (run_id, seq) is stored already;
 * - inserts the entries, in array order,
 *
 * and only then makes the write, in the same statement: a raise (these or 0017's) undoes the
 * whole statement, entries included, and nothing else. The caller then flushes the entries on
 * their own and makes the write again without them (folded-writes-sqlite.ts).
 *
 * The column lists and run states are this migration's own copies: an applied migration must run
 * the same DDL forever. Never edit an applied migration: add a new one.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../dialect.js';

const argumentView = (name: string, columns: readonly string[]) =>
  `create view ${name} as select ${columns.map((c) => `null as ${c}`).join(', ')}`;

const SUBSCRIBED_GUARD = `select raise(abort, 'lessor-fold:subscribed')
    where exists (select 1 from webhooks w, json_each(new.subscribers) p
      where w.enabled = 1 and w.event_filter like p.value);`;

const appendEvents = (tenant: string, at: string) => `insert into tenant_events (tenant_id, type, actor,
      reason, message, from_phase, to_phase, generation, run_id, execution_id, data, at)
    select ${tenant}, e.value ->> 'type', e.value ->> 'actor', e.value ->> 'reason', e.value ->> 'message',
      e.value ->> 'from_phase', e.value ->> 'to_phase', e.value ->> 'generation', e.value ->> 'run_id',
      e.value ->> 'execution_id', e.value ->> 'data', ${at}
    from json_each(new.events) e order by e.key;`;

const EXECUTION_COLUMNS = [
  'execution_id',
  'tenant_id',
  'workflow_run_id',
  'operation',
  'provider',
  'status',
  'attempt',
  'timeout_ms',
  'generation',
  'config_hash',
  'resources',
  'endpoints',
  'partial',
  'error',
  'lease_owner',
  'lease_expires_at',
  'created_at',
  'started_at',
  'finished_at',
];

const CALLBACK_COLUMNS = [
  'id',
  'execution_id',
  'workflow_run_id',
  'tenant_id',
  'payload',
  'state',
  'attempts',
  'next_attempt_at',
  'created_at',
  'delivered_at',
];

const STEP_COLUMNS = [
  'run_id',
  'seq',
  'name',
  'kind',
  'status',
  'result',
  'error',
  'started_at',
  'finished_at',
  'duration_ms',
];

const ACTIVE_RUN_STATES = ['pending', 'running', 'waiting', 'backing-off'];

const HELD_COLUMNS = ['held', 'held_run_id', 'held_lease_owner'];

/** The held entries' guards and insert (see the file comment); nothing when `new.held` is null. */
const HELD_JOURNAL = `select raise(abort, 'lessor-fold:held')
      where new.held is not null and not exists (select 1 from workflow_runs
        where run_id = new.held_run_id and lease_owner = new.held_lease_owner
          and state in (${ACTIVE_RUN_STATES.map((s) => `'${s}'`).join(', ')}));
    select raise(abort, 'lessor-fold:journaled')
      where new.held is not null and exists (select 1 from json_each(new.held) h, workflow_steps s
        where s.run_id = new.held_run_id and s.seq = h.value ->> 'seq');
    insert into workflow_steps (${STEP_COLUMNS.join(', ')})
      select new.held_run_id, ${STEP_COLUMNS.slice(1)
        .map((c) => `h.value ->> '${c}'`)
        .join(', ')}
      from json_each(new.held) h where new.held is not null order by h.key;`;

/** The two views and triggers; `held`: with the held journal columns (this migration) or as 0017 made them. */
function statements(held: boolean): string[] {
  const extra = held ? HELD_COLUMNS : [];
  const journal = held ? HELD_JOURNAL : '';
  return [
    argumentView('tenant_status_writes', [
      'id',
      'expected_version',
      'phase',
      'observed_generation',
      'status',
      'version',
      'updated_at',
      'at',
      'events',
      'subscribers',
      ...extra,
    ]),
    `create trigger tenant_status_writes_apply instead of insert on tenant_status_writes begin
    ${journal}
    ${SUBSCRIBED_GUARD}
    select raise(abort, 'lessor-fold:stale')
      where not exists (select 1 from tenants where id = new.id and version = new.expected_version);
    update tenants set phase = new.phase, observed_generation = new.observed_generation,
      status = new.status, version = new.version, updated_at = new.updated_at
      where id = new.id and version = new.expected_version;
    ${appendEvents('new.id', 'new.at')}
  end`,
    argumentView('compute_execution_writes', [
      ...EXECUTION_COLUMNS.map((c) => `x_${c}`),
      'running',
      'at',
      'details',
      ...CALLBACK_COLUMNS.map((c) => `cb_${c}`),
      'events',
      ...extra,
    ]),
    `create trigger compute_execution_writes_apply instead of insert on compute_execution_writes begin
    ${journal}
    select raise(abort, 'lessor-fold:exists')
      where exists (select 1 from compute_executions where execution_id = new.x_execution_id);
    insert into compute_executions (${EXECUTION_COLUMNS.join(', ')})
      values (${EXECUTION_COLUMNS.map((c) => `new.x_${c}`).join(', ')});
    insert into compute_execution_history (execution_id, seq, status, attempt, at, details)
      select new.x_execution_id, 1, 'pending', new.x_attempt, new.x_created_at, '{}' where new.running = 1
      union all select new.x_execution_id, 2, 'running', new.x_attempt, new.at, new.details where new.running = 1
      union all select new.x_execution_id, 1, new.x_status, new.x_attempt, new.x_created_at, new.details
        where new.running = 0;
    insert into callbacks (${CALLBACK_COLUMNS.join(', ')})
      select ${CALLBACK_COLUMNS.map((c) => `new.cb_${c}`).join(', ')} where new.cb_id is not null;
    ${appendEvents('new.x_tenant_id', 'new.at')}
  end`,
  ];
}

const VIEWS = ['tenant_status_writes', 'compute_execution_writes'];

async function recreate(db: Kysely<unknown>, held: boolean): Promise<void> {
  // Dropping a view drops its trigger.
  for (const view of VIEWS) await sql.raw(`drop view if exists ${view}`).execute(db);
  for (const statement of statements(held)) await sql.raw(statement).execute(db);
}

export function sqliteHeldJournal(d: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (d.name === 'sqlite') await recreate(db, true);
    },
    async down(db: Kysely<unknown>) {
      if (d.name === 'sqlite') await recreate(db, false);
    },
  };
}
