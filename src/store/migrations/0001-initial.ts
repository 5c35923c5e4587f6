/**
 * The initial schema, identical on both engines apart from the column types `SqlDialect` supplies.
 * Foreign keys cascade from `tenants` (and from runs and executions to their journals), so purging
 * a tenant removes everything that hangs off it.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../dialect.js';

type Db = Kysely<unknown>;

function index(db: Db, name: string, table: string, columns: string[]) {
  return db.schema.createIndex(name).on(table).columns(columns).execute();
}

async function createTenants(db: Db, d: SqlDialect): Promise<void> {
  await db.schema
    .createTable('tenants')
    .addColumn('id', d.keyText, (c) => c.primaryKey())
    .addColumn('name', d.keyText, (c) => c.notNull())
    .addColumn('provider', d.keyText, (c) => c.notNull())
    .addColumn('phase', d.keyText, (c) => c.notNull())
    .addColumn('generation', d.bigint, (c) => c.notNull())
    .addColumn('observed_generation', d.bigint, (c) => c.notNull())
    .addColumn('paused', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('spec', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('version', d.bigint, (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('archived', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // Names are unique among live tenants only: an archived tenant's name may be reused.
  await db.schema
    .createIndex('tenants_active_name_unique')
    .on('tenants')
    .column('name')
    .unique()
    .where(sql<boolean>`archived = 0`)
    .execute();
  await index(db, 'tenants_name', 'tenants', ['name']);
  await index(db, 'tenants_phase_id', 'tenants', ['phase', 'id']);
  await index(db, 'tenants_provider_id', 'tenants', ['provider', 'id']);
}

async function createTenantLabels(db: Db, d: SqlDialect): Promise<void> {
  await db.schema
    .createTable('tenant_labels')
    .addColumn('tenant_id', d.keyText, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('key', d.keyText, (c) => c.notNull())
    .addColumn('value', d.keyText, (c) => c.notNull())
    .addPrimaryKeyConstraint('tenant_labels_pk', ['tenant_id', 'key'])
    .execute();
  await index(db, 'tenant_labels_key_value', 'tenant_labels', ['key', 'value', 'tenant_id']);
}

async function createTenantEvents(db: Db, d: SqlDialect): Promise<void> {
  await db.schema
    .createTable('tenant_events')
    .addColumn('seq', d.bigint, (c) => d.serialPrimaryKey(c))
    .addColumn('tenant_id', d.keyText, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('from_phase', 'text')
    .addColumn('to_phase', 'text')
    .addColumn('generation', d.bigint, (c) => c.notNull())
    .addColumn('run_id', 'text')
    .addColumn('execution_id', 'text')
    .addColumn('data', 'text')
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  await index(db, 'tenant_events_tenant_seq', 'tenant_events', ['tenant_id', 'seq']);
}

async function createWorkflowRuns(db: Db, d: SqlDialect): Promise<void> {
  await db.schema
    .createTable('workflow_runs')
    .addColumn('run_id', d.keyText, (c) => c.primaryKey())
    .addColumn('tenant_id', d.keyText, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('engine', 'text', (c) => c.notNull())
    .addColumn('state', d.keyText, (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('trigger_source', 'text', (c) => c.notNull())
    .addColumn('generation', d.bigint, (c) => c.notNull())
    .addColumn('config_hash', 'text', (c) => c.notNull())
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
  await index(db, 'workflow_runs_tenant_created', 'workflow_runs', ['tenant_id', 'created_at']);
  await index(db, 'workflow_runs_state_wake', 'workflow_runs', ['state', 'wake_at']);
}

async function createWorkflowJournal(db: Db, d: SqlDialect): Promise<void> {
  await db.schema
    .createTable('workflow_steps')
    .addColumn('run_id', d.keyText, (c) => c.notNull().references('workflow_runs.run_id').onDelete('cascade'))
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
    .createTable('workflow_promises')
    .addColumn('run_id', d.keyText, (c) => c.notNull().references('workflow_runs.run_id').onDelete('cascade'))
    .addColumn('key', d.keyText, (c) => c.notNull())
    .addColumn('value', 'text')
    .addColumn('resolved_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('workflow_promises_pk', ['run_id', 'key'])
    .execute();
}

async function createComputeExecutions(db: Db, d: SqlDialect): Promise<void> {
  await db.schema
    .createTable('compute_executions')
    .addColumn('execution_id', d.keyText, (c) => c.primaryKey())
    .addColumn('tenant_id', d.keyText, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('workflow_run_id', d.keyText, (c) => c.notNull())
    .addColumn('operation', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('status', d.keyText, (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('timeout_ms', d.bigint, (c) => c.notNull())
    .addColumn('generation', d.bigint, (c) => c.notNull())
    .addColumn('config_hash', 'text', (c) => c.notNull())
    .addColumn('resources', 'text', (c) => c.notNull())
    .addColumn('endpoints', 'text', (c) => c.notNull())
    .addColumn('partial', 'text')
    .addColumn('error', 'text')
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', d.bigint)
    .addColumn('created_at', d.keyText, (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('finished_at', 'text')
    .execute();
  await index(db, 'compute_executions_tenant_created', 'compute_executions', ['tenant_id', 'created_at']);
  await index(db, 'compute_executions_run', 'compute_executions', ['workflow_run_id']);
  await index(db, 'compute_executions_status_lease', 'compute_executions', ['status', 'lease_expires_at']);
}

async function createExecutionHistory(db: Db, d: SqlDialect): Promise<void> {
  await db.schema
    .createTable('compute_execution_history')
    .addColumn('execution_id', d.keyText, (c) =>
      c.notNull().references('compute_executions.execution_id').onDelete('cascade'),
    )
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('compute_execution_history_pk', ['execution_id', 'seq'])
    .execute();
}

async function createCallbacks(db: Db, d: SqlDialect): Promise<void> {
  await db.schema
    .createTable('callbacks')
    .addColumn('id', d.keyText, (c) => c.primaryKey())
    .addColumn('execution_id', d.keyText, (c) => c.notNull())
    .addColumn('workflow_run_id', d.keyText, (c) => c.notNull())
    .addColumn('tenant_id', d.keyText, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('state', d.keyText, (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', d.bigint, (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('delivered_at', 'text')
    .execute();
  await index(db, 'callbacks_state_next', 'callbacks', ['state', 'next_attempt_at']);
  await index(db, 'callbacks_state_id', 'callbacks', ['state', 'id']);
}

async function createIdempotencyKeys(db: Db, d: SqlDialect): Promise<void> {
  await db.schema
    .createTable('idempotency_keys')
    .addColumn('scope', d.keyText, (c) => c.notNull())
    .addColumn('key', d.keyText, (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('response_body', 'text')
    .addColumn('response_headers', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', d.bigint, (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['scope', 'key'])
    .execute();
  await index(db, 'idempotency_keys_expires', 'idempotency_keys', ['expires_at']);
}

/** In dependency order: a table comes after the tables it references. */
const CREATE_TABLES = [
  createTenants,
  createTenantLabels,
  createTenantEvents,
  createWorkflowRuns,
  createWorkflowJournal,
  createComputeExecutions,
  createExecutionHistory,
  createCallbacks,
  createIdempotencyKeys,
];

const TABLES_IN_DROP_ORDER = [
  'idempotency_keys',
  'callbacks',
  'compute_execution_history',
  'compute_executions',
  'workflow_promises',
  'workflow_steps',
  'workflow_runs',
  'tenant_events',
  'tenant_labels',
  'tenants',
];

export function initialMigration(dialect: SqlDialect): Migration {
  return {
    async up(db: Db) {
      for (const create of CREATE_TABLES) await create(db, dialect);
    },
    async down(db: Db) {
      for (const table of TABLES_IN_DROP_ORDER) await db.schema.dropTable(table).execute();
    },
  };
}
