/**
 * What a run's durable context needs from its engine (`ContextServices`, one per engine) and from
 * the execution it belongs to (`ExecutionScope`, one per claimed run), kept apart so the context's
 * parts — the context itself, its waits, its promise waiter — share them.
 */
import type { Logger } from '../../domain/logger.js';
import type { TraceContext } from '../../domain/tracing.js';
import type { WorkflowStepRepository } from '../../store/store.js';
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
  constructor(
    readonly handle: RunHandle,
    readonly services: ContextServices,
    readonly log: Logger,
    /** The run's trace context, the parent of its steps' spans (src/domain/tracing.ts). */
    readonly trace?: TraceContext,
  ) {}

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
