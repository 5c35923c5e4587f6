/**
 * One `awaitPromise` that found no journaled outcome: look for an early resolution, journal the
 * deadline, then wait in memory (woken by `RunHandle.signal`) or, past the engine's limit of
 * waiting coroutines, suspend the run in the database until the deadline or a resolution.
 */
import { ACTIVE_RUN_STATES, isRunActive } from '../../domain/workflow-run.js';
import type { PromiseOutcome } from '../context.js';
import { Journal, waitStartedEntry, type DurableCall } from '../journal.js';
import type { ContextServices } from './context-services.js';
import { ExecutionStopped, type RunHandle } from './run-handle.js';

type Io = <T>(fn: () => Promise<T>) => Promise<T>;

export class PromiseWaiter {
  constructor(
    private readonly handle: RunHandle,
    private readonly services: ContextServices,
    private readonly io: Io,
  ) {}

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
    this.handle.armSignal();
    const early = await this.read(call.name);
    if (early) return { outcome: early, started: journaledDeadline !== null };
    if (journaledDeadline === null && newDeadline <= this.now())
      return { outcome: { resolved: false }, started: false };
    const deadline = journaledDeadline ?? (await this.journalDeadline(call, newDeadline));
    return { outcome: await this.block(call.name, deadline), started: true };
  }

  private async block(key: string, deadline: number): Promise<PromiseOutcome<unknown>> {
    const { options, counter } = this.services;
    if (this.now() < deadline && counter.waiting >= options.maxConcurrentRuns)
      await this.suspend(key, deadline);
    const release = this.handle.takeWaitSlot();
    try {
      return await this.waitInMemory(key, deadline);
    } finally {
      release();
    }
  }

  private async waitInMemory(key: string, deadline: number): Promise<PromiseOutcome<unknown>> {
    if (this.handle.dbState !== 'waiting')
      await this.io(() => this.services.writer.markWaiting(this.handle, 'waiting', deadline));
    for (;;) {
      if (this.now() >= deadline) return (await this.read(key)) ?? { resolved: false };
      const reason = await this.handle.wait('promise', deadline, this.now());
      this.handle.checkpoint();
      if (reason === 'timer') continue;
      if (reason === 'signal') this.handle.armSignal();
      const found = await this.read(key);
      if (found) return found;
      if (reason === 'signal') await this.confirmOwnership();
    }
  }

  /** Journals the deadline so a restart keeps it; another owner's entry wins a race. */
  private async journalDeadline(call: DurableCall, deadline: number): Promise<number> {
    await this.io(() => this.services.writer.ensureRunning(this.handle));
    const entry = waitStartedEntry(this.handle.runId, call, deadline, new Date(this.now()).toISOString());
    const stored = await this.io(() => this.services.store.steps.record(entry));
    const decision = new Journal(this.handle.runId, [stored]).decide(call);
    if (decision.type !== 'promise-wait') {
      this.handle.stop('lease-lost');
      throw new ExecutionStopped('lease-lost');
    }
    return decision.deadline;
  }

  /** Releases the run; a resolution that raced the release makes it due at once. Always throws. */
  private async suspend(key: string, deadline: number): Promise<never> {
    const { writer, store } = this.services;
    await this.io(() => writer.suspend(this.handle, 'waiting', deadline));
    this.handle.stop('suspended');
    if (await this.read(key)) {
      await this.io(() =>
        store.runs.update(this.handle.runId, { wakeAt: this.now() }, { expectedStates: ACTIVE_RUN_STATES }),
      );
      this.services.kick();
    }
    this.handle.checkpoint();
    throw new ExecutionStopped('suspended');
  }

  /** A wake-up without a resolution may mean the run was cancelled or taken over elsewhere. */
  private async confirmOwnership(): Promise<void> {
    const run = await this.io(() => this.services.store.runs.get(this.handle.runId));
    if (run?.state === 'cancelled') this.handle.cancel();
    else if (!run || !isRunActive(run.state) || run.leaseOwner !== this.services.ownerId)
      this.handle.stop('lease-lost');
    this.handle.checkpoint();
  }

  private async read(key: string): Promise<PromiseOutcome<unknown> | undefined> {
    const found = await this.io(() => this.services.store.steps.getPromise(this.handle.runId, key));
    return found && { resolved: true, value: found.value };
  }

  private now(): number {
    return this.services.options.now();
  }
}
