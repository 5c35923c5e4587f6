/**
 * The API on a real database (SQLite file or PostgreSQL, via the store's test helper) with the real
 * provider registry holding the `fake` provider, the compute and run ports read straight from the
 * store, and a trigger that records wake-ups. Usage:
 *
 *   for (const backend of backends()) apiSuite(backend, 'tenants', (h) => { h.test('…', async () => {…}) });
 */
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { EventFeed, type EventFeedOptions } from '../../callbacks/event-feed.js';
import { createProviderRegistry, type ProviderRegistry } from '../../compute/provider-registry.js';
import { readRuntimeLogs } from '../../compute/runtime-logs.js';
import { FakeEngine, FakeProvider } from '../../compute/providers/fake/index.js';
import type { ReconcileTrigger } from '../../controller/reconcile-trigger.js';
import { silentLogger } from '../../domain/logger.js';
import { testHasher } from '../../domain/testing/test-hasher.js';
import type { TriggerSource } from '../../domain/workflow-run.js';
import { apiOptionsOf } from '../../main/api-options.js';
import { defaultConfig } from '../../main/config/testing/default-config.js';
import type { Store } from '../../store/store.js';
import type { TestBackend, TestDatabase } from '../../store/testing/test-databases.js';
import type { ApiDeps, ApiOptions, ApiStore, ProviderCatalog, WebhookApi } from '../api-deps.js';
import { DestinationGuard } from '../../callbacks/webhook-destination.js';
import { PatchTenantChanger } from '../../rollouts/fleet-tenant-changer.js';
import { RolloutService } from '../../rollouts/rollout-service.js';
import { storeRolloutEvents } from '../../rollouts/store-rollout-events.js';
import type { StartRunRequest } from '../../workflow/engine.js';
import { apiSpecValidator, redactRolloutChange } from '../rollout-spec.js';
import { hashToken, type TokenConfig } from '../auth.js';
import { createApiServer } from '../server.js';

export const TOKENS = {
  admin: 'admin-secret-token',
  operator: 'operator-secret-token',
  viewer: 'viewer-secret-token',
};
export const TOKEN_CONFIG: readonly TokenConfig[] = Object.entries(TOKENS).map(([role, token]) => ({
  name: `${role}-bot`,
  role: role as TokenConfig['role'],
  sha256: hashToken(token),
}));

export class RecordingTrigger implements ReconcileTrigger {
  readonly calls: [string, TriggerSource][] = [];
  enqueue(tenantId: string, source: TriggerSource): void {
    this.calls.push([tenantId, source]);
  }
}

export function fakeRegistry(): ProviderRegistry {
  const provider = new FakeProvider({ engine: new FakeEngine() });
  const settings = {
    options: {},
    defaults: { env: { FROM_DEFAULTS: 'yes' } },
    timeoutMs: 5000,
    dataDir: '.',
    logger: silentLogger,
    hasher: testHasher,
  };
  return createProviderRegistry([{ provider, settings }], { defaultProvider: 'fake' });
}

/** SSE settings for API tests: small enough to reach the caps, a quick heartbeat. */
export const TEST_SSE: ApiOptions['sse'] = {
  heartbeatMs: 15_000,
  maxStreams: 50,
  maxStreamsPerPrincipal: 10,
};

/** A started event feed over `store` (its poll stands in for the writers' wake-ups in API tests). */
export function testFeed(store: Store, options: Partial<EventFeedOptions> = {}): EventFeed {
  const feed = new EventFeed({
    events: store.events,
    pollIntervalMs: 100,
    maxQueuedEvents: 1000,
    logger: silentLogger,
    ...options,
  });
  feed.start();
  return feed;
}

/**
 * Rollouts over the test store: runs are recorded (a row, as `start` writes one) but not executed —
 * the API tests look at what the routes store and answer; the rollout workflow runs in e2e suites.
 */
export function testRollouts(
  store: Store,
  providers: ProviderCatalog,
  trigger: RecordingTrigger,
  rawSpecs?: 'admin' | 'operator',
): RolloutService {
  const events = storeRolloutEvents(store);
  const changer = new PatchTenantChanger({
    rollouts: store.rollouts,
    tenants: store.tenants,
    revisions: store.revisions,
    plans: store.plans,
    validator: apiSpecValidator({ deps: { providers }, options: { rawSpecs } }),
    wake: (tenantId) => trigger.enqueue(tenantId, 'api'),
  });
  const engine = {
    start: (request: StartRunRequest) =>
      store.runs.createOrGet({
        runId: request.runId,
        workflow: request.workflow,
        tags: request.tags ?? {},
        engine: 'embedded',
        input: request.input,
      }),
  };
  return new RolloutService({
    rollouts: store.rollouts,
    tenants: store.tenants,
    engine,
    changer,
    events,
    redact: (change) => redactRolloutChange(providers, change),
    logger: silentLogger,
  });
}

export function apiDeps(
  store: Store,
  overrides: Partial<ApiDeps> = {},
  policy: { rawSpecs?: 'admin' | 'operator' } = {},
): ApiDeps {
  const providers = (overrides.providers as ProviderRegistry | undefined) ?? fakeRegistry();
  const trigger = new RecordingTrigger();
  return {
    store,
    feed: overrides.feed ?? testFeed(store),
    providers,
    logs: { logs: (tenant, query, signal) => readRuntimeLogs(providers, tenant, query, signal) },
    rollouts: testRollouts(store, providers, trigger, policy.rawSpecs),
    executions: {
      get: async (id) => {
        const execution = await store.executions.get(id);
        return execution && { ...execution, history: await store.executions.history(id) };
      },
      list: (query) => store.executions.list(query),
    },
    runs: { getRun: (id) => store.runs.get(id), journal: (id) => store.steps.list(id), ping: async () => {} },
    trigger,
    hasher: testHasher,
    logger: pino({ level: process.env.LESSOR_TEST_LOG ?? 'silent' }),
    metrics: new Registry(),
    webhooks: testWebhookApi(),
    ...overrides,
  };
}

/** Webhooks that may reach loopback over http (test receivers); the dispatcher is not woken. */
export function testWebhookApi(overrides: Partial<WebhookApi> = {}): WebhookApi {
  return {
    guard: new DestinationGuard({ allowHttp: true, allowedNetworks: ['127.0.0.0/8'] }),
    wake: () => {},
    secretOverlapMs: 86_400_000,
    ...overrides,
  };
}

export interface ApiHarness {
  app(): FastifyInstance;
  store(): Store;
  /** The event feed the API's streams subscribe to. */
  feed(): EventFeed;
  trigger(): RecordingTrigger;
  inject(options: InjectOptions & { token?: keyof typeof TOKENS | null }): Promise<LightMyRequestResponse>;
  test(name: string, fn: () => Promise<void>): void;
  /** Listens on 127.0.0.1:0 (once) and returns `http://127.0.0.1:<port>`. */
  baseUrl(): Promise<string>;
}

/**
 * The API settings of a default configuration, with the test tokens, no rate limit, no brake on
 * failed authentication, the test stream caps and the fake registry's default provider unless
 * `overrides` say otherwise.
 */
export function testApiOptions(overrides: Partial<ApiOptions> = {}): ApiOptions {
  return {
    ...apiOptionsOf(defaultConfig()),
    tokens: TOKEN_CONFIG,
    rateLimitPerMinute: 0,
    authFailuresPerMinute: 0,
    sse: TEST_SSE,
    defaultProvider: undefined,
    ...overrides,
  };
}

export interface SuiteOptions extends Partial<ApiOptions> {
  /** Wraps the store the API sees (to slow down or break a call). */
  readonly wrapStore?: (store: Store) => ApiStore;
  /** The API's clock (default: the real one). */
  readonly now?: () => Date;
  /** The providers (default: `fakeRegistry()`). */
  readonly providers?: ProviderRegistry;
  /** Settings of the suite's event feed (default: a 100 ms poll). */
  readonly feed?: Partial<EventFeedOptions>;
  /** The webhook ports (default: `testWebhookApi()`). */
  readonly webhooks?: WebhookApi;
}

/** One database and one server per suite and backend; tests share them (use `uniqueName`). */
export function apiSuite(
  backend: TestBackend,
  title: string,
  body: (h: ApiHarness) => void,
  { wrapStore, now, providers, feed: feedOptions, webhooks, ...options }: SuiteOptions = {},
): void {
  describe(`[${backend.name}] api: ${title}`, () => {
    let db: TestDatabase | undefined;
    let app: FastifyInstance | undefined;
    let deps: ApiDeps | undefined;
    let feed: EventFeed | undefined;
    let listening: Promise<string> | undefined;
    before(async () => {
      db = await backend.create();
      feed = testFeed(db.store, feedOptions);
      deps = apiDeps(
        db.store,
        {
          feed,
          ...(wrapStore && { store: wrapStore(db.store) }),
          ...(now && { now }),
          ...(providers && { providers }),
          ...(webhooks && { webhooks }),
        },
        { rawSpecs: options.rawSpecs },
      );
      app = await createApiServer(deps, testApiOptions(options));
      await app.ready();
    });
    after(async () => {
      await app?.close();
      await feed?.stop();
      await db?.cleanup();
    });
    const need = <T>(value: T | undefined): T => {
      if (value === undefined) throw new Error('suite not started');
      return value;
    };
    body({
      app: () => need(app),
      store: () => need(db).store,
      feed: () => need(feed),
      trigger: () => need(deps).trigger as RecordingTrigger,
      inject: ({ token = 'admin', ...rest }) => {
        const headers = { ...(token && { authorization: `Bearer ${TOKENS[token]}` }), ...rest.headers };
        return need(app).inject({ ...rest, headers });
      },
      test: (name, fn) => {
        test(`[${backend.name}] ${name}`, fn);
      },
      baseUrl: () => (listening ??= need(app).listen({ host: '127.0.0.1', port: 0 })),
    });
  });
}

export function uniqueName(prefix = 't'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function tenantBody(name: string, config: Record<string, unknown> = { image: 'nginx:alpine' }) {
  return { name, spec: { config } };
}

/** The store behind a switch: while `fail` holds an error, every store call rejects with it. */
export function breakable(): { wrap: (store: Store) => ApiStore; fail: (error: Error | undefined) => void } {
  let failure: Error | undefined;
  const guard = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(object, key, receiver) {
        const value: unknown = Reflect.get(object, key, receiver);
        if (typeof value === 'function') {
          return (...args: unknown[]) =>
            failure === undefined
              ? (value as (...a: unknown[]) => unknown).apply(object, args)
              : Promise.reject(failure);
        }
        return value !== null && typeof value === 'object' ? guard(value) : value;
      },
    });
  return { wrap: (store) => guard(store), fail: (error) => (failure = error) };
}
