/**
 * Test worlds for the embedded engine: the in-memory fake and real SQLite / PostgreSQL databases
 * (through the store's test helper), each able to open more engines — and more stores, as another
 * replica or a restarted process would — on the same data. Engines default to a 1 s lease (a
 * takeover after `close(0)` takes about that long) and a 50 ms poll. `embeddedTarget` offers a
 * world to the engine conformance suite; tests of what only this engine does use `inWorld`.
 */
import { randomUUID } from 'node:crypto';
import { silentLogger, type Logger } from '../../../domain/logger.js';
import { createStore } from '../../../store/create-store.js';
import type { Store } from '../../../store/store.js';
import { backends as storeBackends } from '../../../store/testing/test-databases.js';
import type { WorkflowDefinition } from '../../context.js';
import type { EngineTarget, EngineWorld } from '../../testing/engine-conformance.js';
import { createMemoryWorkflowStore } from '../../testing/memory-workflow-store.js';
import { EmbeddedWorkflowEngine } from '../embedded-engine.js';
import type { EmbeddedEngineOptions, EmbeddedStore } from '../options.js';

export interface TestWorld {
  readonly name: string;
  readonly store: EmbeddedStore;
  /** Another store on the same data (a second replica, or a restarted process). */
  openStore(): Promise<EmbeddedStore>;
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
    return { name: 'memory', store, openStore: async () => store, cleanup: async () => {} };
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

/** A world with an engine factory; every engine opened is closed (without grace) by `close`. */
async function openWorld(backend: WorldBackend): Promise<{
  world: TestWorld;
  engine: EngineFactory;
  close(): Promise<void>;
}> {
  const world = await backend.create();
  const engines: EmbeddedWorkflowEngine[] = [];
  const engine: EngineFactory = async (definitions, options = {}) => {
    const opened = openEngine(options.store ?? world.store, definitions, options);
    engines.push(opened);
    await opened.open();
    return opened;
  };
  const close = async (): Promise<void> => {
    await Promise.all(engines.map((e) => e.close(0)));
    await world.cleanup();
  };
  return { world, engine, close };
}

/**
 * Runs `body` in a fresh world (its own database) with an engine factory; every engine opened is
 * closed (without grace) and the world removed afterwards, whatever happens.
 */
export async function inWorld(
  backend: WorldBackend,
  body: (world: TestWorld, engine: EngineFactory) => Promise<void>,
): Promise<void> {
  const { world, engine, close } = await openWorld(backend);
  try {
    await body(world, engine);
  } finally {
    await close();
  }
}

/** The engine conformance suite's view of a backend: a restart opens another store and owner. */
export function embeddedTarget(backend: WorldBackend): EngineTarget {
  return {
    name: `embedded [${backend.name}]`,
    async world(): Promise<EngineWorld> {
      const { world, engine, close } = await openWorld(backend);
      return {
        engine: async (definitions, options = {}) => {
          const store = options.restartOf ? await world.openStore() : world.store;
          return engine(definitions, { store, ...(options.observer && { observer: options.observer }) });
        },
        cleanup: close,
      };
    },
  };
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

/** A start request for the embedded tests: a fresh run id, optionally named. */
export function startRequest(
  workflow: string,
  input: unknown = null,
  runId = `${workflow}-${randomUUID().slice(0, 8)}`,
) {
  return { runId, workflow, input, tags: { subject: `test:${runId}` } };
}
