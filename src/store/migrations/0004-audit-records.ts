/**
 * The audit trail (`audit_records`): who purged which tenant, when. A purge deletes the tenant and
 * everything that cascades from it, so the record has no foreign key to `tenants`; it is written in
 * the purge's transaction. The table is append-only — the database itself refuses UPDATE and DELETE
 * (`SqlDialect.forbidChangesTo`) — and retention never sweeps it.
 */
import type { Kysely, Migration } from 'kysely';
import type { SqlDialect } from '../dialect.js';

export function auditRecordsMigration(d: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('audit_records')
        .addColumn('id', d.keyText, (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_id', d.keyText, (c) => c.notNull())
        .addColumn('target_name', 'text', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull())
        .execute();
      await d.forbidChangesTo(db, 'audit_records');
    },
    async down(db: Kysely<unknown>) {
      await d.allowChangesTo(db, 'audit_records');
      await db.schema.dropTable('audit_records').execute();
    },
  };
}
