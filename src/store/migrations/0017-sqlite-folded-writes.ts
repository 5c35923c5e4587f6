/**
 * SQLite only: the folded writes (docs/architecture.md, "The write path in statements") as views
 * with INSTEAD OF INSERT triggers. One `insert into <view>` runs the trigger's statements as one
 * SQLite statement — atomic on its own, so without BEGIN/COMMIT — the way PostgreSQL runs a
 * data-modifying CTE. A guard that fails raises, which undoes the whole statement and nothing
 * else: `lessor-fold:stale` (the tenant's version moved), `lessor-fold:subscribed` (an enabled
 * webhook may want the events: the caller takes the transaction that writes the outbox too),
 * `lessor-fold:exists` (the execution id is taken). An execution's `pending` and `running` events
 * are not webhook events, so its insert has no subscriber guard. Events and labels arrive as JSON arrays and
 * objects, inserted in array order (their seqs ascend in it).
 *
 * The views have no rows; their columns are only the arguments of one write. A later migration
 * that adds a column to `tenants` or `compute_executions` must recreate the matching trigger.
 * PostgreSQL needs none of this (folded-writes.ts builds the CTEs). Never edit an applied
 * migration: add a new one.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../dialect.js';

/** The columns of a view of arguments: `null as <name>` for each. */
const argumentView = (name: string, columns: readonly string[]) =>
  `create view ${name} as select ${columns.map((c) => `null as ${c}`).join(', ')}`;

const SUBSCRIBED_GUARD = `select raise(abort, 'lessor-fold:subscribed')
    where exists (select 1 from webhooks w, json_each(new.subscribers) p
      where w.enabled = 1 and w.event_filter like p.value);`;

/** Appends `new.events` (a JSON array of event columns) for `tenant` at `at`, in array order. */
const appendEvents = (tenant: string, at: string) => `insert into tenant_events (tenant_id, type, actor,
      reason, message, from_phase, to_phase, generation, run_id, execution_id, data, at)
    select ${tenant}, e.value ->> 'type', e.value ->> 'actor', e.value ->> 'reason', e.value ->> 'message',
      e.value ->> 'from_phase', e.value ->> 'to_phase', e.value ->> 'generation', e.value ->> 'run_id',
      e.value ->> 'execution_id', e.value ->> 'data', ${at}
    from json_each(new.events) e order by e.key;`;

// The column lists are this migration's own copies (src/store/folded-columns.ts has the live
// ones): an applied migration must run the same DDL forever, whatever the code later inserts.
const TENANT_COLUMNS = [
  'id',
  'name',
  'created_at',
  'provider',
  'phase',
  'generation',
  'observed_generation',
  'paused',
  'spec',
  'status',
  'version',
  'updated_at',
  'archived',
  'plan_name',
];

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

const STATEMENTS = [
  // A new tenant: its row, labels, first revision and events.
  argumentView('tenant_creation_writes', [
    ...TENANT_COLUMNS.map((c) => `t_${c}`),
    'labels',
    'actor',
    'events',
    'subscribers',
  ]),
  `create trigger tenant_creation_writes_apply instead of insert on tenant_creation_writes begin
    ${SUBSCRIBED_GUARD}
    insert into tenants (${TENANT_COLUMNS.join(', ')})
      values (${TENANT_COLUMNS.map((c) => `new.t_${c}`).join(', ')});
    insert into tenant_labels (tenant_id, key, value)
      select new.t_id, l.key, l.value from json_each(new.labels) l;
    insert into tenant_revisions (tenant_id, generation, spec, actor, created_at)
      values (new.t_id, 1, new.t_spec, new.actor, new.t_created_at);
    ${appendEvents('new.t_id', 'new.t_created_at')}
  end`,
  // A change of a tenant's status columns at `expected_version`, with its events.
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
  ]),
  `create trigger tenant_status_writes_apply instead of insert on tenant_status_writes begin
    ${SUBSCRIBED_GUARD}
    select raise(abort, 'lessor-fold:stale')
      where not exists (select 1 from tenants where id = new.id and version = new.expected_version);
    update tenants set phase = new.phase, observed_generation = new.observed_generation,
      status = new.status, version = new.version, updated_at = new.updated_at
      where id = new.id and version = new.expected_version;
    ${appendEvents('new.id', 'new.at')}
  end`,
  // A new compute execution (`running` = 1: inserted as it is after its move to running, with
  // both history rows and the move's callback, when `cb_id` is not null), with its events.
  argumentView('compute_execution_writes', [
    ...EXECUTION_COLUMNS.map((c) => `x_${c}`),
    'running',
    'at',
    'details',
    ...CALLBACK_COLUMNS.map((c) => `cb_${c}`),
    'events',
  ]),
  `create trigger compute_execution_writes_apply instead of insert on compute_execution_writes begin
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

const VIEWS = ['tenant_creation_writes', 'tenant_status_writes', 'compute_execution_writes'];

export function sqliteFoldedWrites(d: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (d.name !== 'sqlite') return;
      for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
    },
    async down(db: Kysely<unknown>) {
      if (d.name !== 'sqlite') return;
      // Dropping a view drops its triggers.
      for (const view of VIEWS) await sql.raw(`drop view if exists ${view}`).execute(db);
    },
  };
}
