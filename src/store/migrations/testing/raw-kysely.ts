/**
 * What the migration tests need to write rows as an older schema held them: a Kysely over a test
 * database with no schema types and none of the store's plugins, and the migrator stopped at a
 * named migration.
 */
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { SqlDialect } from '../../dialect.js';
import type { TestDatabase } from '../../testing/test-databases.js';
import { migrations } from '../index.js';

export function rawKysely(db: TestDatabase, dialect: SqlDialect): Kysely<unknown> {
  if (dialect.name === 'sqlite') {
    const database = new BetterSqlite3(db.url.slice('sqlite:'.length));
    database.pragma('foreign_keys = ON');
    return new Kysely({ dialect: new SqliteDialect({ database }) });
  }
  return new Kysely({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: db.url, max: 1 }) }),
  });
}

/** Runs the migrations up to and including `name`, and no further. */
export async function migrateTo(raw: Kysely<unknown>, dialect: SqlDialect, name: string): Promise<void> {
  const provider = { getMigrations: async () => migrations(dialect) };
  const { error } = await new Migrator({ db: raw, provider }).migrateTo(name);
  assert.ifError(error);
}
