/**
 * How an embedded run waits (a sleep, a promise): in memory, holding one of the engine's wait
 * slots and its lease, or — past the engine's limits — suspended in the database, released until
 * its wake time. `suspend` is the one way a run leaves memory to wait.
 */
import type { StepRunState } from '../context.js';
import { SHOW_WAIT_AFTER_MS } from '../run-records.js';
import type { ExecutionScope } from './context-services.js';

export class RunWaits {
  constructor(private readonly scope: ExecutionScope) {}

  /** Whether the engine holds as many waits in memory as it may. */
  get full(): boolean {
    const { counter, options } = this.scope.services;
    return counter.waiting >= options.maxConcurrentRuns;
  }

  /**
   * Releases the run to wait in the database until `until`, and unwinds the execution (always
   * throws). `raced` says whether what the wait is for arrived while the run was being released
   * (a promise resolved meanwhile): then the run is made due at once, for whoever claims it.
   */
  async suspend(state: StepRunState, until: number, raced?: () => Promise<boolean>): Promise<never> {
    const { handle, services } = this.scope;
    // Whoever claims the run next replays the journal: it must hold everything done so far.
    await this.scope.io(() => this.scope.flushJournal());
    await this.scope.io(() => services.writer.suspend(handle, state, until));
    handle.stop('suspended');
    if (raced && (await raced())) {
      await this.scope.io(() => services.writer.makeDue(handle.runId));
      services.kick();
    }
    throw handle.interrupt('suspended');
  }

  /** Waits in memory (`wait`) while the row shows `state` with `until` as its wake time. */
  async inMemory<T>(state: StepRunState, until: number, wait: () => Promise<T>): Promise<T> {
    const { handle, services } = this.scope;
    const release = handle.takeWaitSlot();
    try {
      if (handle.shownState !== state)
        await this.scope.io(() => services.writer.markWaiting(handle, state, until));
      return await wait();
    } finally {
      release();
    }
  }

  /**
   * Like `inMemory`, but the row is made to show `state` only once the wait has lasted
   * `SHOW_WAIT_AFTER_MS`: a wait that ends sooner (a callback that arrives promptly) writes nothing
   * to the run row, and the row keeps showing what it showed — `pending` or `running`, both of which
   * a takeover treats as mid-work (RunHandle.begin), so a crash during the wait is recovered as
   * during a step. For waits nobody is told of (the observer reports no `waiting`).
   */
  async inMemoryShownLate<T>(state: StepRunState, until: number, wait: () => Promise<T>): Promise<T> {
    const { handle, services } = this.scope;
    if (handle.shownState === state) return this.inMemory(state, until, wait);
    const release = handle.takeWaitSlot();
    let shown: Promise<void> | undefined;
    const timer = setTimeout(() => {
      // A failure has stopped the handle already (lease lost, store error), which ends the wait.
      shown = this.scope.io(() => services.writer.markWaiting(handle, state, until)).catch(() => {});
    }, SHOW_WAIT_AFTER_MS);
    try {
      return await wait();
    } finally {
      clearTimeout(timer);
      release();
      if (shown) {
        await shown;
        handle.checkpoint();
      }
    }
  }
}
