/**
 * Everything a database holds, read around the store with the engine's own driver: every row of
 * every table as JSON text, and for SQLite the bytes of the database file and its WAL. For tests
 * that prove what never reaches the disk (plaintext secrets): `dumpDatabase(url)` then search.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { parseDatabaseUrl } from '../create-store.js';

export interface DatabaseDump {
  /** Table name → every row of it as JSON. */
  readonly tables: ReadonlyMap<string, string>;
  /** SQLite only: the database file, `-wal` and `-shm` as read from disk; empty for PostgreSQL. */
  readonly files: Buffer;
}

export async function dumpDatabase(url: string): Promise<DatabaseDump> {
  const target = parseDatabaseUrl(url);
  if (target.kind === 'postgres') return { tables: await postgresTables(target.url), files: Buffer.alloc(0) };
  const tables = sqliteTables(target.filename);
  const files = ['', '-wal', '-shm']
    .map((suffix) => `${target.filename}${suffix}`)
    .filter((path) => existsSync(path))
    .map(readElsewhere);
  return { tables, files: Buffer.concat(files) };
}

/** Tables whose text contains `needle` (and `files` when the raw SQLite files do). */
export function whereFound(dump: DatabaseDump, needle: string): string[] {
  const found = [...dump.tables].filter(([, text]) => text.includes(needle)).map(([table]) => table);
  if (dump.files.includes(Buffer.from(needle, 'utf8'))) found.push('files');
  return found;
}

/**
 * A file's bytes, read by another process: closing a descriptor of a database file drops every
 * POSIX lock this process's SQLite connections hold on it, and a connection that lost its locks
 * can be left reading a WAL that another process deleted.
 */
function readElsewhere(path: string): Buffer {
  return execFileSync('cat', [path], { maxBuffer: 1 << 30 });
}

function sqliteTables(filename: string): Map<string, string> {
  const db = new BetterSqlite3(filename, { readonly: true, fileMustExist: true });
  try {
    const names = db
      .prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")
      .all() as { name: string }[];
    return new Map(
      names.map(({ name }) => [name, JSON.stringify(db.prepare(`select * from "${name}"`).all())]),
    );
  } finally {
    db.close();
  }
}

async function postgresTables(url: string): Promise<Map<string, string>> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    const names = await client.query<{ tablename: string }>(
      "select tablename from pg_tables where schemaname = 'public'",
    );
    const tables = new Map<string, string>();
    for (const { tablename } of names.rows) {
      const rows = await client.query(`select * from "${tablename}"`);
      tables.set(tablename, JSON.stringify(rows.rows));
    }
    return tables;
  } finally {
    await client.end();
  }
}
