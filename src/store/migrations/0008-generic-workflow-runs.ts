/**
 * Workflow runs become generic: `tenant_id`, `action`, `generation`, `config_hash` and
 * `trigger_source` give way to `workflow` (the definition's name), `tags` (a JSON string map) and
 * `subject` (the indexed copy of the `subject` tag). Existing rows are tenant runs and are
 * converted as provisioning writes them now: workflow = action, tags = {subject: `tenant:<id>`,
 * generation, configHash, trigger}. Runs no longer hang off `tenants` by a foreign key (a run may
 * work on something else): a purge deletes the tenant's runs itself.
 *
 * PostgreSQL alters the table in place. SQLite cannot drop a column that takes part in a foreign
 * key, and dropping the runs table inside this transaction (foreign keys on) would cascade into the
 * journal: it rebuilds runs, steps and promises side by side, drops the old tables journal first,
 * then renames the new ones (SQLite rewrites the journal's references on the rename).
 * Irreversible: a non-tenant run has no tenant to go back to.
 */
import { sql, type Kysely, type Migration, type RawBuilder } from 'kysely';
import type { SqlDialect } from '../dialect.js';

type Db = Kysely<unknown>;

const SUBJECT = sql`'tenant:' || tenant_id`;

/** The tags of an existing (tenant) run, as `tenantRunTags` writes them. */
function tagsOf(d: SqlDialect): RawBuilder<string> {
  const pairs = sql`'subject', ${SUBJECT}, 'generation', cast(generation as text), 'configHash', config_hash, 'trigger', trigger_source`;
  return d.name === 'sqlite' ? sql`json_object(${pairs})` : sql`json_build_object(${pairs})::text`;
}

async function runIndexes(db: Db): Promise<void> {
  await db.schema
    .createIndex('workflow_runs_subject_created')
    .on('workflow_runs')
    .columns(['subject', 'created_at'])
    .execute();
}

async function alterInPlace(db: Db, d: SqlDialect): Promise<void> {
  await db.schema
    .alterTable('workflow_runs')
    .addColumn('workflow', 'text')
    .addColumn('subject', d.keyText)
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  await sql`update workflow_runs set workflow = action, subject = ${SUBJECT}, tags = ${tagsOf(d)}`.execute(
    db,
  );
  await sql`alter table workflow_runs alter column workflow set not null`.execute(db);
  await db.schema.dropIndex('workflow_runs_tenant_created').execute();
  for (const column of ['tenant_id', 'action', 'generation', 'config_hash', 'trigger_source'])
    await db.schema.alterTable('workflow_runs').dropColumn(column).execute();
  await runIndexes(db);
}

async function createRuns(db: Db, d: SqlDialect, table: string): Promise<void> {
  await db.schema
    .createTable(table)
    .addColumn('run_id', d.keyText, (c) => c.primaryKey())
    .addColumn('workflow', 'text', (c) => c.notNull())
    .addColumn('subject', d.keyText)
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('engine', 'text', (c) => c.notNull())
    .addColumn('state', d.keyText, (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('input', 'text')
    .addColumn('output', 'text')
    .addColumn('error', 'text')
    .addColumn('wake_at', d.bigint)
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', d.bigint)
    .addColumn('created_at', d.keyText, (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .execute();
}

async function createJournal(db: Db, d: SqlDialect, runs: string): Promise<void> {
  await db.schema
    .createTable('workflow_steps_v8')
    .addColumn('run_id', d.keyText, (c) => c.notNull().references(`${runs}.run_id`).onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('result', 'text')
    .addColumn('error', 'text')
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('duration_ms', d.bigint)
    .addPrimaryKeyConstraint('workflow_steps_pk', ['run_id', 'seq'])
    .execute();
  await db.schema
    .createTable('workflow_promises_v8')
    .addColumn('run_id', d.keyText, (c) => c.notNull().references(`${runs}.run_id`).onDelete('cascade'))
    .addColumn('key', d.keyText, (c) => c.notNull())
    .addColumn('value', 'text')
    .addColumn('resolved_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('workflow_promises_pk', ['run_id', 'key'])
    .execute();
}

async function rebuild(db: Db, d: SqlDialect): Promise<void> {
  await createRuns(db, d, 'workflow_runs_v8');
  await sql`insert into workflow_runs_v8 (run_id, workflow, subject, tags, engine, state, attempt, input,
      output, error, wake_at, lease_owner, lease_expires_at, created_at, updated_at, finished_at)
    select run_id, action, ${SUBJECT}, ${tagsOf(d)}, engine, state, attempt, input,
      output, error, wake_at, lease_owner, lease_expires_at, created_at, updated_at, finished_at
    from workflow_runs`.execute(db);
  await createJournal(db, d, 'workflow_runs_v8');
  await sql`insert into workflow_steps_v8 select * from workflow_steps`.execute(db);
  await sql`insert into workflow_promises_v8 select * from workflow_promises`.execute(db);
  for (const table of ['workflow_promises', 'workflow_steps', 'workflow_runs'])
    await db.schema.dropTable(table).execute();
  for (const table of ['workflow_runs', 'workflow_steps', 'workflow_promises'])
    await db.schema.alterTable(`${table}_v8`).renameTo(table).execute();
  await db.schema
    .createIndex('workflow_runs_state_wake')
    .on('workflow_runs')
    .columns(['state', 'wake_at'])
    .execute();
  // As 0005-retention-indexes made it.
  await db.schema
    .createIndex('workflow_runs_finished_run')
    .on('workflow_runs')
    .columns(['finished_at', 'run_id'])
    .execute();
  await runIndexes(db);
}

export function genericWorkflowRuns(dialect: SqlDialect): Migration {
  return {
    async up(db: Db) {
      if (dialect.name === 'sqlite') await rebuild(db, dialect);
      else await alterInPlace(db, dialect);
    },
  };
}
