/**
 * Decorators that record metrics around the parts the composition root wires together, so the
 * engines, the compute manager and the providers stay unaware of them:
 * - the run observer: runs started and finished (by engine, definition and outcome), run durations;
 * - the run rows' `claimDue`: runs taken over mid-execution (embedded engine);
 * - the execution ledger: settled executions by provider, operation, outcome and error code;
 * - each provider: call durations and calls in flight, and a client span per call (tracing on).
 */
import type { ComputeProvider } from '../../compute/provider.js';
import type { ComputeMetrics, Metrics, WorkflowMetrics } from '../../domain/metrics.js';
import { secondsSince } from '../../domain/metrics.js';
import { inSpan, SpanKind } from '../../domain/tracing.js';
import type { EngineType } from '../../domain/workflow-run.js';
import type { ComputeExecutionRepository, WorkflowRunRepository } from '../../store/store.js';
import type { RunObserver } from '../../workflow/run-observer.js';

const ENDED = new Set(['succeeded', 'failed', 'cancelled']);

export function meteredObserver(observer: RunObserver, metrics: WorkflowMetrics): RunObserver {
  return {
    ...(observer.eventsFor && { eventsFor: observer.eventsFor.bind(observer) }),
    async runChanged(change) {
      const { run, state } = change;
      const labels = { engine: run.engine, workflow: run.workflow };
      if (state === 'pending') metrics.runsStarted.inc(labels);
      else if (ENDED.has(state)) {
        metrics.runsFinished.inc({ ...labels, outcome: state });
        const created = Date.parse(run.createdAt);
        const ended = run.finishedAt ? Date.parse(run.finishedAt) : Date.now();
        if (Number.isFinite(created) && Number.isFinite(ended))
          metrics.runDuration.observe({ ...labels, outcome: state }, secondsSince(created, ended));
      }
      await observer.runChanged(change);
    },
  };
}

/** A claimed run that reads `running` was mid-execution under another holder (or before a restart). */
export function meteredRunRows(
  runs: WorkflowRunRepository,
  metrics: WorkflowMetrics,
  engine: EngineType,
): WorkflowRunRepository {
  const claimDue: WorkflowRunRepository['claimDue'] = async (owner, now, leaseMs, limit) => {
    const claimed = await runs.claimDue(owner, now, leaseMs, limit);
    const takenOver = claimed.filter((run) => run.state === 'running').length;
    if (takenOver > 0) metrics.leaseTakeovers.inc({ engine }, takenOver);
    return claimed;
  };
  return new Proxy(runs, {
    get: (target, property, receiver) =>
      property === 'claimDue' ? claimDue : bound(target, Reflect.get(target, property, receiver)),
  });
}

export function meteredLedger(
  ledger: ComputeExecutionRepository,
  metrics: ComputeMetrics,
): ComputeExecutionRepository {
  const transition: ComputeExecutionRepository['transition'] = async (executionId, change) => {
    const execution = await ledger.transition(executionId, change);
    if (execution && (execution.status === 'succeeded' || execution.status === 'failed')) {
      metrics.executions.inc({
        provider: execution.provider,
        operation: execution.operation,
        outcome: execution.status,
        error_code: execution.error?.code ?? '',
      });
    }
    return execution;
  };
  return new Proxy(ledger, {
    get: (target, property, receiver) =>
      property === 'transition' ? transition : bound(target, Reflect.get(target, property, receiver)),
  });
}

type Call = 'provision' | 'update' | 'delete' | 'describe' | 'listRunning';
const TIMED: ReadonlySet<string> = new Set<Call>([
  'provision',
  'update',
  'delete',
  'describe',
  'listRunning',
]);

export function meteredProvider(
  provider: ComputeProvider,
  metrics: Pick<Metrics, 'compute'>,
): ComputeProvider {
  const { providerCallDuration, inFlight } = metrics.compute;
  const timed =
    (operation: string, call: (...args: unknown[]) => Promise<unknown>) =>
    async (...args: unknown[]): Promise<unknown> => {
      const labels = { provider: provider.type, operation };
      const started = performance.now();
      inFlight.inc(labels);
      let outcome = 'error';
      const attributes = { 'lessor.provider': provider.type, 'lessor.operation': operation };
      try {
        const result = await inSpan(
          `provider ${provider.type} ${operation}`,
          { kind: SpanKind.CLIENT, attributes },
          () => call(...args),
        );
        outcome = 'ok';
        return result;
      } finally {
        inFlight.dec(labels);
        providerCallDuration.observe({ ...labels, outcome }, secondsSince(started, performance.now()));
      }
    };
  return new Proxy(provider, {
    get: (target, property, receiver) => {
      const value = bound(target, Reflect.get(target, property, receiver));
      if (typeof property !== 'string' || !TIMED.has(property) || typeof value !== 'function') return value;
      return timed(
        property === 'listRunning' ? 'list' : property,
        value as (...a: unknown[]) => Promise<unknown>,
      );
    },
  });
}

/** Methods keep their `this` (class-based repositories and providers). */
function bound(target: object, value: unknown): unknown {
  return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
}
