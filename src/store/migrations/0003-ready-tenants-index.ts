/**
 * A covering partial index for the controller's drift pass, which pages through every ready,
 * unpaused tenant once a minute: the pass reads the index alone (an index-only scan), never the
 * tenant rows with their spec and status documents — at 100 000 tenants that is 60 ms of SQLite
 * instead of 0.3–0.4 s. It leads with `phase` so that SQLite, which has no statistics, prefers it
 * to `tenants_phase_id` for `phase = ? and id > ?` (same terms, but covering). Never edit an
 * applied migration: a later one replaces the index.
 */
import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The index's predicate, stated by queries in exactly this text (SQLite uses a partial index only
 * when the query's WHERE contains the index's terms as written: literals, not parameters).
 */
export const LIVE_UNPAUSED_TENANTS = sql.raw('archived = 0 and paused = 0');

/** Every column a drift pass reads, so the pass reads the index alone. */
const COLUMNS = sql.raw('phase, id, provider');

export const readyTenantsIndex: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`create index tenants_live_unpaused_phase on tenants (${COLUMNS}) where ${LIVE_UNPAUSED_TENANTS}`.execute(
      db,
    );
  },
  async down(db: Kysely<unknown>) {
    await sql`drop index tenants_live_unpaused_phase`.execute(db);
  },
};
