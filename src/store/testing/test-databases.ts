/**
 * Real databases for tests, one per backend: no mocks (CONTRIBUTING.md, "Writing tests"). Usage:
 *
 *   for (const backend of backends()) {
 *     describe(`[${backend.name}] my thing`, () => {
 *       let db: TestDatabase;
 *       before(async () => { db = await backend.create(); });
 *       after(() => db.cleanup());
 *       test(`[${backend.name}] does it`, async () => { await db.store.tenants.create(…); });
 *     });
 *   }
 *
 * - sqlite: a real file in a fresh temp directory (WAL, as in production), removed by cleanup.
 * - postgres: a fresh, uniquely named database on `postgres://postgres@127.0.0.1:5432/postgres`
 *   (override the admin URL with LESSOR_TEST_PG_URL), dropped by cleanup (connections terminated).
 * The returned store is migrated. `url` opens more stores on the same database (other replicas,
 * a restarted process). LESSOR_TEST_BACKENDS=sqlite (or postgres) narrows `backends()`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../domain/logger.js';
import { createStore } from '../create-store.js';
import { createDatabase, databaseUrl, dropDatabase } from '../postgres/database-admin.js';
import type { DialectName, Store } from '../store.js';

export interface TestDatabase {
  readonly store: Store;
  /** Database URL as `createStore` takes it. */
  readonly url: string;
  /** Closes the store and removes the database. Idempotent. */
  cleanup(): Promise<void>;
}

export interface TestBackend {
  readonly name: DialectName;
  create(options?: { logger?: Logger; migrate?: boolean }): Promise<TestDatabase>;
}

export const DEFAULT_TEST_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

function uniqueName(): string {
  return `lessor_test_${process.pid}_${randomBytes(5).toString('hex')}`;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

async function open(url: string, options: { logger?: Logger; migrate?: boolean }): Promise<Store> {
  const store = await createStore({ url, ...(options.logger && { logger: options.logger }) });
  if (options.migrate !== false) await store.migrate();
  return store;
}

export const sqliteBackend: TestBackend = {
  name: 'sqlite',
  async create(options = {}) {
    const dir = await mkdtemp(join(tmpdir(), 'lessor-test-'));
    const url = `sqlite:${join(dir, `${uniqueName()}.db`)}`;
    const store = await open(url, options);
    const cleanup = once(async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });
    return { store, url, cleanup };
  },
};

export const postgresBackend: TestBackend = {
  name: 'postgres',
  async create(options = {}) {
    const adminUrl = process.env.LESSOR_TEST_PG_URL ?? DEFAULT_TEST_PG_URL;
    const name = uniqueName();
    await createDatabase(adminUrl, name);
    const url = databaseUrl(adminUrl, name);
    const store = await open(url, options);
    const cleanup = once(async () => {
      await store.close();
      await dropDatabase(adminUrl, name);
    });
    return { store, url, cleanup };
  },
};

/** The backends to run against: both by default, or those listed in LESSOR_TEST_BACKENDS. */
export function backends(): readonly TestBackend[] {
  const all = [sqliteBackend, postgresBackend];
  const wanted = process.env.LESSOR_TEST_BACKENDS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return wanted && wanted.length > 0 ? all.filter((b) => wanted.includes(b.name)) : all;
}
