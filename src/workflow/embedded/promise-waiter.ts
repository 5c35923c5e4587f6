/**
 * One `awaitPromise` that found no journaled outcome: look for an early resolution, journal the
 * deadline, then wait in memory (woken by `RunHandle.signal`) or, past the engine's limit of
 * waiting coroutines, suspend the run in the database until the deadline or a resolution.
 *
 * A new wait journals its deadline only once it has lasted `JOURNAL_WAIT_AFTER_MS` (or at once
 * when it must suspend): a resolution that arrives sooner — a prompt callback — is journaled as a
 * finished entry with the next write, as an early one is, which saves the `started` entry and its
 * finish (docs/architecture.md, "The write path in statements"). Until the deadline is journaled
 * the entries held back before the wait stay unwritten too, and a crash replays the wait with a
 * new deadline: at most `JOURNAL_WAIT_AFTER_MS` later than the lost one, plus the takeover, and no
 * step has acted on anything that was lost (ExecutionScope.defer).
 */
import type { PromiseOutcome } from '../context.js';
import { Journal, waitStartedEntry, type DurableCall } from '../journal.js';
import type { ExecutionScope } from './context-services.js';
import { RunWaits } from './run-waits.js';

export class PromiseWaiter {
  private readonly waits: RunWaits;

  constructor(private readonly scope: ExecutionScope) {
    this.waits = new RunWaits(scope);
  }

  /**
   * Waits for the promise `call.name` until `journaledDeadline` (a wait resumed after a restart) or
   * `newDeadline`. `started` says whether a `started` entry exists for the call (it is then
   * finished rather than recorded).
   */
  async wait(
    call: DurableCall,
    journaledDeadline: number | null,
    newDeadline: number,
  ): Promise<{ outcome: PromiseOutcome<unknown>; started: boolean }> {
    this.scope.handle.armSignal();
    const early = await this.read(call.name);
    if (early) return { outcome: early, started: journaledDeadline !== null };
    if (journaledDeadline === null && newDeadline <= this.scope.now())
      return { outcome: { resolved: false }, started: false };
    if (journaledDeadline === null && !this.waits.full) {
      const prompt = await this.awaitPrompt(call.name, newDeadline);
      if (prompt) return { outcome: prompt, started: false };
    }
    const deadline = journaledDeadline ?? (await this.journalDeadline(call, newDeadline));
    return { outcome: await this.block(call.name, deadline), started: true };
  }

  /**
   * Waits in memory, journaling nothing, for a resolution that comes within
   * `JOURNAL_WAIT_AFTER_MS`; the outcome when the wait ends in that time (a resolution, or the
   * deadline of a short wait), else undefined.
   */
  private async awaitPrompt(key: string, deadline: number): Promise<PromiseOutcome<unknown> | undefined> {
    const until = Math.min(deadline, this.scope.now() + JOURNAL_WAIT_AFTER_MS);
    const outcome = await this.waits.inMemoryShownLate('waiting', deadline, () =>
      this.waitInMemory(key, until),
    );
    return outcome.resolved || until === deadline ? outcome : undefined;
  }

  private async block(key: string, deadline: number): Promise<PromiseOutcome<unknown>> {
    if (this.scope.now() < deadline && this.waits.full)
      await this.waits.suspend('waiting', deadline, async () => (await this.read(key)) !== undefined);
    return this.waits.inMemoryShownLate('waiting', deadline, () => this.waitInMemory(key, deadline));
  }

  private async waitInMemory(key: string, deadline: number): Promise<PromiseOutcome<unknown>> {
    const { handle, services } = this.scope;
    for (;;) {
      if (this.scope.now() >= deadline) return (await this.read(key)) ?? { resolved: false };
      const reason = await handle.wait('promise', deadline, this.scope.now());
      handle.checkpoint();
      if (reason === 'timer') continue;
      if (reason === 'signal') handle.armSignal();
      const found = await this.read(key);
      if (found) return found;
      // A wake-up without a resolution may mean the run was cancelled or taken over elsewhere.
      if (reason === 'signal') {
        await this.scope.io(() => services.writer.confirmOwnership(handle));
        handle.checkpoint();
      }
    }
  }

  /** Journals the deadline so a restart keeps it; another owner's entry wins a race. */
  private async journalDeadline(call: DurableCall, deadline: number): Promise<number> {
    const { handle, services } = this.scope;
    await this.scope.io(() => services.writer.ensureRunning(handle));
    const entry = waitStartedEntry(handle.runId, call, deadline, new Date(this.scope.now()).toISOString());
    const stored = await this.scope.io(() => this.scope.journal(entry));
    const decision = new Journal(handle.runId, [stored]).decide(call);
    if (decision.type !== 'promise-wait') throw handle.interrupt('lease-lost');
    return decision.deadline;
  }

  /** The resolution handed over in memory (RunHandle.deliver), else the stored one, if any. */
  private async read(key: string): Promise<PromiseOutcome<unknown> | undefined> {
    const { handle, services } = this.scope;
    const delivered = handle.delivery(key);
    if (delivered) return { resolved: true, value: delivered.value };
    const found = await this.scope.io(() => services.steps.getPromise(handle.runId, key));
    return found && { resolved: true, value: found.value };
  }
}

/** How long a new promise wait goes unjournaled, for a prompt resolution (see the file comment). */
export const JOURNAL_WAIT_AFTER_MS = 200;
