/**
 * The composition root: configuration → concrete store, providers, compute manager, workflow
 * engine, callback dispatcher, controller and HTTP API → running services. Start order is bottom
 * up, shutdown top down, so nothing is called after the part it calls has closed.
 */
import { hostname } from 'node:os';
import type { Logger as PinoLogger } from 'pino';
import { Registry } from 'prom-client';
import { notifyEvents } from '../api/events-routes.js';
import { createApiServer } from '../api/server.js';
import { assertSafeBind } from '../api/auth.js';
import { CallbackDispatcher } from '../callbacks/callback-dispatcher.js';
import { ComputeManager } from '../compute/compute-manager.js';
import type { ProviderRegistry } from '../compute/provider-registry.js';
import { Controller } from '../controller/controller.js';
import { TenantReconciler } from '../controller/tenant-reconciler.js';
import { newId } from '../domain/ids.js';
import { tenantWorkflows } from '../provisioning/tenant-workflows.js';
import { createStore } from '../store/create-store.js';
import { RetentionSweeper } from '../store/retention-sweeper.js';
import type { Store } from '../store/store.js';
import type { WorkflowEngine } from '../workflow/engine.js';
import type { LessorConfig } from './config/load-config.js';
import { buildProviders } from './build-providers.js';
import { createWorkflowEngine } from './create-engine.js';
import { notifyOnEvents } from './notify-on-events.js';
import { wakeOnSettle } from './wake-on-settle.js';

/** Extra wait beyond a provider timeout before a workflow queries an execution it heard nothing of. */
const AWAIT_GRACE_MS = 5_000;

export interface LessorApp {
  readonly url: string;
  readonly store: Store;
  readonly providers: ProviderRegistry;
  readonly engine: WorkflowEngine;
  readonly controller: Controller;
  close(graceMs?: number): Promise<void>;
}

export async function startLessor(config: LessorConfig, logger: PinoLogger): Promise<LessorApp> {
  assertSafeBind(config.server.host, config.server.tokens);
  const instanceId = `${hostname()}:${process.pid}:${newId()}`;
  const database = await createStore({
    url: config.database.url,
    dataDir: config.dataDir,
    logger,
    poolSize: config.database.poolSize,
  });
  const closers: (() => Promise<void>)[] = [() => database.close()];
  const store = notifyOnEvents(database, notifyEvents);
  const closeAll = async (): Promise<void> => {
    for (const close of closers.reverse())
      await close().catch((error: unknown) => logger.warn({ err: error }, 'close failed'));
  };
  try {
    await store.migrate();
    const providers = await buildProviders(config, logger);
    closers.push(() => providers.close());

    // The dispatcher needs the engine, which needs the workflows, which need the compute manager.
    let wakeCallbacks = (): void => {};
    const compute = new ComputeManager({
      ledger: wakeOnSettle(store.executions, () => wakeCallbacks()),
      registry: providers,
      instanceId,
      tenants: (id) => store.tenants.get(id),
      logger,
    });
    const workflows = tenantWorkflows({
      compute,
      tenants: store.tenants,
      retryPolicies: config.retryPolicy,
      awaitGraceMs: AWAIT_GRACE_MS,
    });
    const engine = await createWorkflowEngine(config, {
      store,
      definitions: workflows,
      ownerId: instanceId,
      logger,
    });
    const dispatcher = new CallbackDispatcher(
      { callbacks: store.callbacks, engine, logger: logger.child({ component: 'callbacks' }) },
      config.callbacks,
    );
    wakeCallbacks = () => dispatcher.wake();
    const reconciler = new TenantReconciler({
      tenants: store.tenants,
      runs: store.runs,
      engine,
      compute,
      logger: logger.child({ component: 'reconciler' }),
    });
    const controller = new Controller(
      { tenants: store.tenants, events: store.events, reconciler, compute, logger },
      config.controller,
    );

    compute.open();
    closers.push(() => compute.close());
    await engine.open();
    closers.push(() => engine.close(10_000));
    dispatcher.start();
    closers.push(() => dispatcher.stop());
    await controller.start();
    closers.push(() => controller.stop(10_000));
    const retention = new RetentionSweeper(
      { retention: store.retention, logger: logger.child({ component: 'retention' }) },
      config.retention,
    );
    retention.start();
    closers.push(() => retention.stop());

    const api = await createApiServer(
      {
        store,
        providers,
        executions: compute,
        runs: engine,
        trigger: controller,
        logger,
        metrics: new Registry(),
        wakeCallbacks: () => dispatcher.wake(),
      },
      {
        tokens: config.server.tokens,
        bodyLimitBytes: config.server.bodyLimitBytes,
        requestTimeoutMs: config.server.requestTimeoutMs,
        rateLimitPerMinute: config.server.rateLimit.perMinute,
        authFailuresPerMinute: config.server.authFailureLimit.perMinute,
        defaultProvider: config.compute.defaultProvider,
      },
    );
    const url = await api.listen({ host: config.server.host, port: config.server.port });
    closers.push(() => api.close());
    logger.info(
      { url, engine: engine.type, database: store.dialect, providers: providers.list().map((p) => p.type) },
      'lessor is serving',
    );
    return { url, store, providers, engine, controller, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
