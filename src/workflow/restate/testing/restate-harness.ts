/**
 * A test world for the `restate` engine: one real restate-server and one real SQLite file store,
 * shared by the tests of a file; engines opened per test, each on its own Restate service name (so
 * tests never see each other's runs) unless a test reopens one (same name and port: a restarted
 * Lessor process). `restateTarget` offers such a world to the engine conformance suite.
 */
import { randomUUID } from 'node:crypto';
import { silentLogger, type Logger } from '../../../domain/logger.js';
import { sqliteBackend, type TestDatabase } from '../../../store/testing/test-databases.js';
import type { WorkflowDefinition } from '../../context.js';
import type { EngineTarget, EngineWorld } from '../../testing/engine-conformance.js';
import { createRestateEngine, type RestateEngine, type RestateEngineOptions } from '../index.js';
import { startRestateServer, type RestateServer, type RestateServerOptions } from './restate-server.js';

export type EngineOverrides = Partial<Omit<RestateEngineOptions, 'store' | 'definitions' | 'logger'>>;

export interface RestateWorld {
  readonly server: RestateServer;
  readonly db: TestDatabase;
  /** Opens an engine (closed without grace by `cleanup`); a fresh service name unless given. */
  engine(
    definitions: readonly WorkflowDefinition<never, unknown>[],
    overrides?: EngineOverrides,
  ): Promise<RestateEngine>;
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
    cleanup: async () => {
      await Promise.all(engines.map((e) => e.close(0)));
      await db.cleanup();
      await server.stop();
    },
  };
}

/** Where a restarted Lessor process serves `engine`'s runs: the same service name, URL and port. */
export function sameDeployment(engine: RestateEngine): EngineOverrides {
  return { serviceName: engine.serviceName, endpointPort: Number(new URL(engine.endpointUrl).port) };
}

/** The conformance suite's view: one server and store for the suite, a service name per engine. */
export function restateTarget(): EngineTarget {
  let shared: RestateWorld | undefined;
  return {
    name: 'restate',
    async setup() {
      shared = await createRestateWorld();
    },
    async teardown() {
      await shared?.cleanup();
    },
    async world(): Promise<EngineWorld> {
      const world = shared;
      if (!world) throw new Error('restateTarget: setup did not run');
      const engines: RestateEngine[] = [];
      return {
        engine: async (definitions, options = {}) => {
          const previous = engines.find((engine) => engine === options.restartOf);
          const engine = await world.engine(definitions, {
            ...(previous && sameDeployment(previous)),
            ...(options.observer && { observer: options.observer }),
          });
          engines.push(engine);
          return engine;
        },
        cleanup: async () => {
          await Promise.all(engines.map((e) => e.close(0)));
        },
      };
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
