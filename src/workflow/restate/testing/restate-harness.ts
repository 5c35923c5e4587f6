/**
 * A test world for the `restate` engine: one real restate-server and one real SQLite file store,
 * shared by the tests of a file; engines opened per test, each on its own Restate service name (so
 * tests never see each other's runs) unless a test reopens one (same name and port: a restarted
 * Lessor process). Small polling helpers sit here too.
 */
import { randomUUID } from 'node:crypto';
import { silentLogger, type Logger } from '../../../domain/logger.js';
import { isRunActive, type WorkflowRun } from '../../../domain/workflow-run.js';
import { sqliteBackend, type TestDatabase } from '../../../store/testing/test-databases.js';
import type { WorkflowContext, WorkflowDefinition } from '../../context.js';
import type { StartRunRequest } from '../../engine.js';
import { createRestateEngine, type RestateEngine, type RestateEngineOptions } from '../index.js';
import { startRestateServer, type RestateServer, type RestateServerOptions } from './restate-server.js';

export type EngineOverrides = Partial<Omit<RestateEngineOptions, 'store' | 'definitions' | 'logger'>>;

export interface RestateWorld {
  readonly server: RestateServer;
  readonly db: TestDatabase;
  newTenant(): Promise<string>;
  /** Opens an engine (closed without grace by `cleanup`); a fresh service name unless given. */
  engine(
    definitions: readonly WorkflowDefinition<never, unknown>[],
    overrides?: EngineOverrides,
  ): Promise<RestateEngine>;
  /** `data` of the tenant's RunStateChanged events, oldest first. */
  runEvents(tenantId: string): Promise<readonly Record<string, unknown>[]>;
  cleanup(): Promise<void>;
}

/** Fast retries, so recovery after a crash takes well under a second. */
export const TEST_RETRY_POLICY = {
  initialIntervalMs: 50,
  maxIntervalMs: 300,
  factor: 2,
  maxAttempts: 10_000,
};

export async function createRestateWorld(options: RestateServerOptions = {}): Promise<RestateWorld> {
  const server = await startRestateServer(options);
  const db = await sqliteBackend.create();
  const engines: RestateEngine[] = [];
  return {
    server,
    db,
    newTenant: async () => {
      const spec = {
        provider: 'fake',
        config: {},
        labels: {},
        annotations: {},
        retryPolicy: null,
        paused: false,
      };
      return (await db.store.tenants.create({ name: `t-${randomUUID().slice(0, 8)}`, spec, actor: 'test' }))
        .id;
    },
    engine: async (definitions, overrides = {}) => {
      const engine = await createRestateEngine({
        store: db.store,
        definitions,
        logger: testLogger(),
        ingressUrl: server.ingressUrl,
        adminUrl: server.adminUrl,
        endpointHost: '127.0.0.1',
        endpointPort: 0,
        identityKeys: [],
        serviceName: `LessorRun_${randomUUID().replaceAll('-', '').slice(0, 12)}`,
        retryPolicy: TEST_RETRY_POLICY,
        requestTimeoutMs: 5_000,
        ...overrides,
      });
      engines.push(engine);
      await engine.open();
      return engine;
    },
    runEvents: async (tenantId) => {
      const events = await db.store.events.listByTenant(tenantId, { limit: 1000 });
      return events.filter((e) => e.type === 'RunStateChanged').map((e) => ({ ...e.data }));
    },
    cleanup: async () => {
      await Promise.all(engines.map((e) => e.close(0)));
      await db.cleanup();
      await server.stop();
    },
  };
}

/** Silent, unless LESSOR_TEST_LOG=1: then every line goes to stderr (diagnostics). */
export function testLogger(bindings: Record<string, unknown> = {}): Logger {
  if (process.env.LESSOR_TEST_LOG !== '1') return silentLogger;
  const line =
    (level: string) =>
    (first: object | string, message?: string): void => {
      const fields = typeof first === 'string' ? {} : first;
      const text = typeof first === 'string' ? first : (message ?? '');
      const err = (fields as { err?: unknown }).err;
      const detail = JSON.stringify({
        ...bindings,
        ...fields,
        ...(err instanceof Error && { err: err.message }),
      });
      process.stderr.write(`${new Date().toISOString()} ${level} ${text} ${detail}\n`);
    };
  return {
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    child: (more) => testLogger({ ...bindings, ...more }),
  };
}

/** A definition from a function. */
export function define(
  name: string,
  run: (ctx: WorkflowContext, input: unknown) => Promise<unknown>,
): WorkflowDefinition<never, unknown> {
  return { name, run };
}

export function startRequest(tenantId: string, workflow: string, input: unknown = null): StartRunRequest {
  return {
    runId: `${tenantId}:provision:g1`,
    workflow,
    input,
    tenantId,
    action: 'provision',
    triggerSource: 'api',
    generation: 1,
    configHash: 'hash',
  };
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function finished(world: RestateWorld, runId: string, timeoutMs = 10_000): Promise<WorkflowRun> {
  return eventually(
    async () => {
      const run = await world.db.store.runs.get(runId);
      return run && !isRunActive(run.state) ? run : undefined;
    },
    timeoutMs,
    `run ${runId} to finish`,
  );
}

export function inState(
  world: RestateWorld,
  runId: string,
  state: WorkflowRun['state'],
  timeoutMs = 10_000,
): Promise<WorkflowRun> {
  return eventually(
    async () => {
      const run = await world.db.store.runs.get(runId);
      return run?.state === state ? run : undefined;
    },
    timeoutMs,
    `run ${runId} to be ${state}`,
  );
}

/** Counts side effects by key, as a step's external effect would be observed. */
export class Effects {
  private readonly counts = new Map<string, number>();
  hit(key: string): void {
    this.counts.set(key, this.count(key) + 1);
  }
  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  /** Resolves once `key` was hit at least `times` times. */
  reached(key: string, times = 1, timeoutMs = 10_000): Promise<true> {
    return eventually(
      () => (this.count(key) >= times ? true : undefined),
      timeoutMs,
      `${key} to run ${times}×`,
    );
  }
}

/** A latch a step can wait on, to hold a run mid-step. */
export class Gate {
  private open_!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.open_ = resolve));
  open(): void {
    this.open_();
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
