/**
 * One Lessor deployment for a suite: a fresh database (SQLite file or a unique PostgreSQL database,
 * from the store's test helper), a workflow engine, a data directory, and one or more real server
 * processes sharing them. `close()` tears everything down in reverse order and never throws, so it
 * is safe in `after` hooks even when `before` failed half-way.
 *
 *   for (const { backend, engine, label } of matrix()) {
 *     describe(label, () => {
 *       let d: Deployment;
 *       before(async () => { d = await deploy({ backend, engine, providers: { fake: {} } }); });
 *       after(() => d?.close());
 *     });
 *   }
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LessorClient } from '../../src/api/client.js';
import type { Store } from '../../src/store/store.js';
import { backends, type TestBackend, type TestDatabase } from '../../src/store/testing/test-databases.js';
import { engines, type EngineSetup, type TestEngine } from './engines.js';
import { startLessorProcess, tail, type LessorProcess } from './lessor-process.js';

export interface DeployOptions {
  readonly backend: TestBackend;
  readonly engine: TestEngine;
  /** `compute.providers` blocks (the first one is the default provider unless env says otherwise). */
  readonly providers: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly env?: Readonly<Record<string, string>>;
  /** Number of server processes on the shared database (default 1). */
  readonly replicas?: number;
}

export interface Deployment {
  readonly db: TestDatabase;
  /** A store opened by the test on the same database: for invariants, never for writes. */
  readonly store: Store;
  readonly dataDir: string;
  readonly servers: readonly LessorProcess[];
  /** The first server. */
  readonly lessor: LessorProcess;
  readonly client: LessorClient;
  /** Starts one more server process on the same database and engine. */
  addServer(name: string): Promise<LessorProcess>;
  close(): Promise<void>;
}

export interface MatrixEntry {
  readonly backend: TestBackend;
  readonly engine: TestEngine;
  readonly label: string;
}

/**
 * The database × engine combinations the suites run on: the default engine on every database, other
 * engines on the first database only (their runs, journal and executions live in the same store, so
 * the store is not what they add). `LESSOR_TEST_FULL_MATRIX=1` runs every combination.
 */
export function matrix(): readonly MatrixEntry[] {
  const full = process.env.LESSOR_TEST_FULL_MATRIX === '1';
  return backends().flatMap((backend, b) =>
    engines()
      .filter((_, e) => full || e === 0 || b === 0)
      .map((engine) => ({ backend, engine, label: `[${backend.name}/${engine.name}]` })),
  );
}

/**
 * Runs a test body; when it fails, the error carries the tail of every server's log, so a failure
 * in CI explains itself.
 */
export async function withLogs<T>(deployment: Deployment | undefined, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (!deployment || !(error instanceof Error)) throw error;
    const logs = deployment.servers.map((s) => `==== ${s.name} ====\n${tail(s.logs(), 4_000)}`).join('\n');
    error.message = `${error.message}\n${logs}`;
    throw error;
  }
}

export async function deploy(options: DeployOptions): Promise<Deployment> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const dataDir = await mkdtemp(join(tmpdir(), 'lessor-e2e-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const db = await options.backend.create();
    cleanups.push(() => db.cleanup());
    const engine: EngineSetup = await options.engine.setup();
    cleanups.push(() => engine.cleanup());
    const defaultProvider = Object.keys(options.providers)[0] ?? 'fake';
    const servers: LessorProcess[] = [];
    const addServer = async (name: string): Promise<LessorProcess> => {
      const server = await startLessorProcess({
        databaseUrl: db.url,
        dataDir,
        providers: options.providers,
        name,
        env: { LESSOR_COMPUTE__DEFAULT_PROVIDER: defaultProvider, ...engine.env, ...options.env },
      });
      servers.push(server);
      cleanups.push(() => server.kill('SIGKILL'));
      return server;
    };
    for (let i = 0; i < (options.replicas ?? 1); i++)
      await addServer(`lessor-${String.fromCharCode(97 + i)}`);
    const first = servers[0]!;
    return { db, store: db.store, dataDir, servers, lessor: first, client: first.client, addServer, close };
  } catch (error) {
    await close();
    throw error;
  }
}
