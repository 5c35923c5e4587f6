/**
 * The composition root: configuration → secrets key ring, concrete store (sealing secrets at
 * rest; opened and migrated, waiting for a database that is not reachable yet), keyed config
 * hash, event feed, providers, compute manager, workflow engine, callback dispatcher, controller
 * and HTTP API (the build step) → running services (the start step). Everything runs under one
 * Lifecycle: start order is bottom up, and `close` stops top down under one deadline, so nothing
 * is called after the part it calls has stopped.
 */
import type { TraceContext } from '../domain/tracing.js';
import type { TenantRun } from '../domain/tenant-run.js';
import { TenantHandoff } from '../domain/tenant-handoff.js';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger as PinoLogger } from 'pino';
import { Registry } from 'prom-client';
import { createApiServer } from '../api/server.js';
import { CallbackDispatcher } from '../callbacks/callback-dispatcher.js';
import { EventFeed } from '../callbacks/event-feed.js';
import { ComputeManager } from '../compute/compute-manager.js';
import type { ProviderRegistry } from '../compute/provider-registry.js';
import { Controller } from '../controller/controller.js';
import { TenantReconciler } from '../controller/tenant-reconciler.js';
import type { ConfigHasher } from '../domain/config-hasher.js';
import { NO_METRICS, type CounterPort, type Metrics } from '../domain/metrics.js';
import { newId } from '../domain/ids.js';
import { effectiveTenants } from '../provisioning/plan-specs.js';
import { tenantWorkflows } from '../provisioning/tenant-workflows.js';
import { apiSpecValidator, redactRolloutChange } from '../api/rollout-spec.js';
import { PatchTenantChanger } from '../rollouts/fleet-tenant-changer.js';
import { RolloutDriver } from '../rollouts/rollout-driver.js';
import { MemberWakeups } from '../rollouts/member-wakeups.js';
import { RolloutService } from '../rollouts/rollout-service.js';
import { rolloutWorkflow } from '../rollouts/rollout-workflow.js';
import { storeRolloutEvents } from '../rollouts/store-rollout-events.js';
import { RetentionSweeper } from '../store/retention-sweeper.js';
import type { Store } from '../store/store.js';
import type { WorkflowEngine } from '../workflow/engine.js';
import { apiOptionsOf } from './api-options.js';
import type { LessorConfig } from './config/load-config.js';
import { buildProviders } from './build-providers.js';
import { upsertConfigPlans } from './config-plans.js';
import { createWorkflowEngine } from './create-engine.js';
import { Lifecycle } from './lifecycle.js';
import { openDatabase } from './open-database.js';
import { loadConfigHasher, openServerSecrets } from './secrets/server-secrets.js';
import { webhookService, type WebhookService } from './webhook-service.js';
import { registerFleetGauges } from './telemetry/fleet-gauges.js';
import { meteredLedger, meteredProvider } from './telemetry/metered.js';
import { createPromMetrics } from './telemetry/prom-metrics.js';
import { meteredRolloutEvents, registerRolloutMetrics } from './telemetry/rollout-metrics.js';
import { startTracing } from './telemetry/tracing.js';

/** Extra wait beyond a provider timeout before a workflow queries an execution it heard nothing of. */
const AWAIT_GRACE_MS = 5_000;

/**
 * A rollout ticks when a member's run ends here; at the latest after this (the fallback poll, which
 * also reads every member in flight and the tallies again).
 */
const ROLLOUT_POLL_MS = 1_000;

export interface LessorApp {
  readonly url: string;
  readonly store: Store;
  readonly providers: ProviderRegistry;
  readonly engine: WorkflowEngine;
  readonly controller: Controller;
  /** Stops everything within `graceMs` in total (default `server.shutdownGraceMs`); idempotent. */
  close(graceMs?: number): Promise<void>;
}

/** What the build step makes; nothing of it runs yet, but the store and providers are open. */
interface Services {
  readonly store: Store;
  readonly feed: EventFeed;
  readonly providers: ProviderRegistry;
  readonly compute: ComputeManager;
  readonly engine: WorkflowEngine;
  readonly dispatcher: CallbackDispatcher;
  readonly controller: Controller;
  readonly retention: RetentionSweeper;
  readonly webhooks: WebhookService;
  readonly rollouts: RolloutService;
  /** Tenant runs that ended, for the rollouts driven here; stopped before the engine. */
  readonly rolloutWakeups: MemberWakeups;
  readonly api: FastifyInstance;
  /** The deployment's keyed config hash (its key is kept sealed in the database). */
  readonly hasher: ConfigHasher;
  /** What `/metrics` serves. */
  readonly registry: Registry;
}

export interface StartOptions {
  /** Exports every span as it ends (tests: the SDK's in-memory exporter); turns tracing on. */
  readonly traceExporter?: SpanExporter;
  /** Batch `traceExporter`'s spans as the OTLP exporter's are (the bench) instead of span by span. */
  readonly batchTraceExport?: boolean;
  /** false: record no metrics beyond HTTP request durations (the bench's baseline). Default true. */
  readonly metrics?: boolean;
}

export async function startLessor(
  config: LessorConfig,
  logger: PinoLogger,
  options: StartOptions = {},
): Promise<LessorApp> {
  const lifecycle = new Lifecycle({ logger });
  const close = (graceMs = config.server.shutdownGraceMs): Promise<void> => lifecycle.stop(graceMs);
  try {
    const tracing = startTracing({
      endpoint: config.telemetry.otlp.endpoint,
      exporter: options.traceExporter,
      batch: options.batchTraceExport,
    });
    if (tracing) lifecycle.onStop('tracing', () => tracing.stop());
    const services = await buildServices(config, logger, lifecycle, options.metrics ?? true);
    const url = await startServices(services, config, lifecycle);
    const { store, providers, engine, controller } = services;
    logger.info(
      { url, engine: engine.type, database: store.dialect, providers: providers.list().map((p) => p.type) },
      'lessor is serving',
    );
    return { url, store, providers, engine, controller, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Starts the services bottom up; each one's stop is registered as soon as it runs. */
async function startServices(
  services: Services,
  config: LessorConfig,
  lifecycle: Lifecycle,
): Promise<string> {
  const { feed, compute, engine, dispatcher, webhooks, controller, retention, rollouts, api } = services;
  const { rolloutWakeups } = services;
  await lifecycle.start(
    'event feed',
    () => feed.start(),
    () => feed.stop(),
  );
  await lifecycle.start(
    'compute',
    () => compute.open(),
    (grace) => compute.close(grace),
  );
  await lifecycle.start(
    'engine',
    () => engine.open(),
    (grace) => engine.close(grace),
  );
  await lifecycle.start(
    'callbacks',
    () => dispatcher.start(),
    () => dispatcher.stop(),
  );
  await lifecycle.start(
    'webhooks',
    () => webhooks.start(),
    (grace) => webhooks.stop(grace),
  );
  await lifecycle.start(
    'controller',
    () => controller.start(),
    (grace) => controller.stop(grace),
  );
  // A rollout stored just before a crash, its run not yet started, is driven all the same.
  await lifecycle.start(
    'rollouts',
    async () => void (await rollouts.resumeAll()),
    // Steps waiting for a member's run hand back to the engine, which then stops them.
    async () => rolloutWakeups.stop(),
  );
  await lifecycle.start(
    'retention',
    () => retention.start(),
    () => retention.stop(),
  );
  let url = '';
  const listen = async (): Promise<void> => {
    url = await api.listen({ host: config.server.host, port: config.server.port });
  };
  await lifecycle.start('api', listen, (grace) => closeApi(api, grace));
  return url;
}

async function buildServices(
  config: LessorConfig,
  logger: PinoLogger,
  lifecycle: Lifecycle,
  recordMetrics: boolean,
): Promise<Services> {
  const instanceId = `${hostname()}:${process.pid}:${newId()}`;
  const registry = new Registry();
  const metrics = recordMetrics ? createPromMetrics(registry) : NO_METRICS;
  const secrets = openServerSecrets(config, logger);
  const store = await openDatabase(config, logger, { secrets: secrets.atRest, metrics: metrics.store });
  lifecycle.onStop('database', () => store.close());
  const { pollIntervalMs, maxQueuedEvents } = config.server.sse;
  const feed = new EventFeed({
    events: store.events,
    pollIntervalMs,
    maxQueuedEvents,
    logger: logger.child({ component: 'event-feed' }),
  });
  // Committed events wake the feed's read at once (it also polls for other replicas' writes).
  store.changes.subscribe('events', () => feed.changed());
  const hasher = await loadConfigHasher(store);
  let rolloutHalts: CounterPort<'reason'> = { inc: () => {} };
  if (recordMetrics) {
    const gauges = {
      refreshIntervalMs: config.server.metrics.refreshIntervalMs,
      logger: logger.child({ component: 'metrics' }),
    };
    registerFleetGauges(registry, { ...gauges, stats: store.stats });
    rolloutHalts = registerRolloutMetrics(registry, { ...gauges, rollouts: store.rollouts });
  }
  const providers = await buildProviders(config, logger, hasher, (p) =>
    recordMetrics ? meteredProvider(p, metrics) : p,
  );
  lifecycle.onStop('providers', () => providers.close());
  secrets.bindFields(providers);
  await upsertConfigPlans(config.plans, {
    store,
    providers,
    defaultProvider: config.compute.defaultProvider,
    logger: logger.child({ component: 'plans' }),
  });
  const core = await buildCore(config, logger, {
    store,
    providers,
    instanceId,
    hasher,
    metrics,
    recordMetrics,
    rolloutHalts,
  });
  const retention = new RetentionSweeper(
    { retention: store.retention, logger: logger.child({ component: 'retention' }) },
    config.retention,
  );
  const webhooks = webhookService(config.webhooks, {
    store,
    providers,
    instanceId,
    logger,
    ...(recordMetrics && {
      metrics: { registry, refreshIntervalMs: config.server.metrics.refreshIntervalMs },
    }),
  });
  store.changes.subscribe('webhooks', () => webhooks.wake());
  const api = await buildApi(config, logger, { ...core, store, feed, providers, hasher, webhooks, registry });
  return { ...core, store, feed, providers, retention, webhooks, api, hasher, registry };
}

interface CoreDeps {
  readonly store: Store;
  readonly providers: ProviderRegistry;
  readonly instanceId: string;
  readonly hasher: ConfigHasher;
  readonly metrics: Metrics;
  readonly recordMetrics: boolean;
  /** Counts rollout halts (a no-op with metrics off). */
  readonly rolloutHalts: CounterPort<'reason'>;
}

/** The compute manager, workflows, engine, callback dispatcher and controller, wired together. */
async function buildCore(
  config: LessorConfig,
  logger: PinoLogger,
  { store, providers, instanceId, hasher, metrics, recordMetrics, rolloutHalts }: CoreDeps,
): Promise<
  Pick<Services, 'compute' | 'engine' | 'dispatcher' | 'controller' | 'rollouts' | 'rolloutWakeups'>
> {
  // The compute path sees effective specs: a plan tenant's overrides merged onto its plan revision.
  const planTenants = effectiveTenants(store.tenants, store.plans);
  // Rollouts wake the controller, which needs the engine, which runs the rollouts.
  let wakeTenant = (_tenantId: string, _trace?: TraceContext): void => {};
  const compute = new ComputeManager({
    ledger: recordMetrics ? meteredLedger(store.executions, metrics.compute) : store.executions,
    registry: providers,
    hasher,
    instanceId,
    tenants: (id) => planTenants.get(id),
    logger,
  });
  // The tenant a reconcile read, handed to the run it starts here (src/domain/tenant-handoff.ts).
  const handoff = new TenantHandoff();
  const definitions = tenantWorkflows({
    compute,
    tenants: planTenants,
    handoff,
    retryPolicies: config.retryPolicy,
    awaitGraceMs: AWAIT_GRACE_MS,
    providerTimeoutMs: (provider) => providers.get(providers.resolveProvider(provider)).settings.timeoutMs,
  });
  let wakeController = (_run: TenantRun): void => {};
  const wakeups = new MemberWakeups();
  const rolloutEvents = meteredRolloutEvents(storeRolloutEvents(store), rolloutHalts);
  const changer = new PatchTenantChanger({
    rollouts: store.rollouts,
    tenants: store.tenants,
    revisions: store.revisions,
    plans: store.plans,
    validator: apiSpecValidator({
      deps: { providers },
      options: { defaultProvider: config.compute.defaultProvider, rawSpecs: config.policy.rawSpecs },
    }),
    wake: (tenantId, trace) => wakeTenant(tenantId, trace),
  });
  const driver = new RolloutDriver({
    rollouts: store.rollouts,
    changer,
    events: rolloutEvents,
    redact: (change) => redactRolloutChange(providers, change),
    pollMs: ROLLOUT_POLL_MS,
    wakeups,
    logger: logger.child({ component: 'rollouts' }),
  });
  const engine = await createWorkflowEngine(config, {
    store,
    definitions: [...definitions, rolloutWorkflow(driver)],
    ownerId: instanceId,
    logger,
    onTenantRunEnded: (run) => {
      wakeController(run);
      wakeups.runEnded(run.tenantId);
    },
    metrics: metrics.workflows,
  });
  const dispatcher = new CallbackDispatcher(
    {
      callbacks: store.callbacks,
      engine,
      logger: logger.child({ component: 'callbacks' }),
      metrics: metrics.callbacks,
    },
    config.callbacks,
  );
  // A queued callback is delivered at once, handed over in memory (the dispatcher also polls the
  // outbox, for rows a crash or another replica left).
  store.changes.subscribeCallbacks((callbacks) => dispatcher.handOff(callbacks));
  const reconciler = new TenantReconciler({
    tenants: planTenants,
    runs: store.runs,
    engine,
    compute,
    hasher,
    logger: logger.child({ component: 'reconciler' }),
    handoff,
  });
  const controller = new Controller(
    { tenants: store.tenants, events: store.events, reconciler, compute, logger, metrics },
    config.controller,
  );
  wakeController = (run) => controller.runEnded(run);
  wakeTenant = (tenantId, trace) => controller.enqueue(tenantId, 'api', trace);
  const rollouts = new RolloutService({
    rollouts: store.rollouts,
    tenants: store.tenants,
    engine,
    changer,
    events: rolloutEvents,
    redact: (change) => redactRolloutChange(providers, change),
    logger: logger.child({ component: 'rollouts' }),
  });
  return { compute, engine, dispatcher, controller, rollouts, rolloutWakeups: wakeups };
}

function buildApi(
  config: LessorConfig,
  logger: PinoLogger,
  services: Omit<Services, 'api' | 'retention'>,
): Promise<FastifyInstance> {
  const {
    store,
    feed,
    providers,
    compute,
    engine,
    controller,
    dispatcher,
    hasher,
    webhooks,
    rollouts,
    registry,
  } = services;
  return createApiServer(
    {
      store,
      feed,
      providers,
      executions: compute,
      logs: compute,
      runs: engine,
      trigger: controller,
      hasher,
      logger,
      metrics: registry,
      wakeCallbacks: () => dispatcher.wake(),
      webhooks: webhooks.api,
      rollouts,
    },
    apiOptionsOf(config),
  );
}

/** Requests in flight get the grace to finish (event streams end at once); then connections are cut. */
async function closeApi(api: FastifyInstance, graceMs: number): Promise<void> {
  const timer = setTimeout(() => api.server.closeAllConnections(), graceMs);
  try {
    await api.close();
  } finally {
    clearTimeout(timer);
  }
}
