/**
 * `server_secrets`: secrets that belong to the deployment rather than to a tenant — the key of the
 * keyed config hashes — stored sealed under the secrets key, so every replica that shares the
 * database and the secrets key shares them too, and a rotation of the secrets key re-seals them
 * without changing them (execution ids derive from config hashes). Never edit an applied
 * migration: add a new one.
 */
import type { Kysely, Migration } from 'kysely';
import type { SqlDialect } from '../dialect.js';

export function serverSecretsTable(dialect: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('server_secrets')
        .addColumn('name', dialect.keyText, (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('server_secrets').execute();
    },
  };
}
