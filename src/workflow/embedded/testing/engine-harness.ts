/**
 * Test worlds for the embedded engine: the in-memory fake and real SQLite / PostgreSQL databases
 * (through the store's test helper), each able to open more engines — and more stores, as another
 * replica or a restarted process would — on the same data. Engines default to a 1 s lease (a
 * takeover after `close(0)` takes about that long) and a 50 ms poll.
 */
import { randomUUID } from 'node:crypto';
import { silentLogger, type Logger } from '../../../domain/logger.js';
import { isRunActive, type WorkflowRun } from '../../../domain/workflow-run.js';
import { createStore } from '../../../store/create-store.js';
import type { Store } from '../../../store/store.js';
import { backends as storeBackends } from '../../../store/testing/test-databases.js';
import type { WorkflowContext, WorkflowDefinition } from '../../context.js';
import type { StartRunRequest } from '../../engine.js';
import { createMemoryWorkflowStore } from '../../testing/memory-workflow-store.js';
import { EmbeddedWorkflowEngine } from '../embedded-engine.js';
import type { EmbeddedEngineOptions, EmbeddedStore } from '../options.js';

export interface TestWorld {
  readonly name: string;
  readonly store: EmbeddedStore;
  /** A tenant the runs may belong to (real databases enforce the foreign key). */
  newTenant(): Promise<string>;
  /** Another store on the same data (a second replica, or a restarted process). */
  openStore(): Promise<EmbeddedStore>;
  /** `data` of the tenant's RunStateChanged events, oldest first. */
  runEvents(tenantId: string): Promise<readonly Record<string, unknown>[]>;
  cleanup(): Promise<void>;
}

export interface WorldBackend {
  readonly name: string;
  create(): Promise<TestWorld>;
}

const memoryBackend: WorldBackend = {
  name: 'memory',
  async create() {
    const store = createMemoryWorkflowStore();
    const runEvents = async (tenantId: string) =>
      store.events
        .filter((e) => e.tenantId === tenantId && e.type === 'RunStateChanged')
        .map((e) => ({ ...e.data }));
    return {
      name: 'memory',
      store,
      newTenant: async () => randomUUID(),
      openStore: async () => store,
      runEvents,
      cleanup: async () => {},
    };
  },
};

/** memory, then each real database the store's helper offers (LESSOR_TEST_BACKENDS narrows it). */
export function worldBackends(options: { memory?: boolean } = {}): readonly WorldBackend[] {
  const real = storeBackends().map((backend): WorldBackend => ({
    name: backend.name,
    async create() {
      const db = await backend.create();
      const extra: Store[] = [];
      return {
        name: backend.name,
        store: db.store,
        newTenant: async () => {
          const name = `t-${randomUUID().slice(0, 8)}`;
          const spec = {
            provider: 'fake',
            config: {},
            labels: {},
            annotations: {},
            retryPolicy: null,
            paused: false,
          };
          return (await db.store.tenants.create({ name, spec, actor: 'test' })).id;
        },
        runEvents: async (tenantId: string) => {
          const events = await db.store.events.listByTenant(tenantId, { limit: 1000 });
          return events.filter((e) => e.type === 'RunStateChanged').map((e) => ({ ...e.data }));
        },
        openStore: async () => {
          // One process holds one SQLite connection: a second one in the same process would block
          // the event loop on the file lock (better-sqlite3 is synchronous). Processes: see the kill test.
          if (backend.name === 'sqlite') return db.store;
          const store = await createStore({ url: db.url });
          extra.push(store);
          return store;
        },
        cleanup: async () => {
          await Promise.all(extra.map((s) => s.close()));
          await db.cleanup();
        },
      };
    },
  }));
  return options.memory === false ? real : [memoryBackend, ...real];
}

export type EngineFactory = (
  definitions: readonly WorkflowDefinition<never, unknown>[],
  options?: Partial<EmbeddedEngineOptions>,
) => Promise<EmbeddedWorkflowEngine>;

/**
 * Runs `body` in a fresh world (its own database) with an engine factory; every engine opened is
 * closed (without grace) and the world removed afterwards, whatever happens.
 */
export async function inWorld(
  backend: WorldBackend,
  body: (world: TestWorld, engine: EngineFactory) => Promise<void>,
): Promise<void> {
  const world = await backend.create();
  const engines: EmbeddedWorkflowEngine[] = [];
  const factory: EngineFactory = async (definitions, options = {}) => {
    const engine = openEngine(options.store ?? world.store, definitions, options);
    engines.push(engine);
    await engine.open();
    return engine;
  };
  try {
    await body(world, factory);
  } finally {
    await Promise.all(engines.map((e) => e.close(0)));
    await world.cleanup();
  }
}

/** A definition from a function (tests use `provision`, `update` and `delete`). */
export function define(
  name: 'provision' | 'update' | 'delete',
  run: (ctx: WorkflowContext, input: unknown) => Promise<unknown>,
): WorkflowDefinition<never, unknown> {
  return { name, run };
}

/** Warnings and errors to stderr, one line each (set LESSOR_TEST_LOG=1 to see what the engine says). */
function consoleLogger(bindings: Record<string, unknown> = {}): Logger {
  const at = (level: string) => (obj: object | string, msg?: string) =>
    console.error(
      JSON.stringify({
        t: Date.now() % 100_000,
        level,
        ...bindings,
        ...(typeof obj === 'string' ? { msg: obj } : { ...obj, msg }),
      }),
    );
  const skip = () => {};
  return {
    debug: skip,
    info: skip,
    warn: at('warn'),
    error: at('error'),
    child: (more) => consoleLogger({ ...bindings, ...more }),
  };
}

export function openEngine(
  store: EmbeddedStore,
  definitions: readonly WorkflowDefinition<never, unknown>[],
  options: Partial<EmbeddedEngineOptions> = {},
): EmbeddedWorkflowEngine {
  return new EmbeddedWorkflowEngine({
    store,
    definitions,
    ownerId: `owner-${randomUUID().slice(0, 8)}`,
    logger: process.env.LESSOR_TEST_LOG ? consoleLogger() : silentLogger,
    leaseMs: 1000,
    pollIntervalMs: 50,
    ...options,
  });
}

export function startRequest(
  tenantId: string,
  input: unknown = null,
  action: 'provision' | 'update' | 'delete' = 'provision',
): StartRunRequest {
  return {
    runId: `${tenantId}:${action}:g1`,
    workflow: action,
    input,
    tenantId,
    action,
    triggerSource: 'api',
    generation: 1,
    configHash: 'hash',
  };
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function finished(store: EmbeddedStore, runId: string, timeoutMs = 5000): Promise<WorkflowRun> {
  return eventually(
    async () => {
      const run = await store.runs.get(runId);
      return run && !isRunActive(run.state) ? run : undefined;
    },
    timeoutMs,
    `run ${runId} to finish`,
  );
}

export function inState(
  store: EmbeddedStore,
  runId: string,
  state: WorkflowRun['state'],
  timeoutMs = 5000,
): Promise<WorkflowRun> {
  return eventually(
    async () => {
      const run = await store.runs.get(runId);
      return run?.state === state ? run : undefined;
    },
    timeoutMs,
    `run ${runId} to be ${state}`,
  );
}

/** The tenant's RunStateChanged event data once there are `count` of them (the event follows the state write). */
export function runEvents(
  world: TestWorld,
  tenantId: string,
  count: number,
): Promise<readonly Record<string, unknown>[]> {
  return eventually(
    async () => {
      const events = await world.runEvents(tenantId);
      return events.length >= count ? events : undefined;
    },
    5000,
    `${count} RunStateChanged events`,
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
}

/** A latch a step can wait on, to hold a run mid-step. */
export class Gate {
  private open_!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.open_ = resolve));
  open(): void {
    this.open_();
  }
}
