/**
 * The `embedded` workflow engine: runs execute in this process, journal, promises and timers live in
 * Lessor's own database. Several processes may share one PostgreSQL database: a run is executed by
 * whoever holds its lease (`claimDue`), an expired lease is taken over, and a notifier carries
 * promise resolutions and cancellations to the process holding the run.
 *
 * `attempt` on the run row is 1 for the first execution and grows by one each time the run is
 * resumed after its executor stopped mid-work (crash, lost lease, shutdown mid-step) — i.e. each
 * time a step may be re-run. Resuming a run that waited or slept in the database is not a new
 * attempt; nor, undetectably, is a first execution that died before journaling anything.
 *
 * Run states: `pending` until the run has executed for a third of a lease (short runs skip
 * `running`), `running`, `waiting` (promise) or the sleep's state, then the end state.
 *
 * Writes per short run (n steps, no waits) started in a process with capacity: createOrGet (which
 * leases the run to its creator, so no claim), n step records and the final update (and whatever
 * the observer writes); reads: none (the journal of a fresh run is known to be empty).
 */
import { isRunActive, type WorkflowRun, type WorkflowStep } from '../../domain/workflow-run.js';
import { Definitions } from '../definitions.js';
import type { StartRunRequest, WorkflowEngine } from '../engine.js';
import { IGNORE_RUN_CHANGES } from '../run-observer.js';
import { RunRecords } from '../run-records.js';
import { toJournalValue } from '../step-error.js';
import { ClaimLoop } from './claim-loop.js';
import type { ContextServices } from './context-services.js';
import { LeaseKeeper } from './lease-keeper.js';
import {
  createLocalNotifier,
  resolveOptions,
  type EmbeddedEngineOptions,
  type ResolvedOptions,
  type RunNotifier,
} from './options.js';
import { RunExecutor } from './run-executor.js';
import { RunHandle, type WaitCounter } from './run-handle.js';
import { RunWriter } from './run-writer.js';

export class EmbeddedWorkflowEngine implements WorkflowEngine {
  readonly type = 'embedded' as const;
  private readonly options: ResolvedOptions;
  private readonly definitions: Definitions;
  private readonly notifier: RunNotifier;
  private readonly handles = new Map<string, RunHandle>();
  /** Starts whose row is being written leased to this process (each will take an execution slot). */
  private starting = 0;
  private readonly executions = new Set<Promise<void>>();
  private readonly counter: WaitCounter = { waiting: 0, onWaitStart: () => this.claimLoop.released() };
  private readonly writer: RunWriter;
  private readonly executor: RunExecutor;
  private readonly claimLoop: ClaimLoop;
  private readonly leaseKeeper: LeaseKeeper;
  private unsubscribe: (() => void) | null = null;
  private phase: 'new' | 'open' | 'closing' | 'closed' = 'new';

  constructor(private readonly config: EmbeddedEngineOptions) {
    this.options = resolveOptions(config);
    this.definitions = new Definitions(config.definitions);
    this.notifier = config.notifier ?? createLocalNotifier();
    const { store, ownerId, logger } = config;
    const log = logger.child({ engine: 'embedded', owner: ownerId });
    const records = new RunRecords(store.runs, config.observer ?? IGNORE_RUN_CHANGES, log, this.options.now);
    this.writer = new RunWriter(records, store.runs, ownerId, this.options, () =>
      this.claimLoop.noteReleasedWake(),
    );
    this.executor = new RunExecutor(this.definitions, this.services(), log);
    this.claimLoop = new ClaimLoop({
      writer: this.writer,
      runs: store.runs,
      options: this.options,
      log,
      capacity: () => this.capacity(),
      launch: (run) => this.launch(run),
    });
    this.leaseKeeper = new LeaseKeeper({
      writer: this.writer,
      options: this.options,
      log,
      handles: () => this.handles.values(),
    });
  }

  /** Starts claiming: every unfinished run that is due (or whose lease expired) resumes. */
  async open(): Promise<void> {
    if (this.phase !== 'new') return;
    this.phase = 'open';
    this.unsubscribe = this.notifier.subscribe((runId) => this.onNotify(runId));
    this.leaseKeeper.start();
    this.claimLoop.start();
  }

  /**
   * Idempotent on `runId`. A new run executes here at once when this process has capacity: it is
   * created leased to this process, so no claim is needed. Otherwise it is created due and claimed
   * by whoever has capacity first, without waiting for a poll.
   */
  async start(request: StartRunRequest): Promise<{ run: WorkflowRun; created: boolean }> {
    this.definitions.require(request.workflow);
    const execute = this.phase === 'open' && this.capacity() > 0;
    // A slot is held while the row is written, so a burst of starts cannot overshoot the limit.
    if (execute) this.starting += 1;
    let result: { run: WorkflowRun; created: boolean };
    try {
      result = await this.writer.create(request, execute);
    } finally {
      if (execute) this.starting -= 1;
    }
    if (!result.created) return result;
    if (!execute) this.claimLoop.kick();
    else if (this.phase === 'open') this.launch(result.run);
    else await this.writer.unlease(result.run.runId);
    return result;
  }

  async cancel(runId: string, reason: string): Promise<boolean> {
    if (!(await this.writer.cancel(runId, reason))) return false;
    const local = this.handles.get(runId);
    if (local) local.cancel();
    else this.notifier.publish(runId);
    return true;
  }

  /** First resolution wins; for a finished or unknown run, or a duplicate, nothing changes. */
  async resolvePromise(runId: string, key: string, value: unknown): Promise<void> {
    // A run held live here is active: no need to read its row first.
    if (!this.handles.get(runId)?.live) {
      const run = await this.config.store.runs.get(runId);
      if (!run || !isRunActive(run.state)) return;
    }
    const at = new Date(this.options.now()).toISOString();
    const stored = toJournalValue(value);
    // First resolution wins. A duplicate still wakes the run: redelivery is how a lost wake-up (the
    // first delivery stored the value, then its process died before waking anyone) gets repaired.
    const first = await this.config.store.steps.resolvePromise(runId, key, stored, at);
    const local = this.handles.get(runId);
    if (local?.live) {
      // Held here: the value is durable (committed) before it is handed over, so the wait takes it
      // from memory; a duplicate only wakes the wait, which reads the stored (first) value. Should
      // this process die before the run moves on, the taker's wait reads the stored resolution.
      return first ? local.deliver(key, stored) : local.signal();
    }
    // Due at once, so that a run nobody holds in memory (suspended, or its holder died) is claimed.
    await this.writer.makeDue(runId);
    this.notifier.publish(runId);
  }

  getRun(runId: string): Promise<WorkflowRun | undefined> {
    return this.config.store.runs.get(runId);
  }

  journal(runId: string): Promise<readonly WorkflowStep[]> {
    return this.config.store.steps.list(runId);
  }

  async ping(): Promise<void> {}

  /**
   * Stops claiming and interrupts every wait at once (waiting runs are released to the database);
   * steps already executing get up to `graceMs` to finish and be journaled. After that nothing is
   * written: leases of still-running steps expire and the runs are taken over.
   */
  async close(graceMs: number): Promise<void> {
    if (this.phase === 'closing' || this.phase === 'closed') return;
    this.phase = 'closing';
    this.claimLoop.stop();
    this.unsubscribe?.();
    for (const handle of this.handles.values()) handle.stop('closing');
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, graceMs))));
    await Promise.race([Promise.allSettled([...this.executions]), grace]);
    clearTimeout(timer);
    this.phase = 'closed';
    this.leaseKeeper.stop();
  }

  /** How many more runs may start executing in this process now (waiting ones hold no slot). */
  private capacity(): number {
    return this.options.maxConcurrentRuns - (this.handles.size + this.starting - this.counter.waiting);
  }

  private launch(run: WorkflowRun): void {
    // Our own earlier coroutine for this run (lease lapsed and re-claimed, or still unwinding) must stop.
    this.handles.get(run.runId)?.stop('lease-lost');
    const handle = new RunHandle(run, this.counter, this.options.now());
    this.handles.set(run.runId, handle);
    const execution = this.executor.execute(handle).finally(() => {
      if (this.handles.get(run.runId) === handle) this.handles.delete(run.runId);
      this.executions.delete(execution);
      this.claimLoop.released();
    });
    this.executions.add(execution);
  }

  /** A resolution or cancellation elsewhere: wake the holder, or look for newly due runs. */
  private onNotify(runId: string): void {
    const handle = this.handles.get(runId);
    if (!handle) return this.claimLoop.kick();
    if (handle.isWaitingForPromise) return handle.signal();
    void this.checkCancelled(handle);
  }

  private async checkCancelled(handle: RunHandle): Promise<void> {
    try {
      await this.writer.confirmOwnership(handle);
    } catch {
      // The lease renewal notices a lost run as well.
    }
  }

  private services(): ContextServices {
    return {
      steps: this.config.store.steps,
      writer: this.writer,
      options: this.options,
      counter: this.counter,
      kick: () => this.claimLoop.kick(),
      closed: () => this.phase === 'closed',
    };
  }
}
