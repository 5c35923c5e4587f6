/**
 * Counts the steps executing in this process (from the call until Restate acknowledged the
 * journaled result, or the invocation attempt ended), so that `close(graceMs)` can wait for them
 * before cutting the connections.
 */
export class StepTracker {
  private count = 0;
  private waiters: (() => void)[] = [];

  get inFlight(): number {
    return this.count;
  }

  /**
   * Counts one step until the returned function is called (idempotent) or `attempt` aborts — an
   * attempt that ends (suspension, lost connection) leaves its promises pending for ever.
   */
  enter(attempt?: AbortSignal): () => void {
    this.count += 1;
    let done = false;
    const exit = (): void => {
      if (done) return;
      done = true;
      attempt?.removeEventListener('abort', exit);
      this.exit();
    };
    if (attempt?.aborted) exit();
    else attempt?.addEventListener('abort', exit, { once: true });
    return exit;
  }

  private exit(): void {
    this.count = Math.max(0, this.count - 1);
    if (this.count > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves when no step is in flight, or after `timeoutMs`, whichever comes first. */
  async drained(timeoutMs: number): Promise<void> {
    if (this.count === 0 || timeoutMs <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      timer = setTimeout(resolve, timeoutMs);
    });
    clearTimeout(timer);
  }
}
