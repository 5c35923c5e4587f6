/**
 * SQLite only: two more of PostgreSQL's folds as triggers on views (docs/architecture.md, "SQLite:
 * the same folds as triggers on views").
 *
 * - `compute_execution_writes` (0018's view) is recreated with the columns of a tenant change,
 *   `t_id`, `t_expected` and `t_<status column>`: once the execution and everything with it are
 *   written, the trigger shows the execution on its tenant with `changeFrom`'s compare-and-set on
 *   the version (`shownOnTenant` in folded-writes.ts on PostgreSQL). A stale version writes nothing
 *   of the tenant and undoes nothing: the trigger ends with `raise(ignore)`, which keeps what it
 *   wrote and drops the statement's RETURNING row, so the caller reads "not shown" from an empty
 *   result. With `t_id` null there is no tenant change.
 * - `workflow_run_end_writes` ends a run with its last journal entries and the events of its end
 *   (`WorkflowRunRepository.recordEnd`; folded-run-end.ts on PostgreSQL). The guard (the run's
 *   lease owner when `guard_lease_owner` is not null, its state in `guard_states` when not null)
 *   comes first: when it fails, `raise(ignore)` ends the statement having written nothing and
 *   returning no row. Then `lessor-fold:journaled` is raised (the statement undone, entries too)
 *   when an entry's (run_id, seq) is stored already; else the entries are inserted, the run is
 *   updated with `patch` (a JSON object of the columns to set: an absent key leaves its column
 *   alone, a JSON null sets NULL), and the events are appended when the row as written has
 *   `x_workflow`, `x_tags` and `x_attempt`.
 *
 * The column lists are this migration's own copies: an applied migration must run the same DDL
 * forever. Never edit an applied migration: add a new one.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../dialect.js';

const argumentView = (name: string, columns: readonly string[]) =>
  `create view ${name} as select ${columns.map((c) => `null as ${c}`).join(', ')}`;

const appendEvents = (tenant: string, at: string, where?: string) => `insert into tenant_events (tenant_id,
      type, actor, reason, message, from_phase, to_phase, generation, run_id, execution_id, data, at)
    select ${tenant}, e.value ->> 'type', e.value ->> 'actor', e.value ->> 'reason', e.value ->> 'message',
      e.value ->> 'from_phase', e.value ->> 'to_phase', e.value ->> 'generation', e.value ->> 'run_id',
      e.value ->> 'execution_id', e.value ->> 'data', ${at}
    from json_each(new.events) e${where === undefined ? '' : ` where ${where}`} order by e.key;`;

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

/** The tenant's status columns `changeFrom` writes. */
const TENANT_STATUS_COLUMNS = ['phase', 'observed_generation', 'status', 'version', 'updated_at'];

/** The run columns an end may set (`patchValues` in workflow-run-repository.ts). */
const RUN_PATCH_COLUMNS = [
  'state',
  'attempt',
  'output',
  'error',
  'wake_at',
  'lease_owner',
  'lease_expires_at',
  'finished_at',
  'updated_at',
];

const ACTIVE_RUN_STATES = ['pending', 'running', 'waiting', 'backing-off'];

const HELD_COLUMNS = ['held', 'held_run_id', 'held_lease_owner'];

/** 0018's guards and insert of a step's held journal entries; nothing when `new.held` is null. */
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

/** The tenant's compare-and-set that shows the execution, last: `raise(ignore)` when stale. */
const SHOWN_ON_TENANT = `select raise(ignore)
      where new.t_id is not null
        and not exists (select 1 from tenants where id = new.t_id and version = new.t_expected);
    update tenants set ${TENANT_STATUS_COLUMNS.map((c) => `${c} = new.t_${c}`).join(', ')}
      where id = new.t_id and version = new.t_expected;`;

/** `compute_execution_writes`: with the tenant change (this migration) or as 0018 made it. */
function executionWrites(shown: boolean): string[] {
  const tenant = shown ? ['t_id', 't_expected', ...TENANT_STATUS_COLUMNS.map((c) => `t_${c}`)] : [];
  return [
    argumentView('compute_execution_writes', [
      ...EXECUTION_COLUMNS.map((c) => `x_${c}`),
      'running',
      'at',
      'details',
      ...CALLBACK_COLUMNS.map((c) => `cb_${c}`),
      'events',
      ...HELD_COLUMNS,
      ...tenant,
    ]),
    `create trigger compute_execution_writes_apply instead of insert on compute_execution_writes begin
    ${HELD_JOURNAL}
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
    ${shown ? SHOWN_ON_TENANT : ''}
  end`,
  ];
}

/** The run's end guard on `workflow_runs` (unqualified columns). */
const RUN_END_GUARD = `run_id = new.run_id
        and (new.guard_lease_owner is null or lease_owner = new.guard_lease_owner)
        and (new.guard_states is null or state in (select value from json_each(new.guard_states)))`;

const RUN_END_WRITES = [
  argumentView('workflow_run_end_writes', [
    'run_id',
    'guard_lease_owner',
    'guard_states',
    'patch',
    'held',
    'events',
    'events_tenant_id',
    'events_at',
    'x_workflow',
    'x_tags',
    'x_attempt',
  ]),
  `create trigger workflow_run_end_writes_apply instead of insert on workflow_run_end_writes begin
    select raise(ignore) where not exists (select 1 from workflow_runs where ${RUN_END_GUARD});
    select raise(abort, 'lessor-fold:journaled')
      where new.held is not null and exists (select 1 from json_each(new.held) h, workflow_steps s
        where s.run_id = new.run_id and s.seq = h.value ->> 'seq');
    insert into workflow_steps (${STEP_COLUMNS.join(', ')})
      select new.run_id, ${STEP_COLUMNS.slice(1)
        .map((c) => `h.value ->> '${c}'`)
        .join(', ')}
      from json_each(new.held) h where new.held is not null order by h.key;
    update workflow_runs set ${RUN_PATCH_COLUMNS.map(
      (c) => `${c} = iif(json_type(new.patch, '$.${c}') is null, ${c}, new.patch ->> '$.${c}')`,
    ).join(',\n      ')}
      where ${RUN_END_GUARD};
    ${appendEvents(
      'new.events_tenant_id',
      'new.events_at',
      `new.events is not null and exists (select 1 from workflow_runs
        where run_id = new.run_id and workflow = new.x_workflow and tags = new.x_tags
          and attempt = new.x_attempt)`,
    )}
  end`,
];

async function run(db: Kysely<unknown>, statements: readonly string[]): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export function sqliteShownAndRunEnd(d: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (d.name !== 'sqlite') return;
      // Dropping a view drops its trigger.
      await run(db, ['drop view if exists compute_execution_writes', ...executionWrites(true)]);
      await run(db, RUN_END_WRITES);
    },
    async down(db: Kysely<unknown>) {
      if (d.name !== 'sqlite') return;
      await run(db, ['drop view if exists workflow_run_end_writes']);
      await run(db, ['drop view if exists compute_execution_writes', ...executionWrites(false)]);
    },
  };
}
