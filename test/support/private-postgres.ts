/**
 * A private PostgreSQL server for tests that stop and start the database: its own cluster (initdb)
 * in a temporary directory on a free port, run as the `postgres` user (PostgreSQL refuses root).
 * Restarting the shared server on :5432 would break every other suite running at the same time;
 * this one belongs to the test alone.
 *
 * - `stop(mode)` — `pg_ctl stop -m fast` (clean) or `immediate` (a crash: recovery from WAL on start).
 * - `start()` — starts it again on the same port and data.
 * - `destroy()` — stops it and removes the directory. Idempotent.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createDatabase, databaseUrl } from '../../src/store/postgres/database-admin.js';
import { freePort } from './lessor-process.js';

const run = promisify(execFile);

export interface PrivatePostgres {
  readonly port: number;
  /** URL of a database created for the test (`lessor`). */
  readonly url: string;
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/** `/usr/lib/postgresql/<newest>/bin`, where Debian keeps initdb and pg_ctl. */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL under ${root}: run scripts/ensure-postgres.sh`);
  return join(root, versions[0]!, 'bin');
}

async function asPostgres(command: string, args: readonly string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  const [file, argv] = asRoot
    ? ['runuser', ['-u', 'postgres', '--', command, ...args]]
    : [command, [...args]];
  await run(file, argv, { timeout: 60_000 });
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir();
  const dir = await mkdtemp(join(tmpdir(), 'lessor-pg-'));
  const data = join(dir, 'data');
  const port = await freePort();
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c shared_buffers=16MB -c max_connections=60`;
  const pgCtl = (...args: string[]) => asPostgres(join(bin, 'pg_ctl'), ['-D', data, ...args]);
  let running = false;
  const start = async (): Promise<void> => {
    await pgCtl('-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start');
    running = true;
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => {
    if (!running) return;
    await pgCtl('-m', mode, '-w', '-t', '60', 'stop');
    running = false;
  };
  try {
    await asPostgres(join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'postgres',
      '-A',
      'trust',
      '--no-sync',
      '-E',
      'UTF8',
    ]);
    await start();
    const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
    await createDatabase(admin, 'lessor');
    return {
      port,
      url: databaseUrl(admin, 'lessor'),
      stop,
      start,
      destroy: async () => {
        await stop('immediate').catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stop('immediate').catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
