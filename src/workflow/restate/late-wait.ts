/**
 * A wait a step declared (restate-context.ts, layout 5) shows on Lessor's run row — the run's wait
 * state and the wait's `started` audit entry — only once it has lasted `SHOW_WAIT_AFTER_MS`
 * (run-records.ts), as the embedded engine's waits do: a wait that ends sooner (a prompt callback)
 * leaves the row `running` and is journaled as one completed entry with the next durable call
 * (docs/architecture.md, "The write path in statements"). The write that shows it is made outside
 * Restate's journal, from a timer; it is guarded and idempotent (run-recorder.ts), so a replay that
 * makes it again, or makes it late, changes nothing.
 */
import { SHOW_WAIT_AFTER_MS } from '../run-records.js';

/** What became of the wait's showing once the wait ended. */
export type WaitShowing = 'hidden' | 'shown' | 'inactive';

type ShowResult = { readonly active: boolean } | { readonly error: unknown };

export class LateWaitShow {
  private timer: NodeJS.Timeout | null;
  private shown: Promise<ShowResult> | null = null;

  /**
   * Shows the wait (`show`: false when the run is no longer active) once `startedMs +
   * SHOW_WAIT_AFTER_MS` has passed — at once on a replay of a wait that began long ago — or when
   * `attempt` ends first: an attempt ends in a wait that has not ended only while it is still
   * waiting (Restate suspended it, or the connection was lost), and no timer of a finished attempt
   * may fire after its replay has moved on.
   */
  constructor(
    startedMs: number,
    now: number,
    private readonly show: () => Promise<boolean>,
    attempt?: AbortSignal,
  ) {
    const delay = Math.max(0, startedMs + SHOW_WAIT_AFTER_MS - now);
    this.timer = setTimeout(() => this.showNow(), delay);
    this.timer.unref();
    attempt?.addEventListener('abort', () => this.showNow(), { once: true });
  }

  /**
   * The wait ended: no showing starts any more. `hidden` when it was never shown, `shown` when it
   * was (the run then goes back to `running`), `inactive` when showing found the run no longer
   * active. Throws the store's failure of a showing.
   */
  async settle(): Promise<WaitShowing> {
    this.cancel();
    if (this.shown === null) return 'hidden';
    const result = await this.shown;
    if ('error' in result) throw result.error;
    return result.active ? 'shown' : 'inactive';
  }

  /** The wait ended otherwise (the attempt failed): no showing starts any more. */
  cancel(): void {
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.timer = null;
  }

  private showNow(): void {
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.shown = this.show().then(
      (active) => ({ active }),
      (error: unknown) => ({ error }),
    );
  }
}
