/**
 * Indexes for the retention sweep (retention-repository.ts): each swept table is read in the order
 * of the time that settles its rows, so a pass reads only the index range of rows older than the
 * retention window — nothing at all when none is — however many tenants there are. The id after
 * the time makes the order total, so a pass can resume after the last row it examined. Never edit
 * an applied migration: a later one replaces an index.
 */
import type { Kysely, Migration } from 'kysely';

/** name → table and (time, id) columns. */
const INDEXES = {
  tenant_events_at_seq: ['tenant_events', ['at', 'seq']],
  workflow_runs_finished_run: ['workflow_runs', ['finished_at', 'run_id']],
  compute_executions_finished_execution: ['compute_executions', ['finished_at', 'execution_id']],
  callbacks_delivered_id: ['callbacks', ['delivered_at', 'id']],
} as const;

export const retentionIndexes: Migration = {
  async up(db: Kysely<unknown>) {
    for (const [name, [table, columns]] of Object.entries(INDEXES)) {
      await db.schema
        .createIndex(name)
        .on(table)
        .columns([...columns])
        .execute();
    }
  },
  async down(db: Kysely<unknown>) {
    for (const name of Object.keys(INDEXES)) await db.schema.dropIndex(name).execute();
  },
};
