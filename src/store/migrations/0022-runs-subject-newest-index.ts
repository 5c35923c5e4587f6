/**
 * A subject's newest runs are read in index order (docs/decisions.md, "A subject's newest runs:
 * the index carries the run id").
 *
 * Every reader of a subject's runs orders by `created_at desc, run_id desc`: `listBySubject`
 * (workflow-run-repository.ts, `bySubject`) on every reconcile, PostgreSQL's combined tenant-and-runs
 * read (tenant-with-runs.ts), and retention's newest-run-per-workflow lookup
 * (retention-repository.ts). 0008's `(subject, created_at)` gives the first key only, so SQLite
 * sorted the subject's rows in a temporary B-tree and PostgreSQL added an (incremental) Sort.
 * `(subject, created_at, run_id)` gives the whole order: both engines walk the index backwards and
 * stop at the limit. A purge's `delete … where subject = ?` uses the leading column as before.
 *
 * A new name, `workflow_runs_subject_created_run` (the columns, as the other indexes are named):
 * `up` builds it before dropping 0008's, so no statement in between finds the runs without a
 * subject index, and a plan names which of the two it used. `down` puts 0008's back.
 *
 * Never edit an applied migration: a later one replaces what this one made.
 */
import type { Kysely, Migration } from 'kysely';

const OLD = { name: 'workflow_runs_subject_created', columns: ['subject', 'created_at'] } as const;
const NEW = {
  name: 'workflow_runs_subject_created_run',
  columns: ['subject', 'created_at', 'run_id'],
} as const;

async function replace(db: Kysely<unknown>, from: typeof OLD | typeof NEW, to: typeof OLD | typeof NEW) {
  await db.schema
    .createIndex(to.name)
    .on('workflow_runs')
    .columns([...to.columns])
    .execute();
  await db.schema.dropIndex(from.name).execute();
}

export const runsSubjectNewestIndex: Migration = {
  up: (db) => replace(db, OLD, NEW),
  down: (db) => replace(db, NEW, OLD),
};
