/**
 * Journal entries a workflow engine holds back, handed to a step's function so that the step's
 * first write to Lessor's store carries them (docs/architecture.md, "The write path in
 * statements"). The embedded engine holds a finished step's entry until its run next acts on the
 * world; a write that carries the entries makes them durable in the same statement as that act.
 *
 * Every write given a `HeldJournal` either carries its entries — written only while the run is
 * still held by `leaseOwner` and active, and only when every entry is new, the write itself then
 * made under the same condition — or, when it cannot (another database, another path, a guard that
 * failed), calls `flush` first, which writes them on their own as before any step.
 */
import type { WorkflowStep } from './workflow-run.js';

export interface HeldJournal {
  readonly runId: string;
  /** The lease owner that must still hold the run for a write to carry the entries. */
  readonly leaseOwner: string;
  /** The entries still held, oldest first; empty once written. */
  readonly entries: readonly WorkflowStep[];
  /** A write carried `entries` (each new, the run still held): they are journaled. */
  carried(): void;
  /** Writes the entries on their own, before a write that does not carry them. */
  flush(): Promise<void>;
}

/** Writes the held entries on their own, if there are any. */
export async function flushHeld(journal: HeldJournal | undefined): Promise<void> {
  if (journal && journal.entries.length > 0) await journal.flush();
}
