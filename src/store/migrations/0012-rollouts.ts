/**
 * `rollouts` and `rollout_members` (see rollout-repository.ts). A member row is a tenant's place in
 * one rollout: its wave, its state, the generations the rollout wrote, and the spec it had before
 * (sealed like a tenant spec) for a rollback. `active_tenant_id` holds the tenant id while the
 * rollout may still change the tenant and is cleared when the rollout ends; its unique index is
 * what keeps two rollouts from touching one tenant at once. Members name their tenant without a
 * foreign key: a purged tenant leaves the rollout's record as it was. Never edit an applied
 * migration: add a new one.
 */
import type { Kysely, Migration } from 'kysely';
import type { SqlDialect } from '../dialect.js';

export function rolloutsMigration(d: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
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
