/**
 * SQLite only: an execution's status change (to `running` or `succeeded`) as one insert into a
 * view, as PostgreSQL's `foldedExecutionTransition` makes it with data-modifying CTEs
 * (folded-writes.ts; docs/decisions.md, "SQLite: an execution's move to `succeeded` is one
 * statement").
 *
 * `compute_execution_transition_writes` takes the execution id, `from_statuses` (a JSON array of
 * the statuses it may move from), `patch` (a JSON object of the columns `transitionValues` sets:
 * an absent key leaves its column alone, a JSON null sets NULL), the history row's `at` and
 * `details`, the event's `event_type`, `event_actor` and `event_reason`, and the callback row
 * (`cb_<column>`, all null for none). The trigger:
 *
 * - ends with `raise(ignore)` — nothing written, and the statement's RETURNING row dropped — unless
 *   the execution is in one of `from_statuses` (the compare-and-set);
 * - updates the row under the same guard;
 * - appends the history row, numbered after the execution's last, with the status and attempt of
 *   the row as updated;
 * - inserts the callback row when `cb_id` is not null;
 * - appends the `ExecutionStatusChanged` event `executionEvent` builds, from the row as updated
 *   (message, generation, run, data), so the columns the move does not set are the stored ones.
 *
 * A later migration that adds a column a transition sets must recreate this trigger. The column
 * lists are this migration's own copies: an applied migration must run the same DDL forever.
 * Never edit an applied migration: add a new one.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../dialect.js';

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

/** The execution columns a transition may set (`transitionValues` in compute-execution-rows.ts). */
const TRANSITION_COLUMNS = [
  'status',
  'attempt',
  'resources',
  'endpoints',
  'partial',
  'error',
  'started_at',
  'finished_at',
  'lease_owner',
  'lease_expires_at',
];

const VIEW_COLUMNS = [
  'execution_id',
  'from_statuses',
  'patch',
  'at',
  'details',
  'event_type',
  'event_actor',
  'event_reason',
  ...CALLBACK_COLUMNS.map((c) => `cb_${c}`),
];

/** The compare-and-set on `compute_executions` (unqualified columns). */
const FROM_GUARD = `execution_id = new.execution_id
        and status in (select value from json_each(new.from_statuses))`;

const TRANSITION_WRITES = [
  `create view compute_execution_transition_writes as select ${VIEW_COLUMNS.map((c) => `null as ${c}`).join(', ')}`,
  `create trigger compute_execution_transition_writes_apply
    instead of insert on compute_execution_transition_writes begin
    select raise(ignore) where not exists (select 1 from compute_executions where ${FROM_GUARD});
    update compute_executions set ${TRANSITION_COLUMNS.map(
      (c) => `${c} = iif(json_type(new.patch, '$.${c}') is null, ${c}, new.patch ->> '$.${c}')`,
    ).join(',\n      ')}
      where ${FROM_GUARD};
    insert into compute_execution_history (execution_id, seq, status, attempt, at, details)
      select e.execution_id,
        coalesce((select max(h.seq) from compute_execution_history h where h.execution_id = e.execution_id), 0) + 1,
        e.status, e.attempt, new.at, new.details
      from compute_executions e where e.execution_id = new.execution_id;
    insert into callbacks (${CALLBACK_COLUMNS.join(', ')})
      select ${CALLBACK_COLUMNS.map((c) => `new.cb_${c}`).join(', ')} where new.cb_id is not null;
    insert into tenant_events (tenant_id, type, actor, reason, message, from_phase, to_phase,
        generation, run_id, execution_id, data, at)
      select e.tenant_id, new.event_type, new.event_actor, new.event_reason,
        e.operation || ' ' || e.status || ' (attempt ' || e.attempt || ')', null, null,
        e.generation, e.workflow_run_id, e.execution_id,
        json_object('operation', e.operation, 'status', e.status, 'attempt', e.attempt), new.at
      from compute_executions e where e.execution_id = new.execution_id;
  end`,
];

async function run(db: Kysely<unknown>, statements: readonly string[]): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export function sqliteExecutionTransition(d: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (d.name !== 'sqlite') return;
      await run(db, TRANSITION_WRITES);
    },
    async down(db: Kysely<unknown>) {
      if (d.name !== 'sqlite') return;
      // Dropping a view drops its trigger.
      await run(db, ['drop view if exists compute_execution_transition_writes']);
    },
  };
}
