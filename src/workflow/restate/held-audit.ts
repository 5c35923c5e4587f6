/**
 * The audit entries of a run's finished steps (journal layout 6, restate-context.ts), held in memory
 * until a write the run makes anyway carries them — a wait's showing, the completed entry of a wait
 * that was not shown, the run's end (run-recorder.ts) — instead of one insert each.
 *
 * Holding loses nothing durable: Restate's journal is authoritative, and with layout 6 a step's
 * journaled outcome carries its timing, so the context builds the entry after its `ctx.run` on a
 * first execution and a replay alike. An attempt that ends with entries held (a crash, a lost
 * connection, a move to another process) leaves them to the replay, which holds the same entries
 * again; entries are write-once per (runId, seq) and the same whoever builds them, so a replay that
 * writes them again changes nothing.
 *
 * How long one is invisible to the API is bounded: entries held for `SHOW_WAIT_AFTER_MS` — a long
 * step after them, with no write to carry them — are written on their own from a timer, as a wait
 * shows after as long (late-wait.ts); so are entries held when the attempt ends. Both writes are
 * best effort (`write` reports its own failure): the replay of a later attempt makes them again.
 */
import type { WorkflowStep } from '../../domain/workflow-run.js';
import { SHOW_WAIT_AFTER_MS } from '../run-records.js';

export class HeldAuditEntries {
  private entries: WorkflowStep[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly write: (entries: readonly WorkflowStep[]) => Promise<void>,
    attempt?: AbortSignal,
  ) {
    attempt?.addEventListener('abort', () => this.writeNow(), { once: true });
  }

  get size(): number {
    return this.entries.length;
  }

  /** Holds a finished step's entry (in seq order), until a write carries it or the bound passes. */
  hold(entry: WorkflowStep): void {
    this.entries.push(entry);
    if (this.timer !== null) return;
    this.timer = setTimeout(() => this.writeNow(), SHOW_WAIT_AFTER_MS);
    this.timer.unref();
  }

  /** The held entries, for a write that carries them; none are held after. */
  take(): readonly WorkflowStep[] {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const entries = this.entries;
    this.entries = [];
    return entries;
  }

  /** Holds again entries a write took but did not make (it failed, or its guard refused). */
  restore(entries: readonly WorkflowStep[]): void {
    if (entries.length === 0) return;
    const later = this.take();
    for (const entry of [...entries, ...later]) this.hold(entry);
  }

  private writeNow(): void {
    const entries = this.take();
    if (entries.length > 0) void this.write(entries);
  }
}
