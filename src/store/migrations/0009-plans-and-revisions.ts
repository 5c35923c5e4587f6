/**
 * Plans and revisions:
 * - `tenant_revisions`: the spec of every generation of every tenant (sealed like `tenants.spec`),
 *   cascading from `tenants` so a purge takes them along. Existing tenants get their current
 *   generation as their first kept revision.
 * - `plans` and `plan_revisions`: a plan's immutable, numbered revisions (the config sealed like a
 *   tenant spec), cascading from the plan.
 * - `tenants.plan_name`: copy of `spec.plan.name`, indexed, for "is this plan used?" and selecting a
 *   plan's tenants without reading every spec.
 * Never edit an applied migration: add a new one.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../dialect.js';

export function plansAndRevisions(d: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('tenant_revisions')
        .addColumn('tenant_id', d.keyText, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('generation', d.bigint, (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('tenant_revisions_pk', ['tenant_id', 'generation'])
        .execute();
      await sql`insert into tenant_revisions (tenant_id, generation, spec, actor, created_at)
        select id, generation, spec, 'lessor', updated_at from tenants`.execute(db);

      await db.schema
        .createTable('plans')
        .addColumn('name', d.keyText, (c) => c.primaryKey())
        .addColumn('revision', d.bigint, (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('plan_revisions')
        .addColumn('plan_name', d.keyText, (c) => c.notNull().references('plans.name').onDelete('cascade'))
        .addColumn('revision', d.bigint, (c) => c.notNull())
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('plan_revisions_pk', ['plan_name', 'revision'])
        .execute();

      await db.schema.alterTable('tenants').addColumn('plan_name', d.keyText).execute();
      await db.schema
        .createIndex('tenants_plan_name_id')
        .on('tenants')
        .columns(['plan_name', 'id'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('tenants_plan_name_id').execute();
      await db.schema.alterTable('tenants').dropColumn('plan_name').execute();
      await db.schema.dropTable('plan_revisions').execute();
      await db.schema.dropTable('plans').execute();
      await db.schema.dropTable('tenant_revisions').execute();
    },
  };
}
