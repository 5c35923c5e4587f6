/**
 * Less index and heap work per write, with the same reads served (docs/decisions.md, "PostgreSQL:
 * the server's own cost per create→ready").
 *
 * - The retention indexes of runs, executions and callbacks (0005-retention-indexes) become
 *   partial, over the rows whose settling time is set. A row is inserted with that time null and
 *   gets it once, when it settles, so every insert used to add an entry no sweep could ever read:
 *   the sweep's only read is `time < cutoff` (retention-repository.ts, `expiredRows`), a
 *   comparison that is never true of a null and that both engines take to imply `time is not
 *   null` — PostgreSQL by its predicate proof (a strict operator), SQLite by its documented rule
 *   for partial indexes (a comparison operator on the column) — so the sweep reads the same index
 *   range as before. Same index names, on both engines.
 * - PostgreSQL only: `tenants` keeps 30 % of each new page free (fillfactor 70), so an update that
 *   changes no indexed column (a status or version change within a phase) finds room for the new
 *   row version on its page and is a heap-only (HOT) update, writing none of the table's eight
 *   indexes. Pages written before keep their layout until rewritten. SQLite has no fillfactor.
 *
 * Never edit an applied migration: a later one replaces what this one made.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../dialect.js';

/** name → table, (time, id) columns, as 0005-retention-indexes made them. */
const SETTLED_INDEXES = {
  workflow_runs_finished_run: ['workflow_runs', 'finished_at', 'run_id'],
  compute_executions_finished_execution: ['compute_executions', 'finished_at', 'execution_id'],
  callbacks_delivered_id: ['callbacks', 'delivered_at', 'id'],
} as const;

const TENANTS_FILLFACTOR = 70;

export function leanWriteIndexes(dialect: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      for (const [name, [table, time, id]] of Object.entries(SETTLED_INDEXES)) {
        await db.schema.dropIndex(name).execute();
        await db.schema
          .createIndex(name)
          .on(table)
          .columns([time, id])
          .where(sql.ref(time), 'is not', null)
          .execute();
      }
      if (dialect.name === 'postgres') {
        await sql`alter table tenants set (fillfactor = ${sql.lit(TENANTS_FILLFACTOR)})`.execute(db);
      }
    },
    async down(db: Kysely<unknown>) {
      for (const [name, [table, time, id]] of Object.entries(SETTLED_INDEXES)) {
        await db.schema.dropIndex(name).execute();
        await db.schema.createIndex(name).on(table).columns([time, id]).execute();
      }
      if (dialect.name === 'postgres') await sql`alter table tenants reset (fillfactor)`.execute(db);
    },
  };
}
