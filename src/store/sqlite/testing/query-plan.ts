/**
 * Query plans of the SQL the store really runs, for tests that pin index use on SQLite (which keeps
 * no statistics here, so a plan is decided by the schema and the SQL text alone).
 */
import BetterSqlite3 from 'better-sqlite3';

/** The SQL texts better-sqlite3 is asked to prepare while `work` runs. */
export async function preparedDuring(work: () => Promise<unknown>): Promise<string[]> {
  const proto = BetterSqlite3.prototype as unknown as { prepare(sql: string): unknown };
  const prepare = proto.prepare;
  const seen: string[] = [];
  proto.prepare = function (this: unknown, sql: string) {
    seen.push(sql);
    return prepare.call(this, sql);
  };
  try {
    await work();
  } finally {
    proto.prepare = prepare;
  }
  return seen;
}

/** `explain query plan` of `sql` (parameters bound to null) on the database file, one line. */
export function planOf(file: string, sql: string): string {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    const params = Array.from(sql.matchAll(/\?/g), () => null);
    const rows = db.prepare(`explain query plan ${sql}`).all(...params) as { detail: string }[];
    return rows.map((row) => row.detail).join(' | ');
  } finally {
    db.close();
  }
}

type StatementMethod = (this: { source: string }, ...args: unknown[]) => unknown;

/** The SQL of every statement run (`run`, `all`, `get`, `iterate`) while `work` runs, in order. */
export async function executedDuring(work: () => Promise<unknown>): Promise<string[]> {
  const probe = new BetterSqlite3(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, StatementMethod>;
  probe.close();
  const methods = ['run', 'all', 'get', 'iterate'] as const;
  const originals = methods.map((method) => proto[method]!);
  const seen: string[] = [];
  methods.forEach((method, i) => {
    const original = originals[i]!;
    proto[method] = function (...args: unknown[]) {
      seen.push(this.source);
      return original.apply(this, args);
    };
  });
  try {
    await work();
  } finally {
    methods.forEach((method, i) => (proto[method] = originals[i]!));
  }
  return seen;
}
