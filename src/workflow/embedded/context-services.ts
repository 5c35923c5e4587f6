/**
 * What a run's durable context needs from its engine (`ContextServices`, one per engine) and from
 * the execution it belongs to (`ExecutionScope`, one per claimed run), kept apart so the context's
 * parts — the context itself, its waits, its promise waiter — share them.
 */
import type { HeldJournal } from '../../domain/held-journal.js';
import type { Logger } from '../../domain/logger.js';
import type { TraceContext } from '../../domain/tracing.js';
import type { WorkflowStep } from '../../domain/workflow-run.js';
import type { WorkflowStepRepository } from '../../store/store.js';
import type { RunOutcome } from '../run-outcome.js';
import type { ResolvedOptions } from './options.js';
import { ExecutionStopped, type RunHandle, type WaitCounter } from './run-handle.js';
import type { RunWriter } from './run-writer.js';

export interface ContextServices {
  readonly steps: WorkflowStepRepository;
  readonly writer: RunWriter;
  readonly options: ResolvedOptions;
  readonly counter: WaitCounter;
  /** Asks the scheduler to look for due runs now. */
  kick(): void;
  /** True once `close` stopped waiting for this process's runs: nothing more may be written. */
  closed(): boolean;
}

export class ExecutionScope {
  /** Finished entries not written yet, oldest first (see `defer`). */
  private deferred: WorkflowStep[] = [];

  constructor(
    readonly handle: RunHandle,
    readonly services: ContextServices,
    readonly log: Logger,
    /** The run's trace context, the parent of its steps' spans (src/domain/tracing.ts). */
    readonly trace?: TraceContext,
  ) {}

  /**
   * Holds a finished journal entry back until the execution next needs its journal durable —
   * before a step's function runs, before a wait journals its deadline, before the run is released
   * or ended (`journal`, `flushJournal`, `end`) — and writes it then, in the same statement as what
   * that moment writes. Safe because nothing outside the run acts on an entry before that moment: a
   * crash in between loses the entry and re-runs its step, as a crash just before an immediate
   * write would (steps are at-least-once). Saves a statement whenever two entries meet without
   * a step's function between them — a promise already resolved, the last step before the end
   * (docs/architecture.md, "The write path in statements"). Where the store can, a step's function
   * takes them to its first write instead (`heldJournal`), and a read-only step keeps them held.
   */
  defer(entry: WorkflowStep): void {
    this.deferred.push(entry);
  }

  /** Writes the deferred entries and `entry` in one statement; returns `entry` as stored. */
  async journal(entry: WorkflowStep): Promise<WorkflowStep> {
    const stored = await this.writeJournal([...this.deferred, entry]);
    return stored[stored.length - 1]!;
  }

  /** Writes the deferred entries, if any. */
  async flushJournal(): Promise<void> {
    if (this.deferred.length > 0) await this.writeJournal(this.deferred);
  }

  /**
   * The deferred entries, for a step's first write to carry (StepOptions.journalsWithFirstWrite);
   * undefined when none are held. Held until that write, or until the next moment `defer` names
   * when the step's function writes nothing.
   */
  heldJournal(): StepJournal | undefined {
    if (this.deferred.length === 0) return undefined;
    return new StepJournal(this, this.services.writer.ownerId, this.deferred);
  }

  /** The first `count` deferred entries were written (by a write that carried them). */
  carried(count: number): void {
    this.deferred = this.deferred.slice(count);
  }

  /**
   * Ends the run with the deferred entries in the same write (RunWriter.end). When one is found
   * stored already, they are journaled as `flushJournal` does — which stops the execution when
   * another owner wrote one — and the run is ended after. False when the run was no longer ours
   * to end (the entries are then not written: the run is no longer this execution's).
   */
  async end(outcome: RunOutcome): Promise<boolean> {
    const writer = this.services.writer;
    const first = await writer.end(this.handle, outcome, this.deferred);
    if (first.journaled) {
      this.deferred = [];
      return first.ended;
    }
    await this.flushJournal();
    return (await writer.end(this.handle, outcome, [])).ended;
  }

  /**
   * A deferred entry found written already (another owner took the run over and got this far) is
   * not ours to replay: workflow code went on with our value, so the execution stops here.
   */
  private async writeJournal(entries: readonly WorkflowStep[]): Promise<readonly WorkflowStep[]> {
    const held = this.deferred.length;
    const stored = await this.services.steps.recordAll(entries);
    this.deferred = this.deferred.slice(held);
    for (let i = 0; i < held; i++) {
      if (!sameWrite(stored[i]!, entries[i]!)) throw this.handle.interrupt('lease-lost');
    }
    return stored;
  }

  get runId(): string {
    return this.handle.runId;
  }

  now(): number {
    return this.services.options.now();
  }

  /** Store failures are not workflow errors: they stop the execution; the lease expires and the run is retried. */
  async io<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof ExecutionStopped) throw error;
      this.log.error({ err: error }, 'workflow store call failed; the run resumes when its lease expires');
      throw this.handle.interrupt('store-error');
    }
  }

  /** At a durable call: a closed engine writes nothing more, so the execution stops here. */
  throwIfClosed(): void {
    if (!this.services.closed()) return;
    this.handle.stop('closing');
    this.handle.checkpoint();
  }
}

/**
 * The entries an execution held when a step began, handed to the step's function
 * (src/domain/held-journal.ts). A flush that failed or found another owner's entry stopped the
 * execution (`failed`): the step's outcome must then not be journaled (DurableContext.step).
 */
export class StepJournal implements HeldJournal {
  private written = false;
  /** A flush threw: the execution is stopped. */
  failed = false;

  constructor(
    private readonly scope: ExecutionScope,
    readonly leaseOwner: string,
    private readonly held: readonly WorkflowStep[],
  ) {}

  get runId(): string {
    return this.scope.runId;
  }

  get entries(): readonly WorkflowStep[] {
    return this.written ? [] : this.held;
  }

  carried(): void {
    if (this.written) return;
    this.written = true;
    this.scope.carried(this.held.length);
  }

  async flush(): Promise<void> {
    if (this.written) return;
    try {
      await this.scope.io(() => this.scope.flushJournal());
    } catch (error) {
      this.failed = true;
      throw error;
    }
    this.written = true;
  }
}

/** Whether `stored` is the entry this execution wrote (its own timing), not another owner's. */
function sameWrite(stored: WorkflowStep, ours: WorkflowStep): boolean {
  return (
    stored.status === ours.status &&
    stored.startedAt === ours.startedAt &&
    stored.finishedAt === ours.finishedAt
  );
}
