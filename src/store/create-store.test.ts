/** Database URL parsing: which engine and which file a configured URL means. */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { ValidationError } from '../domain/errors.js';
import { parseDatabaseUrl, type DatabaseTarget } from './create-store.js';

const cases: readonly { reason: string; url: string; dataDir?: string; expect: DatabaseTarget }[] = [
  {
    reason: 'relative sqlite path resolves against the working directory',
    url: 'sqlite:./data/lessor.db',
    expect: { kind: 'sqlite', filename: resolve('data/lessor.db') },
  },
  {
    reason: 'relative sqlite path resolves against dataDir when given',
    url: 'sqlite:lessor.db',
    dataDir: '/var/lib/lessor',
    expect: { kind: 'sqlite', filename: '/var/lib/lessor/lessor.db' },
  },
  {
    reason: 'absolute sqlite path',
    url: 'sqlite:/tmp/x.db',
    expect: { kind: 'sqlite', filename: '/tmp/x.db' },
  },
  { reason: 'sqlite:/// form', url: 'sqlite:///tmp/x.db', expect: { kind: 'sqlite', filename: '/tmp/x.db' } },
  { reason: 'in-memory sqlite', url: 'sqlite::memory:', expect: { kind: 'sqlite', filename: ':memory:' } },
  {
    reason: 'postgres url is passed through',
    url: 'postgres://u@h:5432/db',
    expect: { kind: 'postgres', url: 'postgres://u@h:5432/db' },
  },
  {
    reason: 'postgresql scheme too',
    url: 'postgresql://u@h/db',
    expect: { kind: 'postgres', url: 'postgresql://u@h/db' },
  },
];

for (const { reason, url, dataDir, expect } of cases) {
  test(`parseDatabaseUrl: ${reason}`, () => assert.deepEqual(parseDatabaseUrl(url, dataDir), expect));
}

test('unknown schemes are a ValidationError that does not echo the password', () => {
  assert.throws(
    () => parseDatabaseUrl('mysql://user:secret@host/db'),
    (error: unknown) => error instanceof ValidationError && !error.message.includes('secret'),
  );
  assert.throws(() => parseDatabaseUrl('sqlite:'), ValidationError);
});
