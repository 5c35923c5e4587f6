/**
 * The one-row table the readiness probe writes (`Store.probeWrite`): a read cannot tell a full disk
 * or a read-only file from a healthy one, an upsert of this row can. Self-contained (no dialect
 * types): an integer key and a text timestamp mean the same on both engines.
 */
import type { Kysely, Migration } from 'kysely';

export const healthProbe: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('health_probe')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('written_at', 'text', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('health_probe').execute();
  },
};
