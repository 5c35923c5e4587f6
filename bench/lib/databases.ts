/**
 * Fresh databases for bench runs: a SQLite file in the run's work directory, or a uniquely named
 * PostgreSQL database on the development server (LESSOR_TEST_PG_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres), dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createDatabase, databaseUrl, dropDatabase } from '../../src/store/postgres/database-admin.js';
import { DEFAULT_TEST_PG_URL } from '../../src/store/testing/test-databases.js';
import type { DbTarget } from './ready-watcher.js';

export type Backend = 'sqlite' | 'postgres';

export interface BenchDatabase {
  readonly backend: Backend;
  /** As `LESSOR_DATABASE__URL` takes it. */
  readonly url: string;
  readonly target: DbTarget;
  cleanup(): Promise<void>;
}

export async function createBenchDatabase(
  backend: Backend,
  workDir: string,
  label: string,
): Promise<BenchDatabase> {
  if (backend === 'sqlite') {
    const file = join(workDir, `${label}.db`);
    return { backend, url: `sqlite:${file}`, target: { kind: 'sqlite', file }, cleanup: async () => {} };
  }
  const adminUrl = process.env.LESSOR_TEST_PG_URL ?? DEFAULT_TEST_PG_URL;
  const name = `lessor_bench_${label.replace(/[^a-z0-9_]/g, '_')}_${randomBytes(3).toString('hex')}`;
  await createDatabase(adminUrl, name);
  const url = databaseUrl(adminUrl, name);
  return { backend, url, target: { kind: 'postgres', url }, cleanup: () => dropDatabase(adminUrl, name) };
}

/** Settings every bench server shares: the API rate limit off, logs at the default level. */
export function baseServerEnv(db: BenchDatabase, workDir: string): Record<string, string> {
  return {
    LESSOR_DATABASE__URL: db.url,
    LESSOR_DATA_DIR: workDir,
    LESSOR_SERVER__RATE_LIMIT__PER_MINUTE: '0',
  };
}

export function fakeProviderEnv(): Record<string, string> {
  return {
    LESSOR_COMPUTE__DEFAULT_PROVIDER: 'fake',
    LESSOR_COMPUTE__PROVIDERS__FAKE__LATENCY_MS: '0',
  };
}
