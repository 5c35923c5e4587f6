/**
 * PostgreSQL only: a run's held journal entries (src/domain/held-journal.ts) in the statement of a
 * step's first write — a tenant status change, a new compute execution (folded-writes.ts) — guarded
 * as a run's end is (folded-run-end.ts), one round trip and one WAL flush fewer than writing them
 * first on their own:
 *
 * - `held_guard` locks the run row while `leaseOwner` holds it and it is active;
 * - `journal` inserts the entries only then, each unless its (run_id, seq) is stored already;
 * - the write itself is made only when every entry was new (`journaledAll`).
 *
 * When the entries were not all written (the guard failed, or an entry was stored already), the
 * write was not made: the caller flushes the entries on their own (`HeldJournal.flush`, which
 * stops the execution when another owner wrote one) and makes the write again without them.
 */
import { sql, type RawBuilder } from 'kysely';
import type { HeldJournal } from '../domain/held-journal.js';
import { ACTIVE_RUN_STATES } from '../domain/workflow-run.js';
import { rowArgNames } from './row-arg-names.js';
import { STEP_COLUMNS, toRow } from './workflow-step-repository.js';

type Args = Readonly<Record<string, unknown>>;

/** The casts of a journal entry's columns in a VALUES list (PostgreSQL would type them as text). */
export const STEP_TYPES: Readonly<Record<(typeof STEP_COLUMNS)[number], string>> = {
  run_id: 'text',
  seq: 'integer',
  name: 'text',
  kind: 'text',
  status: 'text',
  result: 'text',
  error: 'text',
  started_at: 'text',
  finished_at: 'text',
  duration_ms: 'bigint',
};

/** `held_<column>_<i>` for each entry index. */
const heldArgNames = rowArgNames(STEP_COLUMNS, (c, i) => `held_${c}_${i}`);

const HELD_STATE_NAMES = ACTIVE_RUN_STATES.map((_, i) => `held_state_${i}`);

/**
 * Adds to `args` the arguments of the held entries (`held_<column>_<i>`), the run and its guard.
 * Into the caller's object: a statement's arguments are one object, not copies of several.
 */
export function addHeldJournalArgs(args: Record<string, unknown>, journal: HeldJournal): void {
  args['held_run_id'] = journal.runId;
  args['held_lease_owner'] = journal.leaseOwner;
  for (let i = 0; i < ACTIVE_RUN_STATES.length; i++) args[HELD_STATE_NAMES[i]!] = ACTIVE_RUN_STATES[i];
  const entries = journal.entries;
  for (let i = 0; i < entries.length; i++) {
    const row = toRow(entries[i]!);
    const names = heldArgNames(i);
    for (const column of STEP_COLUMNS) args[names[column]] = row[column];
  }
}

/** The CTEs `held_guard` and `journal` for `steps` entries (see the file comment); a trailing comma. */
export function heldJournalCtes(a: Args, steps: number): RawBuilder<unknown> {
  const columns = sql.join(STEP_COLUMNS.map((c) => sql.id(c)));
  const states = sql.join(ACTIVE_RUN_STATES.map((_, i) => sql`${a[`held_state_${i}`]}`));
  const tuples = Array.from(
    { length: steps },
    (_, i) =>
      sql`(${sql.join(STEP_COLUMNS.map((c) => sql`cast(${a[`held_${c}_${i}`]} as ${sql.raw(STEP_TYPES[c])})`))})`,
  );
  return sql`held_guard as (select run_id from workflow_runs where run_id = ${a['held_run_id']}
      and lease_owner = ${a['held_lease_owner']} and state in (${states}) for update),
    journal as (insert into workflow_steps (${columns})
      select * from (values ${sql.join(tuples)}) as v (${columns}) where exists (select 1 from held_guard)
      on conflict (run_id, seq) do nothing returning seq),`;
}

/** True when every one of `steps` entries was written (the condition of the write that carries them). */
export function journaledAll(steps: number): RawBuilder<boolean> {
  return sql<boolean>`(select count(*) from journal) = ${sql.lit(steps)}`;
}

/** How many entries `journal` wrote, as a select-list expression (0 without entries). */
export function journaledCount(steps: number): RawBuilder<number> {
  return steps > 0 ? sql<number>`(select count(*) from journal)` : sql<number>`0`;
}

/**
 * After the statement that carried `steps` held entries: true when it wrote them all (`journaled`),
 * which the journal is then told; false when there were entries and it did not.
 */
export function settleHeld(journal: HeldJournal | undefined, steps: number, journaled: unknown): boolean {
  if (!journal || steps === 0) return true;
  if (Number(journaled ?? 0) !== steps) return false;
  journal.carried();
  return true;
}
