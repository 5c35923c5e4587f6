/**
 * Executes one claimed run: loads its journal once, calls the definition from the start with a
 * replaying context, and concludes — `succeeded` with the output, `failed` on `TerminalWorkflowError`,
 * non-determinism or any unhandled error, `cancelled` on `RunCancelledError` (run-outcome.ts). A
 * coroutine that was stopped (suspended, lease lost, shutdown, store failure) concludes nothing:
 * its outcome no longer counts, and the run resumes wherever it is claimed next.
 */
import type { Logger } from '../../domain/logger.js';
import {
  contextFromHeaders,
  inSpan,
  logTraceFields,
  TRACEPARENT_TAG,
  type TraceContext,
} from '../../domain/tracing.js';
import type { Definitions } from '../definitions.js';
import { Journal } from '../journal.js';
import { outcomeOf, settle, type RunOutcome, type Settled } from '../run-outcome.js';
import { ExecutionScope, type ContextServices } from './context-services.js';
import { DurableContext } from './durable-context.js';
import { ExecutionStopped, type RunHandle } from './run-handle.js';

export class RunExecutor {
  constructor(
    private readonly definitions: Definitions,
    private readonly services: ContextServices,
    private readonly log: Logger,
  ) {}

  /** Never rejects: failures to write are logged, and the run is retried once its lease expires. */
  async execute(handle: RunHandle): Promise<void> {
    const { run } = handle;
    const attributes = {
      'lessor.run.id': run.runId,
      'lessor.workflow': run.workflow,
      'lessor.run.attempt': handle.attempt,
      'lessor.engine': 'embedded',
    };
    const parent = contextFromHeaders({ traceparent: run.tags[TRACEPARENT_TAG] });
    await inSpan(`workflow ${run.workflow}`, { attributes, parent }, (_span, trace) =>
      this.executeTraced(handle, trace),
    );
  }

  private async executeTraced(handle: RunHandle, trace: TraceContext): Promise<void> {
    const { run } = handle;
    const log = this.log.child({ runId: run.runId, workflow: run.workflow, ...logTraceFields(trace) });
    try {
      const definition = this.definitions.get(run.workflow);
      if (!definition) return await this.postpone(handle, log);
      const entries = this.surelyUnstarted(handle) ? [] : await this.services.steps.list(run.runId);
      handle.begin(entries);
      const scope = new ExecutionScope(handle, this.services, log, trace);
      const ctx = new DurableContext(scope, new Journal(run.runId, entries));
      const settled = await settle(() => definition.run(ctx, run.input as never));
      await this.conclude(handle, scope, settled, log);
    } catch (error) {
      log.error(
        { err: error },
        'workflow run execution failed in the engine; it resumes when its lease expires',
      );
    }
  }

  private async conclude(
    handle: RunHandle,
    scope: ExecutionScope,
    settled: Settled,
    log: Logger,
  ): Promise<void> {
    const ending = handle.termination;
    if (ending.kind === 'cancelled') return log.info('run cancelled');
    if (!handle.outcomeCounts(settled)) return this.stopped(handle, scope, log);
    if (this.services.closed()) return;
    const outcome = outcomeOf(settled, ending.kind === 'failed' ? ending.error : null);
    // The held-back journal entries are written with the end (ExecutionScope.end).
    if (!(await this.ended(scope, outcome, log)))
      return log.info('run was finished or taken over elsewhere; outcome dropped');
    if (outcome.state === 'succeeded') log.info({ attempt: handle.attempt }, 'run succeeded');
    else log.warn({ attempt: handle.attempt, error: outcome.error }, `run ${outcome.state}`);
  }

  /** Ends the run with its held-back journal entries; false when it did not (logged when it failed). */
  private async ended(scope: ExecutionScope, outcome: RunOutcome, log: Logger): Promise<boolean> {
    try {
      return await scope.end(outcome);
    } catch (error) {
      if (!(error instanceof ExecutionStopped))
        log.warn({ err: error }, 'could not end the run; it resumes when its lease expires');
      return false;
    }
  }

  /** Writes the held-back journal entries; false when that stopped the execution. */
  private async journaled(scope: ExecutionScope, log: Logger): Promise<boolean> {
    try {
      await scope.flushJournal();
      return true;
    } catch (error) {
      if (error instanceof ExecutionStopped) log.info('run was taken over elsewhere; outcome dropped');
      else
        log.warn({ err: error }, 'could not journal the last steps; the run resumes when its lease expires');
      return false;
    }
  }

  /**
   * Shutdown releases the lease (journal first) so a restart or another process resumes at once;
   * other stops write nothing.
   */
  private async stopped(handle: RunHandle, scope: ExecutionScope, log: Logger): Promise<void> {
    const ending = handle.termination;
    const reason = ending.kind === 'stopped' ? ending.reason : null;
    log.debug({ reason }, 'run execution stopped');
    if (reason !== 'closing' || this.services.closed()) return;
    if (!(await this.journaled(scope, log))) return;
    try {
      await this.services.writer.release(handle);
    } catch (error) {
      log.warn({ err: error }, 'could not release the lease at shutdown; it expires on its own');
    }
  }

  /**
   * A `pending` run claimed within half a lease of its creation has an empty journal: any earlier
   * executor would still hold its lease (a takeover comes at least a lease after the first claim,
   * which comes after creation). Half a lease leaves room for clock skew between processes. Saves
   * the journal read on the create → run fast path.
   */
  private surelyUnstarted(handle: RunHandle): boolean {
    const { now, leaseMs } = this.services.options;
    return handle.run.state === 'pending' && now() - Date.parse(handle.run.createdAt) < leaseMs / 2;
  }

  /** No definition for the run here (e.g. a replica of another version): leave it for a while. */
  private async postpone(handle: RunHandle, log: Logger): Promise<void> {
    log.error(
      { definitions: this.definitions.names() },
      `no workflow definition '${handle.run.workflow}' registered; run postponed`,
    );
    await this.services.writer.postpone(handle);
  }
}
