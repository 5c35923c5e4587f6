/**
 * Creating and dropping whole databases through an admin connection (tests, `lessor` tooling).
 * Names are restricted to `[a-z0-9_]` because they are interpolated as identifiers.
 */
import pg from 'pg';

const SAFE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function assertSafe(name: string): void {
  if (!SAFE_NAME.test(name)) throw new Error(`unsafe database name '${name}'`);
}

async function withClient<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createDatabase(adminUrl: string, name: string): Promise<void> {
  assertSafe(name);
  await withClient(adminUrl, (c) => c.query(`create database "${name}"`));
}

const TERMINATE =
  'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()';

/** Ends every session connected to database `name` (what a server restart does to clients). */
export async function terminateConnections(adminUrl: string, name: string): Promise<void> {
  await withClient(adminUrl, (c) => c.query(TERMINATE, [name]));
}

/**
 * Makes database `name` refuse writes (SQLSTATE 25006), as a standby or a full-disk guard would, or
 * accept them again; sessions are ended so that their replacements get the setting.
 */
export async function setDatabaseReadOnly(adminUrl: string, name: string, readOnly: boolean): Promise<void> {
  assertSafe(name);
  await withClient(adminUrl, async (c) => {
    await c.query(`alter database "${name}" set default_transaction_read_only = ${readOnly ? 'on' : 'off'}`);
    await c.query(TERMINATE, [name]);
  });
}

/** Drops the database even while clients are connected (they are terminated first). */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  assertSafe(name);
  await withClient(adminUrl, async (c) => {
    await c.query(TERMINATE, [name]);
    await c.query(`drop database if exists "${name}"`);
  });
}

/** `url` with its database name replaced by `name`. */
export function databaseUrl(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}
