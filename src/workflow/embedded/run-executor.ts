/**
 * Executes one claimed run: loads its journal once, calls the definition from the start with a
 * replaying context, and concludes — `succeeded` with the output, `failed` on `TerminalWorkflowError`,
 * non-determinism or any unhandled error, `cancelled` on `RunCancelledError`. A coroutine that was
 * stopped (suspended, lease lost, shutdown, store failure) concludes nothing: its outcome no longer
 * counts, and the run resumes wherever it is claimed next.
 */
import type { Logger } from '../../domain/logger.js';
import { RunCancelledError, type WorkflowDefinition } from '../context.js';
import { Journal } from '../journal.js';
import { serializeError, toJournalValue } from '../step-error.js';
import type { ContextServices } from './context-services.js';
import { DurableContext } from './durable-context.js';
import { ExecutionStopped, type RunHandle } from './run-handle.js';
import type { RunOutcome } from './run-writer.js';

type Settled =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

export class RunExecutor {
  constructor(
    private readonly definitions: ReadonlyMap<string, WorkflowDefinition<never, unknown>>,
    private readonly services: ContextServices,
    private readonly log: Logger,
  ) {}

  /** Never rejects: failures to write are logged, and the run is retried once its lease expires. */
  async execute(handle: RunHandle): Promise<void> {
    const { run } = handle;
    const log = this.log.child({ runId: run.runId, tenantId: run.tenantId, action: run.action });
    try {
      const definition = this.definitions.get(run.action);
      if (!definition) return await this.postpone(handle, log);
      const entries = this.surelyUnstarted(handle) ? [] : await this.services.store.steps.list(run.runId);
      handle.begin(entries.length);
      const ctx = new DurableContext(handle, new Journal(run.runId, entries), this.services, log);
      const settled = await settle(() => definition.run(ctx, run.input as never));
      await this.conclude(handle, settled, log);
    } catch (error) {
      log.error(
        { err: error },
        'workflow run execution failed in the engine; it resumes when its lease expires',
      );
    }
  }

  private async conclude(handle: RunHandle, settled: Settled, log: Logger): Promise<void> {
    if (handle.cancelled) return log.info('run cancelled');
    const stopped = handle.thrownStop || (!settled.ok && settled.error instanceof ExecutionStopped);
    if (handle.fatal === null && stopped) return this.stopped(handle, log);
    if (this.services.closed()) return;
    const outcome = outcomeOf(handle, settled);
    const finished = await this.services.writer.finish(handle, outcome);
    if (!finished) return log.info('run was finished or taken over elsewhere; outcome dropped');
    if (outcome.state === 'succeeded') log.info({ attempt: handle.attempt }, 'run succeeded');
    else log.warn({ attempt: handle.attempt, error: outcome.error }, `run ${outcome.state}`);
  }

  /** Shutdown releases the lease so a restart or another process resumes at once; other stops write nothing. */
  private async stopped(handle: RunHandle, log: Logger): Promise<void> {
    log.debug({ reason: handle.stopReason }, 'run execution stopped');
    if (handle.stopReason !== 'closing' || this.services.closed()) return;
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
      { definitions: [...this.definitions.keys()] },
      `no workflow definition '${handle.run.action}' registered; run postponed`,
    );
    const wakeAt = this.services.options.now() + this.services.options.leaseMs;
    await this.services.store.runs.update(
      handle.runId,
      { wakeAt, leaseOwner: null, leaseExpiresAt: null },
      { leaseOwner: this.services.ownerId },
    );
  }
}

function outcomeOf(handle: RunHandle, settled: Settled): RunOutcome {
  if (handle.fatal) return { state: 'failed', error: serializeError(handle.fatal) };
  if (!settled.ok) {
    const error = serializeError(settled.error);
    return settled.error instanceof RunCancelledError
      ? { state: 'cancelled', error }
      : { state: 'failed', error };
  }
  try {
    return { state: 'succeeded', output: toJournalValue(settled.value) };
  } catch (error) {
    return { state: 'failed', error: serializeError(error) };
  }
}

async function settle(fn: () => Promise<unknown>): Promise<Settled> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}
