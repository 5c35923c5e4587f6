/**
 * A partial index over the tenants a resync pass must look at (a working phase, or a spec newer
 * than the one observed), so a pass over a settled fleet reads the index's few entries instead of
 * scanning every tenant. Never edit an applied migration: a later one replaces the index.
 */
import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The index's predicate. Queries must state it in exactly this text: SQLite uses a partial index
 * only when the query's WHERE contains the index's terms as written (literals, not parameters).
 */
export const UNSETTLED_TENANTS = sql.raw(
  "archived = 0 and (phase not in ('ready', 'failed', 'archived') or generation > observed_generation)",
);

export const unsettledTenantsIndex: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`create index tenants_unsettled on tenants (id) where ${UNSETTLED_TENANTS}`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    await sql`drop index tenants_unsettled`.execute(db);
  },
};
