/**
 * A whole Lessor in this process for the CLI tests: the composition root (`startLessor`) over a
 * SQLite file in a temporary directory, the embedded engine, the controller, the callback
 * dispatcher and the real HTTP API (`createApiServer`), with the `fake` provider as the default
 * and the `process` provider registered (its tenants stay paused in these tests, so no process is
 * ever started). Tenants really move through their phases; every answer the CLI sees is the real
 * server's.
 *
 *   const lessor = await startTestLessor({ tokens: { admin: 'a-token', viewer: 'v-token' } });
 *   … runLessor(args, { env: { LESSOR_URL: lessor.url, LESSOR_TOKEN: 'a-token' } }) …
 *   await lessor.close();
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { hashToken } from '../../api/auth.js';
import { loadConfig } from '../../main/config/load-config.js';
import { startLessor, type LessorApp } from '../../main/lessor-app.js';
import { createLogger } from '../../main/logger.js';
import { freePort } from '../../main/testing/free-port.js';
import type { Store } from '../../store/store.js';

export interface TestLessorOptions {
  /** Bearer tokens by role; without any, every caller is an anonymous admin (loopback only). */
  readonly tokens?: Partial<Readonly<Record<'admin' | 'operator' | 'viewer', string>>>;
  /**
   * `LESSOR_*` settings over the file's, e.g. another database (`LESSOR_DATABASE__URL`) or engine
   * (`LESSOR_ENGINE__*`, as test/support/engines.ts gives them) for suites that run on the matrix.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** Receives every span as it ends (the SDK's in-memory exporter); turns tracing on. */
  readonly traceExporter?: SpanExporter;
  /**
   * Every background poll at this interval instead of its default: the engine's, the controller's
   * resync and drift passes, the webhook and callback dispatchers, the metrics refresh and the
   * event streams'. An hour leaves only the work that requests start (a count of the statements
   * one request costs); `env` still wins over it.
   */
  readonly backgroundIntervalMs?: number;
}

export interface TestLessor {
  readonly url: string;
  /** The server's own store: read what the API never shows (secret values, callback rows). */
  readonly store: Store;
  /** The running composition root (its controller, for a drift pass on demand). */
  readonly app: LessorApp;
  /**
   * Parks one delivered callback as dead, as the dispatcher does after its last failed attempt.
   * The embedded engine accepts every delivery, so the test writes the row's state directly.
   */
  parkDeadCallback(): Promise<string>;
  close(): Promise<void>;
}

export async function startTestLessor(options: TestLessorOptions = {}): Promise<TestLessor> {
  const dir = await mkdtemp(join(tmpdir(), 'lessor-cli-server-'));
  const database = join(dir, 'lessor.db');
  const tokens = Object.entries(options.tokens ?? {}).map(([role, token]) => ({
    name: `${role}-cli-test`,
    role,
    sha256: hashToken(token),
  }));
  const file = join(dir, 'lessor.yaml');
  const poll = options.backgroundIntervalMs;
  await writeFile(
    file,
    stringify({
      server: {
        host: '127.0.0.1',
        port: await freePort(),
        tokens,
        authFailureLimit: { perMinute: 0 },
        shutdownGraceMs: 2_000,
        ...(poll !== undefined && { metrics: { refreshIntervalMs: poll }, sse: { pollIntervalMs: poll } }),
      },
      database: { url: `sqlite:${database}` },
      engine: { type: 'embedded', embedded: { pollIntervalMs: poll ?? 100 } },
      ...(poll !== undefined && {
        controller: { resyncIntervalMs: poll, driftIntervalMs: poll },
        webhooks: { pollIntervalMs: poll },
        callbacks: { pollIntervalMs: poll },
      }),
      compute: { defaultProvider: 'fake', providers: { fake: { latencyMs: 0 }, process: {} } },
      log: { level: 'silent' },
      dataDir: join(dir, 'data'),
    }),
  );
  let app: LessorApp | undefined;
  try {
    const config = loadConfig({ cwd: dir, configFile: file, env: { ...options.env } });
    app = await startLessor(config, createLogger({ level: 'silent', format: 'json' }), {
      traceExporter: options.traceExporter,
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const started = app;
  return {
    url: started.url,
    store: started.store,
    app: started,
    parkDeadCallback: () => parkDeadCallback(database),
    close: async () => {
      await started.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function parkDeadCallback(file: string): Promise<string> {
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 10000');
    const row = db
      .prepare<[], { id: string }>("SELECT id FROM callbacks WHERE state = 'delivered' ORDER BY id LIMIT 1")
      .get();
    if (!row) throw new Error('no delivered callback to park: run a tenant first');
    db.prepare(
      "UPDATE callbacks SET state = 'dead', attempts = 8, last_error = 'refused by the engine' WHERE id = ?",
    ).run(row.id);
    return row.id;
  } finally {
    db.close();
  }
}
