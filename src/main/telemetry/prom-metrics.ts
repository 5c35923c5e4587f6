/**
 * The metrics port bound to prom-client: every instrument of `Metrics` registered on one Registry
 * (one per app instance). Names and labels are documented in docs/operations.md; the Grafana
 * dashboard in deploy/grafana/ queries them and a test checks that each one it queries exists.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { SeriesHistogram } from '../../api/series-histogram.js';
import type {
  CounterPort,
  GaugePort,
  HistogramPort,
  Metrics,
  RolloutMetrics,
  WebhookMetrics,
} from '../../domain/metrics.js';

/** Work and wait times: from a millisecond to a minute (controller-runtime's range, trimmed). */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Runs and provider calls: from 10 ms to 30 minutes. */
const LONG_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
/** Store queries: from 100 µs to 5 s. */
const QUERY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

export const METRIC_NAMES = {
  workQueueDepth: 'lessor_workqueue_depth',
  workQueueAdds: 'lessor_workqueue_adds_total',
  workQueueRetries: 'lessor_workqueue_retries_total',
  workQueueQueueDuration: 'lessor_workqueue_queue_duration_seconds',
  workQueueWorkDuration: 'lessor_workqueue_work_duration_seconds',
  workQueueActiveWorkers: 'lessor_workqueue_active_workers',
  reconciles: 'lessor_controller_reconcile_total',
  reconcileErrors: 'lessor_controller_reconcile_errors_total',
  driftRepairs: 'lessor_controller_drift_repairs_total',
  runsStarted: 'lessor_workflow_runs_started_total',
  runsFinished: 'lessor_workflow_runs_finished_total',
  runDuration: 'lessor_workflow_run_duration_seconds',
  leaseTakeovers: 'lessor_workflow_lease_takeovers_total',
  executions: 'lessor_compute_executions_total',
  providerCallDuration: 'lessor_compute_provider_call_duration_seconds',
  providerCallsInFlight: 'lessor_compute_provider_calls_in_flight',
  callbackAttempts: 'lessor_callback_delivery_attempts_total',
  callbackLag: 'lessor_callback_delivery_lag_seconds',
  callbackDeadLetters: 'lessor_callback_dead_letters_total',
  storeQueryDuration: 'lessor_store_query_duration_seconds',
  groupCommitBatchSize: 'lessor_store_sqlite_group_commit_batch_size',
  storeTransactions: 'lessor_store_transactions_total',
} as const;

/** Creates (or, for a second server on the same registry, reuses) every instrument. */
export function createPromMetrics(registry: Registry): Metrics {
  const n = METRIC_NAMES;
  const queue = ['name'] as const;
  const run = ['engine', 'workflow'] as const;
  return {
    workQueue: {
      depth: gauge(registry, n.workQueueDepth, 'Keys waiting in the work queue', queue),
      adds: counter(registry, n.workQueueAdds, 'Keys added to the work queue', queue),
      retries: counter(registry, n.workQueueRetries, 'Keys requeued with backoff after a failure', queue),
      queueDuration: histogram(
        registry,
        n.workQueueQueueDuration,
        'Seconds a key waited before a worker took it',
        queue,
        LATENCY_BUCKETS,
      ),
      workDuration: histogram(
        registry,
        n.workQueueWorkDuration,
        'Seconds a worker spent on a key',
        queue,
        LATENCY_BUCKETS,
      ),
      activeWorkers: gauge(registry, n.workQueueActiveWorkers, 'Workers handling a key now', queue),
    },
    controller: {
      reconciles: counter(registry, n.reconciles, 'Reconciles by result (success, error, requeue_after)', [
        'controller',
        'result',
      ]),
      reconcileErrors: counter(registry, n.reconcileErrors, 'Reconciles that failed', ['controller']),
      driftRepairs: counter(
        registry,
        n.driftRepairs,
        'Runtimes found stopped or removed out of band and recreated',
        ['controller'],
      ),
    },
    workflows: {
      runsStarted: counter(registry, n.runsStarted, 'Workflow runs created', run),
      runsFinished: counter(registry, n.runsFinished, 'Workflow runs ended, by outcome', [...run, 'outcome']),
      runDuration: histogram(
        registry,
        n.runDuration,
        "Seconds from a run's creation to its end",
        [...run, 'outcome'],
        LONG_BUCKETS,
      ),
      leaseTakeovers: counter(
        registry,
        n.leaseTakeovers,
        'Runs claimed mid-execution from a dead, expired or released holder',
        ['engine'],
      ),
    },
    compute: {
      executions: counter(registry, n.executions, 'Settled compute executions', [
        'provider',
        'operation',
        'outcome',
        'error_code',
      ]),
      providerCallDuration: histogram(
        registry,
        n.providerCallDuration,
        'Seconds a provider call took',
        ['provider', 'operation', 'outcome'],
        LONG_BUCKETS,
      ),
      inFlight: gauge(registry, n.providerCallsInFlight, 'Provider calls in flight in this process', [
        'provider',
        'operation',
      ]),
    },
    callbacks: {
      attempts: counter(
        registry,
        n.callbackAttempts,
        'Callback delivery attempts by outcome (delivered, failed, dead)',
        ['outcome'],
      ),
      deliveryLag: histogram(
        registry,
        n.callbackLag,
        "Seconds from a callback's creation to its delivery",
        [],
        LONG_BUCKETS,
      ),
      deadLetters: counter(registry, n.callbackDeadLetters, 'Callbacks parked as dead letters', []),
    },
    store: {
      queryDuration: histogram(
        registry,
        n.storeQueryDuration,
        'Seconds a store query took',
        ['dialect', 'kind'],
        QUERY_BUCKETS,
      ),
      groupCommitBatchSize: histogram(
        registry,
        n.groupCommitBatchSize,
        'Store calls committed by one SQLite transaction',
        [],
        BATCH_BUCKETS,
      ),
      transactions: counter(registry, n.storeTransactions, 'Store transactions begun', ['dialect']),
    },
  };
}

/** Webhook delivery metrics on the app's registry (idempotent: a second call reuses them). */
export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  return {
    deliveries: counter(
      registry,
      'lessor_webhook_deliveries_total',
      'Webhook delivery attempts recorded, by outcome (delivered, failed, dead)',
      ['outcome'],
    ),
    deliveryLag: histogram(
      registry,
      'lessor_webhook_delivery_lag_seconds',
      "Seconds from an event's commit to its webhook delivery",
      [],
      LONG_BUCKETS,
    ),
    deadLetters: counter(
      registry,
      'lessor_webhook_dead_letters_total',
      'Webhook deliveries parked as dead letters',
      [],
    ),
  };
}

/** Rollout metrics on the app's registry (idempotent: a second call reuses them). */
export function createRolloutMetrics(registry: Registry): RolloutMetrics {
  return {
    active: gauge(registry, 'lessor_rollouts_active', 'Rollouts in progress', []),
    tenants: gauge(registry, 'lessor_rollout_tenants', 'Tenants of active rollouts by rollout state', [
      'state',
    ]),
    halts: counter(registry, 'lessor_rollout_halts_total', 'Rollouts halted, by reason', ['reason']),
  };
}

function existing<T>(
  registry: Registry,
  name: string,
  type: abstract new (...args: never[]) => T,
): T | undefined {
  const metric = registry.getSingleMetric(name);
  return metric instanceof type ? metric : undefined;
}

function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
): CounterPort<L> {
  return existing(registry, name, Counter) ?? new Counter({ name, help, labelNames, registers: [registry] });
}

function gauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
): GaugePort<L> {
  return existing(registry, name, Gauge) ?? new Gauge({ name, help, labelNames, registers: [registry] });
}

function histogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  buckets: number[],
): HistogramPort<L> {
  return (
    existing(registry, name, Histogram) ??
    new SeriesHistogram({ name, help, labelNames, buckets, registers: [registry] })
  );
}
