/**
 * The embedded engine's `WorkflowContext`: each durable call takes the next seq, asks the (pure)
 * journal whether to replay or execute, and for new work writes as little as possible — at most one
 * journal statement per step, held back until the next step's function runs (or the run ends) and
 * written with whatever is written then (ExecutionScope.defer) — where the store can, in that
 * function's first write (StepOptions.journalsWithFirstWrite), or later still after a read-only step; a wait
 * that must block writes its deadline first (a promise wait shows its state on the run row only
 * when it lasts).
 *
 * Before new work the run row is made `running` (RunWriter.ensureRunning; lazily for a first
 * execution's first third of a lease), and after every wait, so a crashed run is due for takeover
 * as soon as its lease expires.
 */
import type { Logger } from '../../domain/logger.js';
import type { TraceContext } from '../../domain/tracing.js';
import type { WorkflowStep } from '../../domain/workflow-run.js';
import type { HeldJournal } from '../../domain/held-journal.js';
import type {
  JournalChange,
  PromiseOutcome,
  StepOptions,
  StepRunState,
  WorkflowContext,
} from '../context.js';
import {
  Journal,
  outcomeValue,
  stepEntry,
  waitStartedEntry,
  type DurableCall,
  type JournalDecision,
} from '../journal.js';
import { executeStep, timing } from '../step-runner.js';
import type { ExecutionScope } from './context-services.js';
import { PromiseWaiter } from './promise-waiter.js';
import { RunWaits } from './run-waits.js';

export class DurableContext implements WorkflowContext {
  private seq = 0;
  private readonly waits: RunWaits;

  constructor(
    private readonly scope: ExecutionScope,
    private readonly journal: Journal,
  ) {
    this.waits = new RunWaits(scope);
  }

  get runId(): string {
    return this.scope.runId;
  }

  get log(): Logger {
    return this.scope.log;
  }

  /** Whether the store writes held entries with a step's first write (held-journal.ts). */
  private get carries(): boolean {
    return this.scope.services.steps.carriesHeldEntries === true;
  }

  /** Told by the journal as loaded when the run (re)started: its first entry's name. */
  begunBefore(change: JournalChange): boolean {
    return this.journal.begunWith(change.formerFirstCall);
  }

  async step<T>(
    name: string,
    fn: (trace: TraceContext, journal?: HeldJournal) => Promise<T>,
    options: StepOptions<T> = {},
  ): Promise<T> {
    const call = this.next(name, 'step');
    const decision = this.decide(call);
    if (decision.type === 'return') return decision.value as T;
    if (decision.type === 'throw') throw decision.error;
    await this.ensureRunning();
    // The function acts on the world: what the run did before it must be journaled first — now,
    // or by the function's first write (StepOptions.journalsWithFirstWrite). A read-only function
    // acts on nothing: the entries stay held for a later write to carry. Both only where the store
    // carries held entries (Lessor's store, on both databases); elsewhere they are written here,
    // as before every step.
    const journal = options.journalsWithFirstWrite && this.carries ? this.scope.heldJournal() : undefined;
    const keepHeld = journal !== undefined || (options.readOnly === true && this.carries);
    if (!keepHeld) await this.scope.io(() => this.scope.flushJournal());
    const run = (trace: TraceContext) => fn(trace, journal);
    const { entry } = await this.scope.io(() => executeStep(this.runId, call, run, this.scope));
    // A flush of the held entries inside the function stopped the execution.
    if (journal?.failed) this.scope.handle.checkpoint();
    // A stale owner must not journal: another process may be replaying this run already.
    this.checkpointAfterWork();
    if (decision.type === 'execute' && decision.rerun) return this.replay<T>(await this.finishEntry(entry));
    this.scope.defer(entry);
    return this.replay<T>(entry);
  }

  async sleep(name: string, ms: number, options: { state?: StepRunState } = {}): Promise<void> {
    const call = this.next(name, 'sleep');
    let decision = this.decide(call);
    if (decision.type === 'sleep-done') return;
    if (decision.type === 'execute') {
      await this.ensureRunning();
      const startedMs = this.scope.now();
      const wakeAt = startedMs + Math.max(0, ms);
      const entry =
        ms <= 0
          ? stepEntry(this.runId, call, { ok: true, value: { wakeAt } }, timing(startedMs, this.scope.now()))
          : waitStartedEntry(this.runId, call, wakeAt, new Date(startedMs).toISOString());
      decision = this.replayEntry(call, await this.record(entry));
      if (decision.type === 'sleep-done') return;
    }
    if (decision.type !== 'sleep-until')
      throw new Error(`unexpected journal decision ${decision.type} for a sleep`);
    await this.sleepUntil(decision.wakeAt, options.state ?? 'backing-off');
    await this.ensureRunning();
    const finishedAt = new Date(this.scope.now()).toISOString();
    const result = { wakeAt: decision.wakeAt };
    const finished = { status: 'completed' as const, result, finishedAt, durationMs: Math.max(0, ms) };
    await this.scope.io(() => this.scope.services.steps.finish(this.runId, call.seq, finished));
  }

  async awaitPromise<T>(key: string, options: { timeoutMs: number }): Promise<PromiseOutcome<T>> {
    const call = this.next(key, 'promise');
    const decision = this.decide(call);
    if (decision.type === 'promise-settled') return decision.outcome as PromiseOutcome<T>;
    const startedMs = this.scope.now();
    const journaled = decision.type === 'promise-wait' ? decision.deadline : null;
    const deadline = startedMs + Math.max(0, options.timeoutMs);
    const { outcome, started } = await new PromiseWaiter(this.scope).wait(call, journaled, deadline);
    await this.ensureRunning();
    const value = outcomeValue(outcome);
    const entry = stepEntry(this.runId, call, { ok: true, value }, timing(startedMs, this.scope.now()));
    this.log.debug(
      { promise: key, seq: call.seq, resolved: outcome.resolved, durationMs: entry.durationMs },
      'promise settled',
    );
    if (started) await this.finishEntry(entry);
    else this.scope.defer(entry);
    const replayed = this.replayEntry(call, entry);
    return (replayed.type === 'promise-settled' ? replayed.outcome : outcome) as PromiseOutcome<T>;
  }

  private async sleepUntil(wakeAt: number, state: StepRunState): Promise<void> {
    const { handle, services } = this.scope;
    if (this.scope.now() >= wakeAt) return;
    if (wakeAt - this.scope.now() > services.options.maxInMemorySleepMs || this.waits.full)
      await this.waits.suspend(state, wakeAt);
    await this.waits.inMemory(state, wakeAt, async () => {
      while (this.scope.now() < wakeAt) {
        await handle.wait('sleep', wakeAt, this.scope.now());
        handle.checkpoint();
      }
    });
  }

  private next(name: string, kind: DurableCall['kind']): DurableCall {
    this.scope.handle.checkpoint();
    this.scope.throwIfClosed();
    this.seq += 1;
    return { seq: this.seq, name, kind };
  }

  /** After a step ran: a lost lease or a closed engine means its result must not be journaled. */
  private checkpointAfterWork(): void {
    const ending = this.scope.handle.termination;
    if (ending.kind === 'stopped' && ending.reason === 'lease-lost') this.scope.handle.checkpoint();
    this.scope.throwIfClosed();
  }

  private ensureRunning(): Promise<void> {
    return this.scope.io(() => this.scope.services.writer.ensureRunning(this.scope.handle));
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
      throw this.scope.handle.fail(error as Error);
    }
  }

  private replay<T>(stored: WorkflowStep): T {
    const decision = this.replayEntry({ seq: stored.seq, name: stored.name, kind: stored.kind }, stored);
    if (decision.type === 'throw') throw decision.error;
    return (decision.type === 'return' ? decision.value : null) as T;
  }

  /** Journals `entry` now, with the entries held back before it. */
  private record(entry: WorkflowStep): Promise<WorkflowStep> {
    return this.scope.io(() => this.scope.journal(entry));
  }

  /** Completes an entry that was journaled `started` earlier (a wait, or a step from a start/finish writer). */
  private async finishEntry(entry: WorkflowStep): Promise<WorkflowStep> {
    const { status, result, error, finishedAt, durationMs } = entry;
    if (status === 'started' || finishedAt === null || durationMs === null)
      throw new Error('finishEntry needs a finished entry');
    const finished = { status, result, error, finishedAt, durationMs };
    await this.scope.io(async () => {
      await this.scope.flushJournal();
      await this.scope.services.steps.finish(this.runId, entry.seq, finished);
    });
    return entry;
  }
}
