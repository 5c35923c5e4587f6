/**
 * The embedded engine's `WorkflowContext`: each durable call takes the next seq, asks the (pure)
 * journal whether to replay or execute, and for new work writes as little as possible — one
 * `steps.record` per step; a wait that must block writes its deadline first, then the run state.
 *
 * Before new work the run row is made `running` (RunWriter.ensureRunning; lazily for a first
 * execution's first third of a lease), and after every wait, so a crashed run is due for takeover
 * as soon as its lease expires.
 */
import type { Logger } from '../../domain/logger.js';
import type { WorkflowStep } from '../../domain/workflow-run.js';
import type { PromiseOutcome, StepRunState, WorkflowContext } from '../context.js';
import {
  Journal,
  outcomeValue,
  stepEntry,
  waitStartedEntry,
  type DurableCall,
  type JournalDecision,
  type StepOutcome,
} from '../journal.js';
import { failedOnTheStore, serializeError, toJournalValue } from '../step-error.js';
import type { ContextServices } from './context-services.js';
import { ExecutionStopped, type RunHandle } from './run-handle.js';
import { PromiseWaiter } from './promise-waiter.js';

export class DurableContext implements WorkflowContext {
  private seq = 0;

  constructor(
    private readonly handle: RunHandle,
    private readonly journal: Journal,
    private readonly services: ContextServices,
    readonly log: Logger,
  ) {}

  get runId(): string {
    return this.handle.runId;
  }

  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const call = this.next(name, 'step');
    const decision = this.decide(call);
    if (decision.type === 'return') return decision.value as T;
    if (decision.type === 'throw') throw decision.error;
    await this.io(() => this.services.writer.ensureRunning(this.handle));
    const startedMs = this.now();
    const outcome = await this.io(() => runStep(fn));
    // A stale owner must not journal: another process may be replaying this run already.
    if (this.handle.stopReason === 'lease-lost') this.handle.checkpoint();
    this.throwIfClosed();
    const entry = stepEntry(this.runId, call, outcome, this.timing(startedMs));
    this.log.debug(
      { step: name, seq: call.seq, durationMs: entry.durationMs, outcome: entry.status },
      'step finished',
    );
    const stored =
      decision.type === 'execute' && decision.rerun
        ? await this.finishEntry(entry)
        : await this.record(entry);
    return this.replay<T>(stored);
  }

  async sleep(name: string, ms: number, options: { state?: StepRunState } = {}): Promise<void> {
    const call = this.next(name, 'sleep');
    let decision = this.decide(call);
    if (decision.type === 'sleep-done') return;
    if (decision.type === 'execute') {
      await this.io(() => this.services.writer.ensureRunning(this.handle));
      const startedMs = this.now();
      const wakeAt = startedMs + Math.max(0, ms);
      const entry =
        ms <= 0
          ? stepEntry(this.runId, call, { ok: true, value: { wakeAt } }, this.timing(startedMs))
          : waitStartedEntry(this.runId, call, wakeAt, new Date(startedMs).toISOString());
      decision = this.replayEntry(call, await this.record(entry));
      if (decision.type === 'sleep-done') return;
    }
    if (decision.type !== 'sleep-until')
      throw new Error(`unexpected journal decision ${decision.type} for a sleep`);
    await this.sleepUntil(decision.wakeAt, options.state ?? 'backing-off');
    await this.io(() => this.services.writer.ensureRunning(this.handle));
    const finishedAt = new Date(this.now()).toISOString();
    await this.io(() =>
      this.services.store.steps.finish(this.runId, call.seq, {
        status: 'completed',
        result: { wakeAt: decision.wakeAt },
        finishedAt,
        durationMs: Math.max(0, ms),
      }),
    );
  }

  async awaitPromise<T>(key: string, options: { timeoutMs: number }): Promise<PromiseOutcome<T>> {
    const call = this.next(key, 'promise');
    const decision = this.decide(call);
    if (decision.type === 'promise-settled') return decision.outcome as PromiseOutcome<T>;
    const startedMs = this.now();
    const waiter = new PromiseWaiter(this.handle, this.services, (fn) => this.io(fn));
    const journaled = decision.type === 'promise-wait' ? decision.deadline : null;
    const { outcome, started } = await waiter.wait(
      call,
      journaled,
      startedMs + Math.max(0, options.timeoutMs),
    );
    await this.io(() => this.services.writer.ensureRunning(this.handle));
    const entry = stepEntry(
      this.runId,
      call,
      { ok: true, value: outcomeValue(outcome) },
      this.timing(startedMs),
    );
    this.log.debug(
      { promise: key, seq: call.seq, resolved: outcome.resolved, durationMs: entry.durationMs },
      'promise settled',
    );
    const stored = started ? await this.finishEntry(entry) : await this.record(entry);
    const replayed = this.replayEntry(call, stored);
    return (replayed.type === 'promise-settled' ? replayed.outcome : outcome) as PromiseOutcome<T>;
  }

  private async sleepUntil(wakeAt: number, state: StepRunState): Promise<void> {
    const { writer, options, counter } = this.services;
    if (this.now() >= wakeAt) return;
    if (wakeAt - this.now() > options.maxInMemorySleepMs || counter.waiting >= options.maxConcurrentRuns) {
      await this.io(() => writer.suspend(this.handle, state, wakeAt));
      this.handle.stop('suspended');
      this.handle.checkpoint();
    }
    const release = this.handle.takeWaitSlot();
    try {
      if (this.handle.dbState !== state) await this.io(() => writer.markWaiting(this.handle, state, wakeAt));
      while (this.now() < wakeAt) {
        await this.handle.wait('sleep', wakeAt, this.now());
        this.handle.checkpoint();
      }
    } finally {
      release();
    }
  }

  private next(name: string, kind: DurableCall['kind']): DurableCall {
    this.handle.checkpoint();
    this.throwIfClosed();
    this.seq += 1;
    return { seq: this.seq, name, kind };
  }

  private decide(call: DurableCall): JournalDecision {
    return this.fatalOnNonDeterminism(() => this.journal.decide(call));
  }

  /** What an entry just stored (by us or, in a race, by another owner first) means for the call. */
  private replayEntry(call: DurableCall, stored: WorkflowStep): JournalDecision {
    return this.fatalOnNonDeterminism(() => new Journal(this.runId, [stored]).decide(call));
  }

  /** A journal that disagrees with the code fails the run, even if the code catches the error. */
  private fatalOnNonDeterminism(decide: () => JournalDecision): JournalDecision {
    try {
      return decide();
    } catch (error) {
      this.handle.fatal = error as Error;
      throw error;
    }
  }

  private replay<T>(stored: WorkflowStep): T {
    const decision = this.replayEntry({ seq: stored.seq, name: stored.name, kind: stored.kind }, stored);
    if (decision.type === 'throw') throw decision.error;
    return (decision.type === 'return' ? decision.value : null) as T;
  }

  private record(entry: WorkflowStep): Promise<WorkflowStep> {
    return this.io(() => this.services.store.steps.record(entry));
  }

  /** Completes an entry that was journaled `started` earlier (a wait, or a step from a start/finish writer). */
  private async finishEntry(entry: WorkflowStep): Promise<WorkflowStep> {
    const { status, result, error, finishedAt, durationMs } = entry;
    if (status === 'started' || finishedAt === null || durationMs === null)
      throw new Error('finishEntry needs a finished entry');
    await this.io(() =>
      this.services.store.steps.finish(this.runId, entry.seq, {
        status,
        result,
        error,
        finishedAt,
        durationMs,
      }),
    );
    return entry;
  }

  /** Store failures are not workflow errors: they stop the execution; the lease expires and the run is retried. */
  private async io<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      this.handle.thrownStop = true;
      if (error instanceof ExecutionStopped) throw error;
      this.log.error({ err: error }, 'workflow store call failed; the run resumes when its lease expires');
      this.handle.stop('store-error');
      throw new ExecutionStopped('store-error');
    }
  }

  private throwIfClosed(): void {
    if (!this.services.closed()) return;
    this.handle.stop('closing');
    this.handle.checkpoint();
  }

  private now(): number {
    return this.services.options.now();
  }

  private timing(startedMs: number): { startedAt: string; finishedAt: string; durationMs: number } {
    const finishedMs = this.now();
    return {
      startedAt: new Date(startedMs).toISOString(),
      finishedAt: new Date(finishedMs).toISOString(),
      durationMs: finishedMs - startedMs,
    };
  }
}

/** The step's outcome to journal; a failure on the store is thrown instead (see `failedOnTheStore`). */
async function runStep(fn: () => Promise<unknown>): Promise<StepOutcome> {
  try {
    return { ok: true, value: toJournalValue(await fn()) };
  } catch (error) {
    if (failedOnTheStore(error)) throw error;
    return { ok: false, error: serializeError(error) };
  }
}
