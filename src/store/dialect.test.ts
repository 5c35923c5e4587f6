/**
 * Which driver errors mean "the database cannot serve now" (StoreUnavailableError, 503) — by
 * structured code, per dialect. Storage faults (disk full, read-only, I/O) are among them;
 * corruption and ordinary SQL errors are not.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postgresDialect, sqliteDialect, type SqlDialect } from './dialect.js';

const coded = (code: string) => Object.assign(new Error(code), { code });

const cases: readonly { reason: string; dialect: SqlDialect; error: unknown; unavailable: boolean }[] = [
  { reason: 'sqlite: disk full', dialect: sqliteDialect, error: coded('SQLITE_FULL'), unavailable: true },
  {
    reason: 'sqlite: read-only file',
    dialect: sqliteDialect,
    error: coded('SQLITE_READONLY'),
    unavailable: true,
  },
  {
    reason: 'sqlite: read-only, file moved',
    dialect: sqliteDialect,
    error: coded('SQLITE_READONLY_DBMOVED'),
    unavailable: true,
  },
  {
    reason: 'sqlite: write I/O error',
    dialect: sqliteDialect,
    error: coded('SQLITE_IOERR_WRITE'),
    unavailable: true,
  },
  {
    reason: 'sqlite: cannot open',
    dialect: sqliteDialect,
    error: coded('SQLITE_CANTOPEN'),
    unavailable: true,
  },
  { reason: 'sqlite: busy', dialect: sqliteDialect, error: coded('SQLITE_BUSY'), unavailable: true },
  {
    reason: 'sqlite: out of memory',
    dialect: sqliteDialect,
    error: coded('SQLITE_NOMEM'),
    unavailable: true,
  },
  {
    reason: 'sqlite: corrupt file is not retryable',
    dialect: sqliteDialect,
    error: coded('SQLITE_CORRUPT'),
    unavailable: false,
  },
  {
    reason: 'sqlite: not a database',
    dialect: sqliteDialect,
    error: coded('SQLITE_NOTADB'),
    unavailable: false,
  },
  {
    reason: 'sqlite: a constraint',
    dialect: sqliteDialect,
    error: coded('SQLITE_CONSTRAINT_UNIQUE'),
    unavailable: false,
  },
  { reason: 'sqlite: SQL error', dialect: sqliteDialect, error: coded('SQLITE_ERROR'), unavailable: false },
  { reason: 'sqlite: no code', dialect: sqliteDialect, error: new Error('x'), unavailable: false },
  { reason: 'pg: disk full (53100)', dialect: postgresDialect, error: coded('53100'), unavailable: true },
  { reason: 'pg: out of memory (53200)', dialect: postgresDialect, error: coded('53200'), unavailable: true },
  { reason: 'pg: I/O error (58030)', dialect: postgresDialect, error: coded('58030'), unavailable: true },
  {
    reason: 'pg: read-only transaction (25006)',
    dialect: postgresDialect,
    error: coded('25006'),
    unavailable: true,
  },
  {
    reason: 'pg: admin shutdown (57P01)',
    dialect: postgresDialect,
    error: coded('57P01'),
    unavailable: true,
  },
  {
    reason: 'pg: connection failure (08006)',
    dialect: postgresDialect,
    error: coded('08006'),
    unavailable: true,
  },
  { reason: 'pg: refused socket', dialect: postgresDialect, error: coded('ECONNREFUSED'), unavailable: true },
  {
    reason: 'pg: dropped connection (no code)',
    dialect: postgresDialect,
    error: new Error('x'),
    unavailable: true,
  },
  {
    reason: 'pg: data corrupted (XX001)',
    dialect: postgresDialect,
    error: coded('XX001'),
    unavailable: false,
  },
  {
    reason: 'pg: other transaction state (25P02)',
    dialect: postgresDialect,
    error: coded('25P02'),
    unavailable: false,
  },
  { reason: 'pg: unique violation', dialect: postgresDialect, error: coded('23505'), unavailable: false },
  { reason: 'pg: syntax error', dialect: postgresDialect, error: coded('42601'), unavailable: false },
];

for (const c of cases) {
  test(`isUnavailable — ${c.reason}: ${c.unavailable}`, () => {
    assert.equal(c.dialect.isUnavailable(c.error), c.unavailable);
  });
}
