/**
 * Drives executions that this process owns from `running` to `succeeded` or `failed`.
 *
 * Contract:
 * - `launch` is given a row already moved to `running` whose lease this process holds. At most one
 *   drive per execution id runs in a process; a second `launch` of the same id is ignored.
 * - While the provider call runs, the lease is renewed every `leaseMs / 3`. A lost lease (another
 *   process took the execution over) abandons the call without writing anything.
 * - The call runs under `timeoutMs`; a timeout settles the execution `failed` with PROVIDER_TIMEOUT
 *   (retriable) even when the provider ignores its abort signal.
 * - A config that fails validation settles `failed` with INVALID_CONFIG; the provider is not called.
 * - `abandonAll` (shutdown) aborts every call and writes nothing: the rows stay `running` under a
 *   lease that expires, and whichever process recovers orphans next re-drives them.
 */
import { ComputeError } from '../domain/compute-error.js';
import type { ComputeExecution } from '../domain/compute-execution.js';
import type { Logger } from '../domain/logger.js';
import { withContext } from '../domain/tracing.js';
import { CallAbandonedError } from './call-with-timeout.js';
import type { ExecutionLedger } from './execution-ledger.js';
import { callbackFor, type ExecutionPlan } from './execution-records.js';
import type { ComputeOperation } from '../domain/operations.js';
import { callProvider, InvalidConfigError } from './provider-call.js';
import type { ComputeProvider, ComputeRequest, ComputeResult } from './provider.js';
import type { ProviderRegistry } from './provider-registry.js';

export interface RunnerDeps {
  readonly ledger: ExecutionLedger;
  readonly registry: ProviderRegistry;
  readonly owner: string;
  readonly leaseMs: number;
  readonly log: Logger;
  readonly now: () => number;
}

type Outcome =
  | { readonly kind: 'succeeded'; readonly result: ComputeResult }
  | { readonly kind: 'failed'; readonly error: ComputeError; readonly details?: Record<string, unknown> };

interface Drive {
  readonly stop: AbortController;
  readonly done: Promise<void>;
}

export class ExecutionRunner {
  private readonly drives = new Map<string, Drive>();
  private closed = false;

  constructor(private readonly deps: RunnerDeps) {}

  has(executionId: string): boolean {
    return this.drives.has(executionId);
  }

  /** Starts driving `execution` (status `running`, leased by us) in the background. */
  launch(execution: ComputeExecution, plan: ExecutionPlan): void {
    if (this.closed || this.drives.has(execution.executionId)) return;
    const stop = new AbortController();
    const done = this.drive(execution, plan, stop)
      .catch((error: unknown) =>
        this.logFor(execution).error({ err: error }, 'compute execution drive crashed'),
      )
      .finally(() => this.drives.delete(execution.executionId));
    this.drives.set(execution.executionId, { stop, done });
  }

  /** Stops every in-flight call without settling it; resolves when all drives have returned. */
  async abandonAll(reason: string): Promise<void> {
    this.closed = true;
    const drives = [...this.drives.values()];
    for (const drive of drives) drive.stop.abort(new Error(reason));
    await Promise.allSettled(drives.map((d) => d.done));
  }

  /** Resolves once no drive is in flight (tests, graceful hand-over). */
  async idle(): Promise<void> {
    while (this.drives.size > 0) await Promise.allSettled([...this.drives.values()].map((d) => d.done));
  }

  private async drive(
    execution: ComputeExecution,
    plan: ExecutionPlan,
    stop: AbortController,
  ): Promise<void> {
    const log = this.logFor(execution);
    const startedAt = this.deps.now();
    const outcome = await this.outcome(execution, plan, stop, log);
    if (outcome === undefined) return;
    await this.settle(execution, outcome, this.deps.now() - startedAt, log);
  }

  /** Validates, then calls the provider (callProvider); undefined when the call was abandoned. */
  private async outcome(
    execution: ComputeExecution,
    plan: ExecutionPlan,
    stop: AbortController,
    log: Logger,
  ): Promise<Outcome | undefined> {
    const heartbeat = this.startHeartbeat(execution.executionId, stop, log);
    try {
      return { kind: 'succeeded', result: await this.call(plan, stop.signal) };
    } catch (error) {
      if (error instanceof CallAbandonedError) {
        log.info({ reason: error.reason }, 'compute execution abandoned; it will be recovered');
        return undefined;
      }
      if (!(error instanceof ComputeError)) throw error; // not the call's failure: the drive crashed
      const details = error instanceof InvalidConfigError ? { problems: error.problems } : undefined;
      return { kind: 'failed', error, ...(details && { details }) };
    } finally {
      clearInterval(heartbeat);
    }
  }

  private call(plan: ExecutionPlan, stop: AbortSignal): Promise<ComputeResult> {
    const request = {
      tenant: plan.tenant,
      generation: plan.generation,
      executionId: plan.executionId,
      config: plan.config,
    };
    return callProvider(this.deps.registry, {
      type: plan.provider,
      config: plan.config,
      timeoutMs: plan.timeoutMs,
      what: `${plan.provider} ${plan.operation} of tenant ${plan.tenant.name}`,
      stop,
      // The provider decorator (src/main/telemetry/metered.ts) starts the call's span on entry,
      // under the active context: the starting step's, made active here.
      run: (provider, signal) =>
        withContext(plan.trace, () => providerOperation(provider, plan.operation)(request, signal)),
    });
  }

  /** Renews the lease every leaseMs/3; on loss aborts the call (another process owns it now). */
  private startHeartbeat(executionId: string, stop: AbortController, log: Logger): NodeJS.Timeout {
    const { ledger, owner, leaseMs, now } = this.deps;
    const timer = setInterval(
      () => {
        ledger.renewLease(executionId, owner, now() + leaseMs).then(
          (held) => held || stop.abort(new Error('lease lost to another owner')),
          (error: unknown) => log.warn({ err: error }, 'could not renew the execution lease'),
        );
      },
      Math.max(1, Math.floor(leaseMs / 3)),
    );
    timer.unref();
    return timer;
  }

  private async settle(
    execution: ComputeExecution,
    outcome: Outcome,
    durationMs: number,
    log: Logger,
  ): Promise<void> {
    const at = new Date(this.deps.now()).toISOString();
    const attempt = execution.attempt;
    if (outcome.kind === 'succeeded') {
      const { resources, endpoints, changes } = outcome.result;
      const callback = callbackFor(execution, {
        status: 'succeeded',
        attempt,
        at,
        resources,
        endpoints,
      });
      const details = { durationMs, ...(changes && { changes }) };
      const row = await this.deps.ledger.transition(execution.executionId, {
        from: ['running'],
        to: 'succeeded',
        resources,
        endpoints,
        partial: null,
        error: null,
        details,
        at,
        callback,
      });
      if (row) log.info({ durationMs }, 'compute execution succeeded');
      else log.warn('compute execution was settled elsewhere; success not recorded');
      return;
    }
    await this.settleFailed(execution, outcome.error, { durationMs, ...outcome.details }, at, log);
  }

  private async settleFailed(
    execution: ComputeExecution,
    error: ComputeError,
    details: Record<string, unknown>,
    at: string,
    log: Logger,
  ): Promise<void> {
    const shape = error.toJSON();
    const resources = error.partial?.resources;
    const callback = callbackFor(execution, {
      status: 'failed',
      attempt: execution.attempt,
      at,
      resources: resources ?? {},
      error: shape,
    });
    const row = await this.deps.ledger.transition(execution.executionId, {
      from: ['running'],
      to: 'failed',
      error: shape,
      partial: error.partial ?? null,
      ...(resources && { resources }),
      details: { code: error.code, ...details },
      at,
      callback,
    });
    if (!row) log.warn({ code: error.code }, 'compute execution was settled elsewhere; failure not recorded');
    else logFailure(log, error);
  }

  private logFor(execution: ComputeExecution): Logger {
    const { tenantId, operation, executionId, provider, attempt } = execution;
    return this.deps.log.child({ tenantId, operation, executionId, provider, attempt });
  }
}

type ProviderCall = (request: ComputeRequest, signal: AbortSignal) => Promise<ComputeResult>;

/**
 * The provider method of `operation`. The API refuses suspend/resume for a provider without them,
 * so reaching one here means a provider was reconfigured under a suspended tenant: not retriable.
 */
function providerOperation(provider: ComputeProvider, operation: ComputeOperation): ProviderCall {
  if (provider[operation]) return (request, signal) => provider[operation]!(request, signal);
  return () =>
    Promise.reject(
      new ComputeError('INVALID_CONFIG', `compute provider '${provider.type}' cannot ${operation}`),
    );
}

/**
 * docs/architecture.md, "Compute": warn when retriable, error otherwise; the raw provider error only at
 * debug.
 */
export function logFailure(log: Logger, error: ComputeError): void {
  const fields = {
    code: error.code,
    classification: error.classification,
    ...(error.retryAfterMs !== undefined && { retryAfterMs: error.retryAfterMs }),
  };
  if (error.classification === 'retriable') log.warn(fields, `compute execution failed: ${error.message}`);
  else log.error(fields, `compute execution failed: ${error.message}`);
  if (error.providerError !== undefined)
    log.debug({ code: error.code, providerError: error.providerError }, 'raw provider error');
}
