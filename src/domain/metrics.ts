/**
 * The metrics port: named instruments every loop records into, without knowing the metrics library
 * behind them (the composition root binds them to Prometheus; `NO_METRICS` drops everything). Names,
 * labels and meanings are listed in docs/operations.md.
 *
 * Invariants an implementation keeps:
 * - Recording never throws and never blocks: it is safe on every hot path.
 * - Label values come from small closed sets (provider types, operations, outcomes, error codes,
 *   workflow names, engine types): never a tenant id, run id or free text.
 * - Durations are in seconds.
 */

export type Labels<L extends string> = Readonly<Record<L, string>>;

export interface CounterPort<L extends string = never> {
  inc(labels: Labels<L>, value?: number): void;
}

export interface GaugePort<L extends string = never> {
  set(labels: Labels<L>, value: number): void;
  inc(labels: Labels<L>, value?: number): void;
  dec(labels: Labels<L>, value?: number): void;
}

export interface HistogramPort<L extends string = never> {
  observe(labels: Labels<L>, value: number): void;
}

const noCounter: CounterPort<string> = { inc: () => {} };
const noGauge: GaugePort<string> = { set: () => {}, inc: () => {}, dec: () => {} };
const noHistogram: HistogramPort<string> = { observe: () => {} };

/** The controller-runtime work-queue set; `name` is the queue's name (`tenants`). */
export interface WorkQueueMetrics {
  /** Keys waiting to be handled (not counting those being handled or scheduled for later). */
  readonly depth: GaugePort<'name'>;
  readonly adds: CounterPort<'name'>;
  /** Keys scheduled again after a failure (rate-limited requeues). */
  readonly retries: CounterPort<'name'>;
  /** Seconds a key waited in the queue before a worker took it. */
  readonly queueDuration: HistogramPort<'name'>;
  /** Seconds a worker spent handling a key. */
  readonly workDuration: HistogramPort<'name'>;
  /** Workers handling a key now. */
  readonly activeWorkers: GaugePort<'name'>;
}

export type ReconcileResult = 'success' | 'error' | 'requeue_after';

export interface ControllerMetrics {
  readonly reconciles: CounterPort<'controller' | 'result'>;
  readonly reconcileErrors: CounterPort<'controller'>;
  /** Runtimes found stopped or removed out of band and recreated. */
  readonly driftRepairs: CounterPort<'controller'>;
}

export interface WorkflowMetrics {
  readonly runsStarted: CounterPort<'engine' | 'workflow'>;
  /** `outcome`: succeeded, failed, cancelled. */
  readonly runsFinished: CounterPort<'engine' | 'workflow' | 'outcome'>;
  /** Seconds from a run's creation to its end. */
  readonly runDuration: HistogramPort<'engine' | 'workflow' | 'outcome'>;
  /** Runs claimed mid-execution (their holder died, lost its lease or released it at shutdown). */
  readonly leaseTakeovers: CounterPort<'engine'>;
}

export interface ComputeMetrics {
  /** Settled executions; `error_code` is empty on success. */
  readonly executions: CounterPort<'provider' | 'operation' | 'outcome' | 'error_code'>;
  /** Provider calls (provision, update, delete, describe, list) by outcome (ok, error). */
  readonly providerCallDuration: HistogramPort<'provider' | 'operation' | 'outcome'>;
  /** Provider calls in flight in this process. */
  readonly inFlight: GaugePort<'provider' | 'operation'>;
}

export interface CallbackMetrics {
  /** Delivery attempts; `outcome`: delivered, failed, dead (the failure parked it). */
  readonly attempts: CounterPort<'outcome'>;
  /** Seconds from the callback's creation to its delivery. */
  readonly deliveryLag: HistogramPort;
  readonly deadLetters: CounterPort;
}

/**
 * Outgoing webhook deliveries (registered by `createWebhookMetrics`); the outbox's pending and dead
 * counts are fleet-wide gauges read from the store at scrape time, not recorded here.
 */
export interface WebhookMetrics {
  /** Recorded attempts; `outcome`: delivered, failed (retried later, or refused for good), dead. */
  readonly deliveries: CounterPort<'outcome'>;
  /** Seconds from the event's commit (the delivery's queuing) to its successful delivery. */
  readonly deliveryLag: HistogramPort;
  /** Deliveries that became dead letters (retry window over). */
  readonly deadLetters: CounterPort;
}

export const NO_WEBHOOK_METRICS: WebhookMetrics = {
  deliveries: noCounter,
  deliveryLag: noHistogram,
  deadLetters: noCounter,
};

/** Rollouts (registered by `createRolloutMetrics`; names reserved in docs/operations.md). */
export interface RolloutMetrics {
  readonly active: GaugePort;
  /** Tenants of active rollouts by their rollout state. */
  readonly tenants: GaugePort<'state'>;
  /** `reason`: a short closed set (e.g. failure_threshold, manual). */
  readonly halts: CounterPort<'reason'>;
}

export interface StoreMetrics {
  /** `kind`: select, insert, update, delete, other (DDL, raw). */
  readonly queryDuration: HistogramPort<'dialect' | 'kind'>;
  /** Units (store calls) committed together by one SQLite group commit. */
  readonly groupCommitBatchSize: HistogramPort;
  /**
   * Transactions begun (each costs a BEGIN and a COMMIT or ROLLBACK besides its queries; on SQLite
   * a savepoint in a group-commit batch). With `queryDuration`'s count: the statements a unit of
   * work costs.
   */
  readonly transactions: CounterPort<'dialect'>;
}

export interface Metrics {
  readonly workQueue: WorkQueueMetrics;
  readonly controller: ControllerMetrics;
  readonly workflows: WorkflowMetrics;
  readonly compute: ComputeMetrics;
  readonly callbacks: CallbackMetrics;
  readonly store: StoreMetrics;
}

/** Records nothing (tests and tools that do not care). */
export const NO_METRICS: Metrics = {
  workQueue: {
    depth: noGauge,
    adds: noCounter,
    retries: noCounter,
    queueDuration: noHistogram,
    workDuration: noHistogram,
    activeWorkers: noGauge,
  },
  controller: { reconciles: noCounter, reconcileErrors: noCounter, driftRepairs: noCounter },
  workflows: {
    runsStarted: noCounter,
    runsFinished: noCounter,
    runDuration: noHistogram,
    leaseTakeovers: noCounter,
  },
  compute: { executions: noCounter, providerCallDuration: noHistogram, inFlight: noGauge },
  callbacks: { attempts: noCounter, deliveryLag: noHistogram, deadLetters: noCounter },
  store: { queryDuration: noHistogram, groupCommitBatchSize: noHistogram, transactions: noCounter },
};

/** Seconds since `start` (a `performance.now()` or `Date.now()` reading in ms). */
export function secondsSince(startMs: number, nowMs: number): number {
  return Math.max(0, nowMs - startMs) / 1000;
}
