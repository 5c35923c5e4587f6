/**
 * `rollouts` and `rollout_members` (see rollout-repository.ts). A member row is a tenant's place in
 * one rollout: its wave, its state, the generations the rollout wrote, and the spec it had before
 * (sealed like a tenant spec) for a rollback. `active_tenant_id` holds the tenant id while the
 * rollout may still change the tenant and is cleared when the rollout ends; its unique index is
 * what keeps two rollouts from touching one tenant at once. Members name their tenant without a
 * foreign key: a purged tenant leaves the rollout's record as it was. Never edit an applied
 * migration: add a new one.
 *
 * It also lets `tenant_events.tenant_id` be null: a rollout's phase changes are events of the one
 * stream (`GET /v1/events`) about no single tenant. PostgreSQL drops the NOT NULL; SQLite cannot,
 * so the table is rebuilt (rows, sequence and indexes kept).
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../dialect.js';

export function rolloutsMigration(d: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await nullableEventTenant(db, d);
      await db.schema
        .createTable('rollouts')
        .addColumn('id', d.keyText, (c) => c.primaryKey())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('selector', 'text', (c) => c.notNull())
        .addColumn('change', 'text', (c) => c.notNull())
        .addColumn('strategy', 'text', (c) => c.notNull())
        .addColumn('failure_policy', 'text', (c) => c.notNull())
        .addColumn('phase', d.keyText, (c) => c.notNull())
        .addColumn('control', 'text', (c) => c.notNull())
        .addColumn('wave_times', 'text', (c) => c.notNull())
        .addColumn('total', 'integer', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_by_role', 'text', (c) => c.notNull())
        .addColumn('version', d.bigint, (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .execute();
      await db.schema.createIndex('rollouts_phase_id').on('rollouts').columns(['phase', 'id']).execute();
      await db.schema
        .createIndex('rollouts_finished_id')
        .on('rollouts')
        .columns(['finished_at', 'id'])
        .execute();
      await db.schema
        .createTable('rollout_members')
        .addColumn('rollout_id', d.keyText, (c) => c.notNull().references('rollouts.id').onDelete('cascade'))
        .addColumn('ordinal', 'integer', (c) => c.notNull())
        .addColumn('tenant_id', d.keyText, (c) => c.notNull())
        .addColumn('tenant_name', 'text', (c) => c.notNull())
        .addColumn('wave', 'integer', (c) => c.notNull())
        .addColumn('state', d.keyText, (c) => c.notNull())
        .addColumn('active_tenant_id', d.keyText)
        .addColumn('snapshot_generation', d.bigint, (c) => c.notNull())
        .addColumn('from_generation', d.bigint)
        .addColumn('to_generation', d.bigint)
        .addColumn('rollback_generation', d.bigint)
        .addColumn('previous_spec', 'text')
        .addColumn('merged', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('error', 'text')
        .addColumn('started_at', 'text')
        .addColumn('healthy_since', 'text')
        .addColumn('finished_at', 'text')
        .addPrimaryKeyConstraint('rollout_members_pk', ['rollout_id', 'ordinal'])
        .execute();
      await db.schema
        .createIndex('rollout_members_state')
        .on('rollout_members')
        .columns(['rollout_id', 'state', 'ordinal'])
        .execute();
      await db.schema
        .createIndex('rollout_members_wave_state')
        .on('rollout_members')
        .columns(['rollout_id', 'wave', 'state'])
        .execute();
      await db.schema
        .createIndex('rollout_members_tenant')
        .on('rollout_members')
        .columns(['tenant_id', 'rollout_id'])
        .execute();
      await db.schema
        .createIndex('rollout_members_active_tenant')
        .on('rollout_members')
        .column('active_tenant_id')
        .unique()
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('rollout_members').execute();
      await db.schema.dropTable('rollouts').execute();
    },
  };
}

const EVENT_COLUMNS =
  'seq, tenant_id, type, actor, reason, message, from_phase, to_phase, generation, run_id, execution_id, data, at';

async function nullableEventTenant(db: Kysely<unknown>, d: SqlDialect): Promise<void> {
  if (d.name === 'postgres') {
    await sql`alter table tenant_events alter column tenant_id drop not null`.execute(db);
    return;
  }
  const sequence = await sql<{
    seq: number;
  }>`select seq from sqlite_sequence where name = 'tenant_events'`.execute(db);
  await sql`create table tenant_events_0012 (
    seq integer primary key autoincrement,
    tenant_id text references tenants(id) on delete cascade,
    type text not null,
    actor text not null,
    reason text not null,
    message text not null,
    from_phase text,
    to_phase text,
    generation integer not null,
    run_id text,
    execution_id text,
    data text,
    at text not null
  )`.execute(db);
  await sql`insert into tenant_events_0012 (${sql.raw(EVENT_COLUMNS)}) select ${sql.raw(EVENT_COLUMNS)} from tenant_events`.execute(
    db,
  );
  await sql`drop table tenant_events`.execute(db);
  await sql`alter table tenant_events_0012 rename to tenant_events`.execute(db);
  const last = Number(sequence.rows[0]?.seq ?? 0);
  // The sequence never goes back, even past rows retention deleted.
  await sql`update sqlite_sequence set seq = max(seq, ${last}) where name = 'tenant_events'`.execute(db);
  await db.schema
    .createIndex('tenant_events_tenant_seq')
    .on('tenant_events')
    .columns(['tenant_id', 'seq'])
    .execute();
  await db.schema.createIndex('tenant_events_at_seq').on('tenant_events').columns(['at', 'seq']).execute();
}
